package dsm

import (
	"context"
	"fmt"
	"strings"
)

// HomeService turns DSM's user home service on and off: a home folder
// for every user in the shared folder "homes" (SYNO.Core.User.Home).
type HomeService struct {
	c *Client
}

// HomeSettings is the state of the user home service.
type HomeSettings struct {
	Enabled bool `json:"enabled"`
	// Location is the volume of the homes shared folder, such as
	// /volume1; DSM keeps it while the service is off.
	Location   string `json:"location"`
	RecycleBin bool   `json:"recycle_bin"`
}

// homeWire is the answer of get (batonogov user_home.go, DSM 7.2.2 and
// 7.3.2 on hardware).
type homeWire struct {
	Enable           flexBool `json:"enable"`
	Location         string   `json:"location"`
	EnableRecycleBin flexBool `json:"enable_recycle_bin"`
}

// Get returns the state of the home service.
//
// DSM: SYNO.Core.User.Home get.
func (s *HomeService) Get(ctx context.Context) (HomeSettings, error) {
	var d homeWire
	if err := s.c.do(ctx, newRead("SYNO.Core.User.Home", "get", Params{"additional": []string{"personal_photo_enable"}}, &d)); err != nil {
		return HomeSettings{}, err
	}
	return HomeSettings{Enabled: bool(d.Enable), Location: d.Location, RecycleBin: bool(d.EnableRecycleBin)}, nil
}

// Enable turns the home service on, with the homes folder on the volume
// at location (such as /volume1). DSM may do it as a task: the returned
// task is nil when it was done at once; otherwise Wait for it.
//
// DSM: SYNO.Core.User.Home set.
func (s *HomeService) Enable(ctx context.Context, location string, recycleBin bool) (*HomeTask, error) {
	if err := ValidateVolume(location); err != nil {
		return nil, argError("enable the home service", err)
	}
	return s.set(ctx, Params{"enable": true, "location": location, "enable_recycle_bin": recycleBin})
}

// Disable turns the home service off. The homes folder and its data stay.
//
// DSM: SYNO.Core.User.Home set.
func (s *HomeService) Disable(ctx context.Context) (*HomeTask, error) {
	// On disable the location is left out: extra fields there get 3103
	// (batonogov user_home.go).
	return s.set(ctx, Params{"enable": false})
}

func (s *HomeService) set(ctx context.Context, p Params) (*HomeTask, error) {
	var d struct {
		TaskID string `json:"task_id"`
	}
	// Setting the same state again is harmless: safe to repeat.
	if err := s.c.do(ctx, newSafeChange("SYNO.Core.User.Home", "set", p, &d)); err != nil {
		return nil, err
	}
	if d.TaskID == "" {
		return nil, nil
	}
	return &HomeTask{ID: d.TaskID, s: s}, nil
}

// HomeTask is the task a physical NAS may start to turn the home service
// on or off (batonogov user_home.go).
type HomeTask struct {
	// ID is DSM's task id.
	ID string

	s *HomeService
}

// HomeTask returns a handle on a task of Enable or Disable from its
// saved id.
func (s *HomeService) HomeTask(id string) (*HomeTask, error) {
	if strings.TrimSpace(id) == "" {
		return nil, argErrorf("home service task", "the task id is empty")
	}
	return &HomeTask{ID: id, s: s}, nil
}

// Finished asks DSM whether the task is done.
//
// DSM: SYNO.Core.User.Home status.
func (t *HomeTask) Finished(ctx context.Context) (bool, error) {
	var d struct {
		Finish flexBool `json:"finish"`
	}
	if err := t.s.c.do(ctx, newRead("SYNO.Core.User.Home", "status", Params{"task_id": t.ID}, &d)); err != nil {
		return false, err
	}
	return bool(d.Finish), nil
}

// Wait polls the task, as GroupTask.Wait does (a growing interval on the
// client's clock), until it is done or ctx ends.
//
// DSM: SYNO.Core.User.Home status.
func (t *HomeTask) Wait(ctx context.Context) error {
	status := func(ctx context.Context) (bool, error) {
		done, err := t.Finished(ctx)
		if err != nil {
			return false, fmt.Errorf("dsm: home service task %s: %w", t.ID, err)
		}
		return done, nil
	}
	_, err := pollTask(ctx, t.s.c, status, func(done bool) bool { return done }, nil)
	return err
}

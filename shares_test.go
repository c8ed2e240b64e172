package dsm_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

func TestE2EShares(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	c := srv.Client()
	ctx := t.Context()

	created, err := c.Shares.Create(ctx, dsm.ShareCreateRequest{Name: "projects", Volume: "/volume2", Description: "Projects", RecycleBin: true})
	if err != nil {
		t.Fatal(err)
	}
	want := dsm.Share{Name: "projects", Volume: "/volume2", Path: "/volume2/projects", Description: "Projects", RecycleBin: true}
	if d := cmp.Diff(want, created, cmpopts.IgnoreFields(dsm.Share{}, "UUID")); d != "" || created.UUID == "" {
		t.Errorf("created (-want +got):\n%s (uuid %q)", d, created.UUID)
	}
	all, err := c.Shares.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sh := range all {
		names = append(names, sh.Name)
	}
	// The simulator's seed: homes (the home service is on), public, finance.
	if d := cmp.Diff([]string{"finance", "homes", "projects", "public"}, names); d != "" {
		t.Errorf("list (-want +got):\n%s", d)
	}
	if _, err := c.Shares.Create(ctx, dsm.ShareCreateRequest{Name: "Projects", Volume: "/volume1"}); !errors.Is(err, dsm.ErrShareExists) {
		t.Errorf("create of a taken name: %v, want ErrShareExists", err)
	}
	if _, err := c.Shares.Create(ctx, dsm.ShareCreateRequest{Name: "x", Volume: "volume1"}); !errors.Is(err, dsm.ErrInvalidArgument) {
		t.Errorf("create on a bare volume name: %v, want refused before sending", err)
	}
	if err := c.Shares.Delete(ctx, "projects"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Shares.Get(ctx, "projects")
	var nf *dsm.NotFoundError
	if !errors.Is(err, dsm.ErrNoSuchShare) || !errors.As(err, &nf) {
		t.Errorf("get after delete: %v, want a *NotFoundError matching ErrNoSuchShare", err)
	}
}

// Overlapping shared-folder changes are refused by DSM with 3328 (3300
// while a delete settles); both match ErrBusy.
func TestE2EShareBusy(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithShareChangeTime(time.Hour))
	c := newClient(t, srv, dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}),
		dsm.WithRetry(dsm.RetryPolicy{MaxAttempts: 1}))
	ctx := t.Context()
	if _, err := c.Shares.Create(ctx, dsm.ShareCreateRequest{Name: "a", Volume: "/volume1"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Shares.Create(ctx, dsm.ShareCreateRequest{Name: "b", Volume: "/volume1"})
	var ae *dsm.APIError
	if !errors.As(err, &ae) || ae.Code != 3328 || !errors.Is(err, dsm.ErrBusy) {
		t.Fatalf("overlapping create: %v, want 3328 matching ErrBusy", err)
	}
	srv.Advance(time.Hour)
	if err := c.Shares.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Shares.Create(ctx, dsm.ShareCreateRequest{Name: "b", Volume: "/volume1"})
	if !errors.As(err, &ae) || ae.Code != 3300 || !errors.Is(err, dsm.ErrBusy) {
		t.Fatalf("create while a delete settles: %v, want 3300 matching ErrBusy", err)
	}
	srv.Advance(time.Hour)
	if _, err := c.Shares.Create(ctx, dsm.ShareCreateRequest{Name: "b", Volume: "/volume1"}); err != nil {
		t.Errorf("create once settled: %v", err)
	}
}

func TestE2EHome(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithHomeServiceOff(), dsmtest.WithHomeTaskDelay(time.Hour))
	c := srv.Client()
	ctx := t.Context()
	if h, err := c.Home.Get(ctx); err != nil || h.Enabled {
		t.Fatalf("home service at start: %+v %v, want off", h, err)
	}
	task, err := c.Home.Enable(ctx, "/volume2", true)
	if err != nil {
		t.Fatal(err)
	}
	if task == nil {
		t.Fatal("no task: the simulator runs enabling as a task")
	}
	if done, err := task.Finished(ctx); err != nil || done {
		t.Fatalf("task finished at once: %v %v", done, err)
	}
	if _, err := c.Shares.Get(ctx, "homes"); !errors.Is(err, dsm.ErrNoSuchShare) {
		t.Errorf("homes before the task is done: %v, want none yet", err)
	}
	srv.Advance(time.Hour)
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := c.Home.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(dsm.HomeSettings{Enabled: true, Location: "/volume2", RecycleBin: true}, h); d != "" {
		t.Errorf("after enable (-want +got):\n%s", d)
	}
	if sh, err := c.Shares.Get(ctx, "homes"); err != nil || sh.Volume != "/volume2" {
		t.Errorf("homes after enable: %+v %v, want it on /volume2", sh, err)
	}
	if _, err := c.Home.Disable(ctx); err != nil {
		t.Fatal(err)
	}
	if h, _ := c.Home.Get(ctx); h.Enabled || h.Location != "/volume2" {
		t.Errorf("after disable: %+v, want off, the location kept", h)
	}

	// DSM's codes for the location, as a raw call sees them.
	for _, tt := range []struct {
		p    dsm.Params
		code int
	}{
		{dsm.Params{"enable": true, "location": "volume1"}, 3101},
		{dsm.Params{"enable": true}, 3103},
		{dsm.Params{"enable": false, "location": "/volume1"}, 3103},
	} {
		err := c.Call(ctx, "SYNO.Core.User.Home", "set", tt.p, nil)
		var ae *dsm.APIError
		if !errors.As(err, &ae) || ae.Code != tt.code {
			t.Errorf("set %v: %v, want code %d", tt.p, err, tt.code)
		}
	}
	if _, err := c.Home.Enable(ctx, "volume1", false); !errors.Is(err, dsm.ErrInvalidArgument) {
		t.Errorf("Enable(volume1): %v, want refused before sending", err)
	}
}

// A NAS that turns the service on at once (a virtual DSM) answers no
// task: Enable returns none, and homes is there.
func TestE2EHomeWithoutTask(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithHomeServiceOff(), dsmtest.WithHomeTaskDelay(-1))
	c := srv.Client()
	ctx := t.Context()
	task, err := c.Home.Enable(ctx, "/volume1", false)
	if err != nil || task != nil {
		t.Fatalf("Enable: task %v, %v; want no task", task, err)
	}
	if sh, err := c.Shares.Get(ctx, "homes"); err != nil || sh.Path != "/volume1/homes" {
		t.Errorf("homes: %+v %v", sh, err)
	}
}

package dsm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// GroupTask is a membership change queued by DSM (SYNO.Core.User.Group
// join): the groups change when the task finishes.
type GroupTask struct {
	// ID is DSM's task id, such as "@administrators/groupbatch1737238746C6723E33".
	ID string
	// User is the user whose groups change.
	User string
	// Join and Leave are the groups asked for.
	Join, Leave []string

	s *UsersService
}

// TaskStatus is the state of a GroupTask.
type TaskStatus struct {
	// Finished is true once DSM has done the task.
	Finished bool
	// Success is DSM's verdict once finished.
	Success bool
	// Progress of Total steps.
	Progress, Total int
}

// GroupTask returns a handle on a task that JoinGroups started earlier,
// from its saved id. The groups of join and leave, when given, are
// checked after Wait as for the task JoinGroups returns; without them
// Wait only waits.
func (s *UsersService) GroupTask(id, user string, join, leave []string) (*GroupTask, error) {
	if strings.TrimSpace(id) == "" {
		return nil, argErrorf("group task", "the task id is empty")
	}
	if err := ValidateUserName(user); err != nil {
		return nil, argError(fmt.Sprintf("group task %s", id), err)
	}
	return &GroupTask{ID: id, User: user, Join: slices.Clone(join), Leave: slices.Clone(leave), s: s}, nil
}

// Status asks DSM how far the task is.
//
// DSM: SYNO.Core.User.Group join_status.
func (t *GroupTask) Status(ctx context.Context) (TaskStatus, error) {
	var d struct {
		Finish  flexBool `json:"finish"`
		Success flexBool `json:"success"`
		Data    struct {
			Progress flexInt `json:"progress"`
			Total    flexInt `json:"total"`
		} `json:"data"`
	}
	if err := t.s.c.do(ctx, newRead("SYNO.Core.User.Group", "join_status", Params{"task_id": t.ID}, &d)); err != nil {
		return TaskStatus{}, err
	}
	return TaskStatus{Finished: bool(d.Finish), Success: bool(d.Success), Progress: int(d.Data.Progress), Total: int(d.Data.Total)}, nil
}

// Wait polls the task, with a growing interval, until it finishes or ctx
// ends. It then reads the user's groups back and returns a
// *MembershipError when they do not show the change: DSM is known to
// report success for membership writes that did not apply.
//
// DSM: SYNO.Core.User.Group join_status, then SYNO.Core.User get.
func (t *GroupTask) Wait(ctx context.Context) (TaskStatus, error) {
	return t.WaitProgress(ctx, nil)
}

// WaitProgress is Wait that calls progress, when not nil, with each
// status DSM reports, the last (finished) one included, so that a program
// can show how far the task is without polling it itself. The waits
// between polls follow the client's clock.
//
// DSM: SYNO.Core.User.Group join_status, then SYNO.Core.User get.
func (t *GroupTask) WaitProgress(ctx context.Context, progress func(TaskStatus)) (TaskStatus, error) {
	st, err := pollTask(ctx, t.s.c, t.Status, func(st TaskStatus) bool { return st.Finished }, progress)
	if err != nil {
		return st, err
	}
	if !st.Success {
		return st, fmt.Errorf("dsm: changing the groups of %s: DSM reports the task failed", t.User)
	}
	return st, t.verify(ctx)
}

// pollTask reads a task's status until finished says it is done or a
// read fails, calling progress (when not nil) with each status, the last
// included, and waiting between reads, on c's clock, an interval that
// starts at taskPollStart and doubles up to taskPollMax. It returns the
// last status read.
func pollTask[S any](ctx context.Context, c *Client, status func(context.Context) (S, error), finished func(S) bool, progress func(S)) (S, error) {
	delay := taskPollStart
	for {
		st, err := status(ctx)
		if err != nil {
			return st, err
		}
		if progress != nil {
			progress(st)
		}
		if finished(st) {
			return st, nil
		}
		if err := c.sleepUntil(ctx, c.now().Add(delay)); err != nil {
			return st, err
		}
		delay = min(delay*2, taskPollMax)
	}
}

// The polling interval of WaitProgress (and of the import's, which DSM's
// dialog polls every 5 s: a second suits the simulator and costs a NAS
// little): it starts short, as DSM finishes most membership tasks within
// a second, and doubles up to a second.
const (
	taskPollStart = 20 * time.Millisecond
	taskPollMax   = time.Second
)

func (t *GroupTask) verify(ctx context.Context) error {
	u, err := t.s.Get(ctx, t.User, FieldGroups)
	if err != nil {
		return fmt.Errorf("dsm: reading back the groups of %s: %w", t.User, err)
	}
	in := map[string]bool{}
	for _, g := range u.Groups {
		in[strings.ToLower(g)] = true
	}
	me := &MembershipError{User: t.User}
	for _, g := range t.Join {
		if !in[strings.ToLower(g)] {
			me.NotAdded = append(me.NotAdded, g)
		}
	}
	for _, g := range t.Leave {
		if in[strings.ToLower(g)] {
			me.NotRemoved = append(me.NotRemoved, g)
		}
	}
	if len(me.NotAdded) > 0 || len(me.NotRemoved) > 0 {
		return me
	}
	return nil
}

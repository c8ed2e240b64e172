package manifest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/dsmkit/dsm"
)

// DefaultParallel is how many changes Apply makes at once by default.
const DefaultParallel = 4

// ApplyOptions change what Apply does.
type ApplyOptions struct {
	// Parallel is how many changes run at once; 0 means DefaultParallel.
	Parallel int
	// RecordPassword receives each generated password before its user is
	// created, so that an interruption never loses one; when it fails the
	// user is not created. Nil: the passwords are in Result.Passwords.
	RecordPassword func(user, password string) error
	// CreateDone, when set, is called after the create of each user whose
	// generated password went to RecordPassword, with the create's error:
	// nil when DSM created the user with that password. The record can
	// then say whether the password is in use. Like RecordPassword, it is
	// called from the changes running at once.
	CreateDone func(user string, err error)
	// Progress, when set, is called after each item (a settings section,
	// a group, a user with all its steps), one call at a time.
	Progress func(Progress)
}

// Progress is how far Apply is.
type Progress struct {
	// Done items of Total, Failed of them failed.
	Done, Failed, Total int
	// Item is the item just finished, such as "user alice".
	Item string
	// Err is its failure, or nil.
	Err error
}

// Failure is an item that Apply could not finish.
type Failure struct {
	// Item is "user NAME", "group NAME", "password_policy",
	// "password_expiry", "home_service", "shared folder NAME", "user NAME
	// profile" or "group NAME profile".
	Item   string `json:"item"`
	Action Action `json:"action,omitempty"`
	// Step is the step that failed: create, update, join, delete,
	// set or password.
	Step string `json:"step"`
	// Reason is Err's message.
	Reason string `json:"reason"`
	Err    error  `json:"-"`
}

// GeneratedPassword is the first password Apply made up for a new user.
type GeneratedPassword struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// Result is what Apply did.
type Result struct {
	// Total items, of which Succeeded succeeded.
	Total     int       `json:"total"`
	Succeeded int       `json:"succeeded"`
	Failures  []Failure `json:"failures"`
	// Passwords holds the generated passwords when
	// ApplyOptions.RecordPassword is nil.
	Passwords []GeneratedPassword `json:"passwords,omitempty"`
}

// OK reports whether every item succeeded.
func (r *Result) OK() bool { return len(r.Failures) == 0 && r.Succeeded == r.Total }

// stepError is a failed step of an item.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// job is one item of the plan.
type job struct {
	item   string
	action Action
	run    func(ctx context.Context) error // a *stepError on failure
}

// applier runs a plan's jobs and keeps the result.
type applier struct {
	c    *dsm.Client
	opts ApplyOptions

	mu     sync.Mutex
	res    Result
	failed map[string]bool // groups that could not be made, by fold(name)
}

// Apply makes the changes of p through c: the settings first, then the
// home service and the shared folders to create, then the groups that
// are created or changed, then each user's steps in order (create,
// update, join its groups), then each user's and group's rights, quotas,
// application rules and speed limits (one compound request each), then
// the deletions of users and of groups. Up to Parallel items run at once; a failure does not stop the
// others and is listed in the Result. The error is not nil only when ctx
// ends before all is done; the Result then tells what was.
//
// DSM: SYNO.Core.User.PasswordPolicy set, SYNO.Core.User.PasswordExpiry
// set, the security section's set calls (SYNO.Core.Security.AutoBlock.Rules
// create/delete, SYNO.Core.Security.AutoBlock set, SYNO.Core.SmartBlock set,
// SYNO.Core.OTP.EnforcePolicy set), SYNO.Core.Group create/set/delete,
// SYNO.Core.User create/set/delete, SYNO.Core.User.Group join and
// join_status, SYNO.Core.User.Home set, SYNO.Core.Share create,
// SYNO.Entry.Request (see dsm.UsersService.SetProfile).
func (p *Plan) Apply(ctx context.Context, c *dsm.Client, opts ApplyOptions) (*Result, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = DefaultParallel
	}
	a := &applier{c: c, opts: opts, failed: map[string]bool{}}
	a.res.Failures = []Failure{}
	a.res.Total = p.Items()

	var settings, groups, users, userDeletes, groupDeletes []job
	if p.policy {
		pol := p.settings.Policy
		settings = append(settings, job{item: "password_policy", action: ActionUpdate, run: func(ctx context.Context) error {
			return step("set", c.Policy.SetPasswordPolicy(ctx, pol))
		}})
	}
	if p.expiry {
		exp := p.settings.Expiry
		settings = append(settings, job{item: "password_expiry", action: ActionUpdate, run: func(ctx context.Context) error {
			return step("set", c.Policy.SetPasswordExpiry(ctx, exp, nil))
		}})
	}
	settings = append(settings, p.securityJobs(c)...)
	for _, g := range p.Groups {
		j := a.groupJob(g)
		if g.Action == ActionDelete {
			groupDeletes = append(groupDeletes, j)
		} else {
			groups = append(groups, j)
		}
	}
	for _, u := range p.Users {
		j := a.userJob(u, p.settings.Policy)
		if u.Action == ActionDelete {
			userDeletes = append(userDeletes, j)
		} else {
			users = append(users, j)
		}
	}
	setup, profiles := a.onboardJobs(p)
	for _, phase := range [][]job{settings, setup, groups, users, profiles, userDeletes, groupDeletes} {
		if err := a.run(ctx, phase); err != nil {
			return &a.res, err
		}
	}
	return &a.res, nil
}

// step wraps the error of a step, or returns nil.
func step(name string, err error) error {
	if err == nil {
		return nil
	}
	return &stepError{step: name, err: err}
}

// run runs jobs, opts.Parallel at a time, and records their outcome. It
// returns ctx's error when ctx ended before every job started.
func (a *applier) run(ctx context.Context, jobs []job) error {
	if len(jobs) == 0 {
		return nil
	}
	work := make(chan job)
	var wg sync.WaitGroup
	for range min(a.opts.Parallel, len(jobs)) {
		wg.Go(func() {
			for j := range work {
				a.done(j, j.run(ctx))
			}
		})
	}
	var err error
feed:
	for _, j := range jobs {
		select {
		case work <- j:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// done records the outcome of a job and reports progress.
func (a *applier) done(j job, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err == nil {
		a.res.Succeeded++
	} else {
		f := Failure{Item: j.item, Action: j.action, Step: "", Reason: err.Error(), Err: err}
		var se *stepError
		if errors.As(err, &se) {
			f.Step, f.Reason, f.Err = se.step, se.err.Error(), se.err
		}
		a.res.Failures = append(a.res.Failures, f)
	}
	if a.opts.Progress != nil {
		a.opts.Progress(Progress{Done: a.res.Succeeded + len(a.res.Failures), Failed: len(a.res.Failures), Total: a.res.Total, Item: j.item, Err: err})
	}
}

func (a *applier) groupJob(g GroupChange) job {
	j := job{item: "group " + g.Name, action: g.Action}
	c := a.c
	switch g.Action {
	case ActionCreate:
		j.run = func(ctx context.Context) error {
			_, err := c.Groups.Create(ctx, dsm.GroupCreateRequest{Name: g.Name, Description: deref(g.description)})
			if err != nil {
				a.mu.Lock()
				a.failed[fold(g.Name)] = true
				a.mu.Unlock()
			}
			return step("create", err)
		}
	case ActionUpdate:
		j.run = func(ctx context.Context) error {
			_, err := c.Groups.Update(ctx, g.Name, dsm.GroupUpdateRequest{Description: g.description})
			return step("update", err)
		}
	case ActionDelete:
		j.run = func(ctx context.Context) error { return step("delete", c.Groups.Delete(ctx, g.Name)) }
	}
	return j
}

func (a *applier) userJob(u UserChange, policy dsm.PasswordPolicy) job {
	j := job{item: "user " + u.Name, action: u.Action}
	c := a.c
	if u.Action == ActionDelete {
		j.run = func(ctx context.Context) error { return step("delete", c.Users.Delete(ctx, u.Name)) }
		return j
	}
	j.run = func(ctx context.Context) error {
		pw := u.secret
		if u.generate {
			var err error
			if pw, err = policy.Generate(u.Name); err != nil {
				return step("password", err)
			}
			if a.opts.RecordPassword != nil {
				if err := a.opts.RecordPassword(u.Name, pw); err != nil {
					return step("password", fmt.Errorf("recording the generated password: %w", err))
				}
			} else {
				a.mu.Lock()
				a.res.Passwords = append(a.res.Passwords, GeneratedPassword{User: u.Name, Password: pw})
				a.mu.Unlock()
			}
		}
		if u.Action == ActionCreate {
			r := *u.create
			r.Password = pw
			_, err := c.Users.Create(ctx, r)
			if u.generate && a.opts.RecordPassword != nil && a.opts.CreateDone != nil {
				a.opts.CreateDone(u.Name, err)
			}
			if err != nil {
				return step("create", err)
			}
		} else {
			r := u.update
			if pw != "" {
				r.Password = &pw
			}
			if r != (dsm.UserUpdateRequest{}) {
				if _, err := c.Users.Update(ctx, u.Name, r); err != nil {
					return step("update", err)
				}
			}
		}
		if len(u.Join) == 0 && len(u.Leave) == 0 {
			return nil
		}
		a.mu.Lock()
		missing := slices.IndexFunc(u.Join, func(g string) bool { return a.failed[fold(g)] })
		a.mu.Unlock()
		if missing >= 0 {
			return step("join", fmt.Errorf("group %s could not be created", u.Join[missing]))
		}
		task, err := c.Users.JoinGroups(ctx, u.Name, u.Join, u.Leave)
		if err != nil {
			return step("join", err)
		}
		if _, err := task.Wait(ctx); err != nil {
			return step("join", err)
		}
		return nil
	}
	return j
}

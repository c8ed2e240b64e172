package manifest

import (
	"context"

	"github.com/dsmkit/dsm"
)

// onboardJobs are the jobs of the home service and the shared folders
// (setup, before the groups and users, whose rights may name the
// folders) and of the profiles (after the users and groups they change
// exist). Each profile is one compound request, as DSM's own dialog
// applies a user's tabs (dsm.UsersService.SetProfile); every call of it
// is a set, so an interrupted apply is finished by planning and applying
// again: what was done plans as no change.
func (a *applier) onboardJobs(p *Plan) (setup, profiles []job) {
	c := a.c
	if h := p.Home; h != nil {
		want := h.want
		setup = append(setup, job{item: "home_service", action: ActionUpdate, run: func(ctx context.Context) error {
			var task *dsm.HomeTask
			var err error
			if want.Enabled {
				task, err = c.Home.Enable(ctx, want.Location, want.RecycleBin)
			} else {
				task, err = c.Home.Disable(ctx)
			}
			if err != nil {
				return step("set", err)
			}
			if task != nil {
				return step("set", task.Wait(ctx))
			}
			return nil
		}})
	}
	for _, s := range p.Shares {
		req := s.req
		setup = append(setup, job{item: "shared folder " + s.Name, action: ActionCreate, run: func(ctx context.Context) error {
			_, err := c.Shares.Create(ctx, req)
			return step("create", err)
		}})
	}
	for _, pc := range p.Profiles {
		who, ch := pc.who, pc.change
		profiles = append(profiles, job{item: pc.Principal + " profile", action: ActionUpdate, run: func(ctx context.Context) error {
			return step("set", c.Users.SetProfile(ctx, who, ch))
		}})
	}
	return setup, profiles
}

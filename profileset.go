package dsm

import (
	"context"
	"errors"
	"fmt"
)

// ProfileChange is what SetProfile changes of a user or a group: only
// what it names; every other row, quota, rule and limit stays as it is.
type ProfileChange struct {
	// Rights are rows on shared folders (Share, Right, Custom; Principal
	// is ignored): RightNone removes the own row.
	Rights []RightChange
	// Quotas are set as by QuotasService.Set.
	Quotas []Quota
	// Apps are rules set as by AppsService.SetRules.
	Apps []AppRule
	// AppDefaults are applications whose rule is removed, as by
	// AppsService.Default.
	AppDefaults []string
	// Speed are limits set as by SpeedService.Set.
	Speed []SpeedLimit
}

// Empty reports whether ch changes nothing.
func (ch ProfileChange) Empty() bool {
	return len(ch.Rights) == 0 && len(ch.Quotas) == 0 && len(ch.Apps) == 0 && len(ch.AppDefaults) == 0 && len(ch.Speed) == 0
}

// SetProfile makes the changes of ch to a user or a group in one
// compound request, as DSM's own user and group dialogs apply their tabs
// together (DSM 6.2.3 admin_center.js, serializeApplyData): the rights,
// the quotas, the application rules and the speed limits, in that order,
// stopping at the first call DSM refuses. Every call is a set DSM may
// repeat without harm, so an interrupted SetProfile is finished by
// calling it again. Every part is checked before any call, as by the
// service that sets it alone. The error of the call that failed is
// returned (an *APIError; a missing user or group matches ErrNoSuchUser
// or ErrNoSuchGroup where DSM's code says so).
//
// DSM: SYNO.Entry.Request request of SYNO.Core.Share.Permission
// set_by_user_group, SYNO.Core.Quota set, SYNO.Core.AppPriv.Rule set and
// delete, SYNO.Core.BandwidthControl set (v1).
func (s *UsersService) SetProfile(ctx context.Context, p Principal, ch ProfileChange) error {
	if err := p.validate(); err != nil {
		return argError("set profile", err)
	}
	if ch.Empty() {
		return argErrorf(fmt.Sprintf("set profile of %s", p), "no change given")
	}
	var reqs []*request
	add := func(r *request, err error) error {
		if err == nil {
			reqs = append(reqs, r)
		}
		return err
	}
	var errs []error
	if len(ch.Rights) > 0 {
		errs = append(errs, add(setForChanges(p, ch.Rights)))
	}
	if len(ch.Quotas) > 0 {
		errs = append(errs, add(quotaSetRequest(p, ch.Quotas)))
	}
	if len(ch.Apps) > 0 {
		errs = append(errs, add(rulesSetRequest(p, ch.Apps)))
	}
	if len(ch.AppDefaults) > 0 {
		errs = append(errs, add(rulesDeleteRequest(p, ch.AppDefaults)))
	}
	if len(ch.Speed) > 0 {
		errs = append(errs, add(speedSetRequest(p, ch.Speed)))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	calls := make([]*BatchCall, len(reqs))
	for i, r := range reqs {
		calls[i] = &BatchCall{API: r.api, Method: r.method, Version: r.version, Params: r.params}
	}
	err := s.c.Batch(ctx, BatchOptions{StopOnError: true}, calls...)
	var be *BatchError
	if errors.As(err, &be) {
		for _, c := range be.Failed {
			if !errors.Is(c.Err, ErrNotRun) {
				return noSuchPrincipal(p, c.Err)
			}
		}
	}
	return err
}

package manifest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/dsmkit/dsm"
)

// ProfileChange changes the rights, quotas, application rules and speed
// limits of one user or group, applied in one compound request
// (dsm.UsersService.SetProfile).
type ProfileChange struct {
	// Principal is "user NAME" or "group NAME".
	Principal string   `json:"principal"`
	Line      int      `json:"line,omitempty"`
	Changes   []Change `json:"changes"`

	who    dsm.Principal
	change dsm.ProfileChange
}

// ShareChange creates a shared folder the file says must exist.
type ShareChange struct {
	Action  Action   `json:"action"`
	Name    string   `json:"name"`
	Line    int      `json:"line,omitempty"`
	Changes []Change `json:"changes"`

	req dsm.ShareCreateRequest
}

// HomeChange turns the home service on or off or moves it.
type HomeChange struct {
	Line    int      `json:"line,omitempty"`
	Changes []Change `json:"changes"`

	want dsm.HomeSettings
}

// principalState is what a user or group has, as Plan read it.
type principalState struct {
	rights map[string]dsm.Permission // by fold(share)
	quotas []dsm.Quota
	rules  []dsm.AppRule
	speed  []dsm.SpeedLimit
	// unavailable says, by API, why a part could not be read (see
	// dsm.UserProfile.Unavailable).
	unavailable map[string]error
}

// onboardNAS is what Plan reads of the NAS for onboarding.
type onboardNAS struct {
	shares   map[string]dsm.Share // by fold(name)
	home     *dsm.HomeSettings
	apps     []dsm.App
	profiles map[string]*principalState // by principalKey
}

func principalKey(p dsm.Principal) string { return p.String() + "\x00" + fold(p.Name) }

// readOnboard reads what the file's onboarding keys need: the shared
// folders, the home service, the application catalogue, and the state of
// each user and group the file gives a profile that the NAS has (all of
// them when all is set, for Export). A user's state is one compound
// request (dsm.UsersService.Profile), a group's four calls.
func readOnboard(ctx context.Context, c *dsm.Client, n *nas, f *File, all bool) error {
	o := &onboardNAS{shares: map[string]dsm.Share{}, profiles: map[string]*principalState{}}
	n.onboard = o
	var users, groups []string
	if all {
		for _, u := range n.users {
			users = append(users, u.Name)
		}
		for _, g := range n.groups {
			groups = append(groups, g.Name)
		}
	} else {
		for _, u := range f.Users {
			if _, ok := n.users[fold(u.Name)]; ok && u.Profile != nil {
				users = append(users, n.users[fold(u.Name)].Name)
			}
		}
		for _, g := range f.Groups {
			if _, ok := n.groups[fold(g.Name)]; ok && g.Profile != nil {
				groups = append(groups, n.groups[fold(g.Name)].Name)
			}
		}
	}
	if !all && len(users) == 0 && len(groups) == 0 && f.HomeService == nil && len(f.Shares) == 0 && !f.hasProfiles() {
		return nil
	}
	shares, err := c.Shares.List(ctx)
	if err != nil {
		return fmt.Errorf("manifest: reading the shared folders: %w", err)
	}
	for _, s := range shares {
		o.shares[fold(s.Name)] = s
	}
	if all || f.HomeService != nil {
		h, err := c.Home.Get(ctx)
		if err != nil {
			return fmt.Errorf("manifest: reading the home service: %w", err)
		}
		o.home = &h
	}
	if all || f.hasApps() {
		if o.apps, err = c.Apps.List(ctx); err != nil {
			return fmt.Errorf("manifest: reading the applications: %w", err)
		}
	}
	slices.SortFunc(users, cmpFold)
	slices.SortFunc(groups, cmpFold)
	type read struct {
		key string
		st  *principalState
		err error
	}
	// Up to readParallel users and groups are read at once (a choice, as
	// Apply's DefaultParallel): an export of a large NAS is one request
	// per user. The first error (in name order) is returned.
	jobs := make([]func() read, 0, len(users)+len(groups))
	for _, name := range users {
		jobs = append(jobs, func() read {
			p, err := c.Users.Profile(ctx, name)
			if err != nil {
				return read{err: fmt.Errorf("manifest: reading the profile of user %s: %w", name, err)}
			}
			st := newState(p.Shares, p.Quotas, p.Apps, p.Speed)
			st.unavailable = p.Unavailable
			return read{key: principalKey(dsm.UserPrincipal(name)), st: st}
		})
	}
	for _, name := range groups {
		jobs = append(jobs, func() read {
			st, err := readGroupState(ctx, c, name)
			return read{key: principalKey(dsm.GroupPrincipal(name)), st: st, err: err}
		})
	}
	results := make([]read, len(jobs))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(readParallel, len(jobs)) {
		wg.Go(func() {
			for i := range work {
				results[i] = jobs[i]()
			}
		})
	}
	for i := range jobs {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, r := range results {
		if r.err != nil {
			return r.err
		}
		o.profiles[r.key] = r.st
	}
	return nil
}

// readParallel is how many users and groups readOnboard reads at once.
const readParallel = DefaultParallel

// readGroupState reads a group's rights, quotas, rules and limits: four
// calls (DSM's group dialog has no compound read known to the sources).
func readGroupState(ctx context.Context, c *dsm.Client, name string) (*principalState, error) {
	gp := dsm.GroupPrincipal(name)
	rows, err := c.Permissions.List(ctx, gp)
	if err != nil {
		return nil, fmt.Errorf("manifest: reading the rights of group %s: %w", name, err)
	}
	// As for a user's profile, a part the NAS does not serve is
	// unavailable rather than an error.
	unavailable := map[string]error{}
	part := func(api, what string, err error) error {
		if errors.Is(err, dsm.ErrUnsupported) {
			unavailable[api] = err
			return nil
		}
		if err != nil {
			return fmt.Errorf("manifest: reading the %s of group %s: %w", what, name, err)
		}
		return nil
	}
	q, err := c.Quotas.Get(ctx, gp)
	if err := part("SYNO.Core.Quota", "quotas", err); err != nil {
		return nil, err
	}
	r, err := c.Apps.Rules(ctx, gp)
	if err := part("SYNO.Core.AppPriv.Rule", "application rules", err); err != nil {
		return nil, err
	}
	l, err := c.Speed.Get(ctx, gp)
	if err := part("SYNO.Core.BandwidthControl", "speed limits", err); err != nil {
		return nil, err
	}
	st := newState(rows, q, r, l)
	st.unavailable = unavailable
	return st, nil
}

func newState(rows []dsm.Permission, q []dsm.Quota, r []dsm.AppRule, l []dsm.SpeedLimit) *principalState {
	st := &principalState{rights: map[string]dsm.Permission{}, quotas: q, rules: r, speed: l}
	for _, row := range rows {
		st.rights[fold(row.Share)] = row
	}
	return st
}

func (f *File) hasProfiles() bool {
	return slices.ContainsFunc(f.Users, func(u User) bool { return u.Profile != nil }) ||
		slices.ContainsFunc(f.Groups, func(g Group) bool { return g.Profile != nil })
}

func (f *File) hasApps() bool {
	has := func(p *Profile) bool { return p != nil && p.appsSet }
	return slices.ContainsFunc(f.Users, func(u User) bool { return has(u.Profile) }) ||
		slices.ContainsFunc(f.Groups, func(g Group) bool { return has(g.Profile) })
}

// onboardEmpty reports whether the plan changes nothing of onboarding.
func (p *Plan) onboardEmpty() bool {
	return p.Home == nil && len(p.Shares) == 0 && len(p.Profiles) == 0
}

// onboardCounts are the shared folders to create and the home service
// and profiles to change.
func (p *Plan) onboardCounts() (create, update int) {
	update = len(p.Profiles)
	if p.Home != nil {
		update++
	}
	return len(p.Shares), update
}

// Items returns how many items Apply makes: each settings section,
// group, user, shared folder, profile and the home service.
func (p *Plan) Items() int {
	c, u := p.onboardCounts()
	return len(p.Settings) + len(p.Groups) + len(p.Users) + c + u
}

// rightWord is a right as the file writes it.
func rightWord(r dsm.Right) string {
	if r == dsm.RightNone {
		return "default"
	}
	return r.String()
}

// limitWord is a quota as the file writes it.
func limitWord(b dsm.Bytes) string {
	if b == 0 {
		return "none"
	}
	return b.String()
}

// ruleWord is an application rule as the file writes it.
func ruleWord(allow, deny []string, ok bool) string {
	switch {
	case !ok:
		return "default"
	case len(deny) == 0 && slices.Equal(allow, []string{dsm.AllAddresses}):
		return "allow"
	case len(allow) == 0 && slices.Equal(deny, []string{dsm.AllAddresses}):
		return "deny"
	}
	var parts []string
	if len(allow) > 0 {
		parts = append(parts, "allow_from "+strings.Join(allow, ","))
	}
	if len(deny) > 0 {
		parts = append(parts, "deny_from "+strings.Join(deny, ","))
	}
	return strings.Join(parts, " ")
}

// speedWord is a speed limit as the file writes it.
func speedWord(l dsm.SpeedLimit) string {
	switch l.Policy {
	case dsm.SpeedDisabled:
		return "off"
	case dsm.SpeedEnabled:
		return fmt.Sprintf("upload %d download %d", l.Upload, l.Download)
	case dsm.SpeedScheduled:
		return fmt.Sprintf("upload %d download %d upload2 %d download2 %d schedule %s", l.Upload, l.Download, l.Upload2, l.Download2, l.Schedule)
	}
	return "none"
}

// sameSpeed reports whether the NAS's limit is the file's.
func sameSpeed(cur, want dsm.SpeedLimit) bool {
	if cur.Policy != want.Policy {
		return false
	}
	switch want.Policy {
	case dsm.SpeedEnabled:
		return cur.Upload == want.Upload && cur.Download == want.Download
	case dsm.SpeedScheduled:
		return cur.Upload == want.Upload && cur.Download == want.Download && cur.Upload2 == want.Upload2 &&
			cur.Download2 == want.Download2 && cur.Schedule == want.Schedule
	}
	return true
}

func sortedAddrs(l []string) []string {
	out := make([]string, len(l))
	for i, a := range l {
		out[i] = normalAddress(a)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// planOnboard adds the changes of the home service, the shared folders
// and the profiles to plan. groupsInFile are the groups the file
// describes.
func (f *File) planOnboard(n *nas, plan *Plan, opts PlanOptions, probs *problems) {
	o := n.onboard
	if o == nil {
		o = &onboardNAS{shares: map[string]dsm.Share{}, profiles: map[string]*principalState{}}
	}
	if h := f.HomeService; h != nil && o.home != nil {
		cur := *o.home
		want := cur
		want.Enabled = h.Enabled
		if h.Location != "" {
			want.Location = h.Location
		}
		if h.RecycleBin != nil {
			want.RecycleBin = *h.RecycleBin
		}
		hc := &HomeChange{Line: h.Line, want: want}
		if want.Enabled != cur.Enabled {
			hc.Changes = append(hc.Changes, Change{"enabled", strconv.FormatBool(cur.Enabled), strconv.FormatBool(want.Enabled)})
		}
		if want.Enabled {
			if want.Location != cur.Location {
				hc.Changes = append(hc.Changes, Change{"location", cur.Location, want.Location})
			}
			if want.RecycleBin != cur.RecycleBin {
				hc.Changes = append(hc.Changes, Change{"recycle_bin", strconv.FormatBool(cur.RecycleBin), strconv.FormatBool(want.RecycleBin)})
			}
		}
		if len(hc.Changes) > 0 {
			plan.Home = hc
		}
	}
	willExist := map[string]string{} // fold(name) -> name, of the folders there after apply
	for k, s := range o.shares {
		willExist[k] = s.Name
	}
	for _, s := range f.Shares {
		cur, ok := o.shares[fold(s.Name)]
		if !ok {
			r := dsm.ShareCreateRequest{Name: s.Name, Volume: s.Volume, Description: deref(s.Description), Hidden: deref(s.Hidden), RecycleBin: deref(s.RecycleBin)}
			sc := ShareChange{Action: ActionCreate, Name: s.Name, Line: s.Line, req: r, Changes: []Change{{Field: "volume", New: s.Volume}}}
			if r.Description != "" {
				sc.Changes = append(sc.Changes, Change{Field: "description", New: r.Description})
			}
			sc.Changes = append(sc.Changes, Change{Field: "hidden", New: strconv.FormatBool(r.Hidden)}, Change{Field: "recycle_bin", New: strconv.FormatBool(r.RecycleBin)})
			plan.Shares = append(plan.Shares, sc)
			willExist[fold(s.Name)] = s.Name
			continue
		}
		// The library has no call that changes a folder: a folder that
		// differs is a problem to settle in DSM or in the file, a choice.
		var diffs []string
		if s.Volume != cur.Volume {
			diffs = append(diffs, fmt.Sprintf("volume %s", cur.Volume))
		}
		if s.Description != nil && *s.Description != cur.Description {
			diffs = append(diffs, fmt.Sprintf("description %q", cur.Description))
		}
		if s.Hidden != nil && *s.Hidden != cur.Hidden {
			diffs = append(diffs, fmt.Sprintf("hidden %t", cur.Hidden))
		}
		if s.RecycleBin != nil && *s.RecycleBin != cur.RecycleBin {
			diffs = append(diffs, fmt.Sprintf("recycle_bin %t", cur.RecycleBin))
		}
		if len(diffs) > 0 {
			probs.add(s.Line, "", "shared folder %s exists with %s; an existing folder is not changed from the file: change it in DSM or write what it has", s.Name, strings.Join(diffs, ", "))
		}
	}
	for _, g := range f.Groups {
		if g.Profile != nil {
			f.planProfile(dsm.GroupPrincipal(g.Name), n, g.Profile, g.Line, willExist, plan, opts, probs)
		}
	}
	for _, u := range f.Users {
		if u.Profile != nil {
			f.planProfile(dsm.UserPrincipal(u.Name), n, u.Profile, u.Line, willExist, plan, opts, probs)
		}
	}
}

// planProfile adds the change of one user's or group's profile.
func (f *File) planProfile(who dsm.Principal, n *nas, prof *Profile, line int, willExist map[string]string, plan *Plan, opts PlanOptions, probs *problems) {
	o := n.onboard
	if who.Group {
		if g, ok := n.groups[fold(who.Name)]; ok {
			who.Name = g.Name
		}
	} else if u, ok := n.users[fold(who.Name)]; ok {
		who.Name = u.Name
	}
	st := o.profiles[principalKey(who)]
	if st == nil {
		st = &principalState{rights: map[string]dsm.Permission{}} // created by the plan
	}
	pc := ProfileChange{Principal: who.String(), Line: line, who: who}
	ch := &pc.change
	bad := func(l int, format string, args ...any) {
		probs.add(l, "", who.String()+": "+format, args...)
	}
	for _, part := range []struct {
		api, what string
		given     bool
	}{
		{"SYNO.Core.Quota", "quota", len(prof.Quotas) > 0},
		{"SYNO.Core.AppPriv.Rule", "apps", len(prof.Apps) > 0},
		{"SYNO.Core.BandwidthControl", "speed", len(prof.Speed) > 0},
	} {
		if err := st.unavailable[part.api]; err != nil && part.given {
			bad(prof.lines[part.what], "%s cannot be read from this NAS (%v); take it out of the file", part.what, err)
			return
		}
	}
	// Rights.
	named := map[string]bool{}
	for _, r := range prof.Shares {
		name, ok := willExist[fold(r.Share)]
		if !ok {
			bad(r.Line, "shared folder %s is neither on the NAS nor in shares", r.Share)
			continue
		}
		if who.Group && fold(who.Name) == fold(dsm.GroupAdministrators) && r.Right != dsm.RightReadWrite {
			bad(r.Line, "the administrators group always has read/write on every shared folder; DSM does not let it be changed")
			continue
		}
		named[fold(name)] = true
		cur := st.rights[fold(name)]
		if cur.Right == r.Right {
			continue
		}
		ch.Rights = append(ch.Rights, dsm.RightChange{Share: name, Right: r.Right, Custom: cur.Custom})
		pc.Changes = append(pc.Changes, Change{"share " + name, rightWord(cur.Right), rightWord(r.Right)})
	}
	if opts.Prune && prof.sharesSet {
		var extra []dsm.Permission
		for k, row := range st.rights {
			if !named[k] && row.Right != dsm.RightNone {
				extra = append(extra, row)
			}
		}
		slices.SortFunc(extra, func(a, b dsm.Permission) int { return cmpFold(a.Share, b.Share) })
		for _, row := range extra {
			ch.Rights = append(ch.Rights, dsm.RightChange{Share: row.Share, Right: dsm.RightNone, Custom: row.Custom})
			pc.Changes = append(pc.Changes, Change{"share " + row.Share, rightWord(row.Right), rightWord(dsm.RightNone)})
		}
	}
	// Quotas. What SYNO.Core.Quota get answered tells how each volume
	// keeps them: per shared folder (rows with a share, Btrfs) or for
	// the whole volume (ext4); DSM refuses the other kind (the
	// simulator's 120, a choice), so the file is told here.
	perShare := map[string]bool{}
	perVolume := map[string]bool{}
	for _, c := range st.quotas {
		if c.Share != "" {
			perShare[c.Volume] = true
		} else {
			perVolume[c.Volume] = true
		}
	}
	for _, q := range prof.Quotas {
		if q.Volume != "" && perShare[q.Volume] {
			bad(q.Line, "volume %s keeps quotas per shared folder; give them as share:NAME", q.Volume)
			continue
		}
		if q.Share != "" {
			if sh, ok := o.shares[fold(q.Share)]; ok && perVolume[sh.Volume] {
				bad(q.Line, "shared folder %s is on %s, which keeps one quota for the whole volume; give %s", sh.Name, sh.Volume, sh.Volume)
				continue
			}
		}
		var cur dsm.Bytes
		want := dsm.Quota{Volume: q.Volume, Limit: q.Limit}
		if q.Share != "" {
			name, ok := willExist[fold(q.Share)]
			if !ok {
				bad(q.Line, "the quota's shared folder %s is neither on the NAS nor in shares", q.Share)
				continue
			}
			want = dsm.Quota{Share: name, Limit: q.Limit}
			if i := slices.IndexFunc(st.quotas, func(c dsm.Quota) bool { return fold(c.Share) == fold(name) }); i >= 0 {
				cur = st.quotas[i].Limit
			}
		} else if i := slices.IndexFunc(st.quotas, func(c dsm.Quota) bool { return c.Share == "" && c.Volume == q.Volume }); i >= 0 {
			cur = st.quotas[i].Limit
		}
		if cur == q.Limit {
			continue
		}
		ch.Quotas = append(ch.Quotas, want)
		pc.Changes = append(pc.Changes, Change{"quota " + q.key(), limitWord(cur), limitWord(q.Limit)})
	}
	// Application rules.
	namedApps := map[string]bool{}
	for _, a := range prof.Apps {
		i := slices.IndexFunc(o.apps, func(c dsm.App) bool { return strings.EqualFold(c.ID, a.App) || strings.EqualFold(c.Name, a.App) })
		if i < 0 {
			bad(a.Line, "no application %q on this NAS; dsmctl app list shows them", a.App)
			continue
		}
		id := o.apps[i].ID
		if namedApps[id] {
			bad(a.Line, "application %s is given twice (by its ID and its name)", id)
			continue
		}
		namedApps[id] = true
		j := slices.IndexFunc(st.rules, func(r dsm.AppRule) bool { return r.App == id })
		var curAllow, curDeny []string
		if j >= 0 {
			curAllow, curDeny = sortedAddrs(st.rules[j].Allow), sortedAddrs(st.rules[j].Deny)
		}
		old := ruleWord(curAllow, curDeny, j >= 0)
		if a.Default {
			if j >= 0 {
				ch.AppDefaults = append(ch.AppDefaults, id)
				pc.Changes = append(pc.Changes, Change{"app " + id, old, "default"})
			}
			continue
		}
		allow, deny := sortedAddrs(a.Allow), sortedAddrs(a.Deny)
		if j >= 0 && slices.Equal(allow, curAllow) && slices.Equal(deny, curDeny) {
			continue
		}
		ch.Apps = append(ch.Apps, dsm.AppRule{App: id, Allow: allow, Deny: deny})
		pc.Changes = append(pc.Changes, Change{"app " + id, old, ruleWord(allow, deny, true)})
	}
	if opts.Prune && prof.appsSet {
		for _, r := range st.rules {
			if !namedApps[r.App] {
				ch.AppDefaults = append(ch.AppDefaults, r.App)
				pc.Changes = append(pc.Changes, Change{"app " + r.App, ruleWord(sortedAddrs(r.Allow), sortedAddrs(r.Deny), true), "default"})
			}
		}
	}
	// Speed limits.
	for _, s := range prof.Speed {
		cur := dsm.SpeedLimit{Protocol: s.Limit.Protocol, Policy: dsm.SpeedNotSet}
		if i := slices.IndexFunc(st.speed, func(l dsm.SpeedLimit) bool { return strings.EqualFold(l.Protocol, s.Limit.Protocol) }); i >= 0 {
			cur = st.speed[i]
		}
		if sameSpeed(cur, s.Limit) {
			continue
		}
		ch.Speed = append(ch.Speed, s.Limit)
		pc.Changes = append(pc.Changes, Change{"speed " + s.Limit.Protocol, speedWord(cur), speedWord(s.Limit)})
	}
	if !ch.Empty() {
		plan.Profiles = append(plan.Profiles, pc)
	}
}

// writeOnboard writes the onboarding changes of the plan as String does
// the others: the home service, the shared folders to create, then each
// profile.
func (p *Plan) writeOnboard(b *strings.Builder) {
	if p.Home != nil {
		b.WriteString("~ home_service\n")
		writeChanges(b, p.Home.Changes, false)
	}
	for _, s := range p.Shares {
		fmt.Fprintf(b, "+ shared folder %s\n", s.Name)
		writeChanges(b, s.Changes, true)
	}
	for _, pc := range p.Profiles {
		fmt.Fprintf(b, "~ %s: rights, quotas, applications, speed limits\n", pc.Principal)
		writeChanges(b, pc.Changes, false)
	}
}

package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/dsmkit/dsm"
)

// userProfile is what dsmctl user get shows of a user beside their
// fields: their effective right on each shared folder and where it comes
// from, their quotas, application rules and speed limits.
type userProfile struct {
	shares, quotas, apps []record
	// limits are the speed limits the user has of their own.
	limits []dsm.SpeedLimit
	// unavailable says, by part (quotas, apps, speed), why the NAS did
	// not give it.
	unavailable map[string]string
}

// profileParts names the parts of a profile by the API that reads them.
var profileParts = map[string]string{"SYNO.Core.Quota": "quotas", "SYNO.Core.AppPriv.Rule": "apps", "SYNO.Core.BandwidthControl": "speed"}

// speed are the rows of the limits: the schedule in full (168
// characters) or summed up as dsmctl speed get's table shows it.
func (p userProfile) speed(full bool) []record {
	var out []record
	for _, l := range p.limits {
		out = append(out, record{{"protocol", l.Protocol}, {"policy", string(l.Policy)}, {"upload", l.Upload}, {"download", l.Download},
			{"upload2", l.Upload2}, {"download2", l.Download2}, {"schedule", scheduleText(l, full)}})
	}
	return out
}

// readUserProfile reads the user and what DSM's dialog shows with them in
// one compound request (Users.Profile), and the rows of their groups on
// the shared folders, needed to say where a right comes from, in a second
// (none when the user is in no group).
func readUserProfile(ctx context.Context, c *dsm.Client, name string) (dsm.User, userProfile, error) {
	p, err := c.Users.Profile(ctx, name)
	if err != nil {
		return dsm.User{}, userProfile{}, fmt.Errorf("user %s: %w", name, err)
	}
	var byShare map[string][]dsm.Grant
	if len(p.User.Groups) > 0 {
		if byShare, err = groupRows(ctx, c, p.User.Groups); err != nil {
			return dsm.User{}, userProfile{}, fmt.Errorf("rights of the groups of %s: %w", name, err)
		}
	}
	var out userProfile
	for api, err := range p.Unavailable {
		if out.unavailable == nil {
			out.unavailable = map[string]string{}
		}
		out.unavailable[profileParts[api]] = err.Error()
	}
	for _, row := range p.Shares {
		grants := slices.Clone(byShare[strings.ToLower(row.Share)])
		if row.Right != dsm.RightNone {
			grants = append(grants, dsm.Grant{Principal: dsm.UserPrincipal(p.User.Name), Right: row.Right})
		}
		out.shares = append(out.shares, accessRecord("share", row.Share, dsm.EffectiveAccess(p.User.Name, p.User.Groups, grants)))
	}
	for _, q := range p.Quotas {
		out.quotas = append(out.quotas, record{{"volume", q.Volume}, {"share", q.Share}, {"limit", limitText(q.Limit)}, {"bytes", int64(q.Limit)}})
	}
	for _, r := range p.Apps {
		out.apps = append(out.apps, record{{"app", r.App}, {"rule", r.Decision()}, {"allow_from", r.Allow}, {"deny_from", r.Deny}})
	}
	for _, l := range p.Speed {
		// A protocol without a limit of the user's own is left out, as
		// the table of dsmctl speed get shows it: notexist.
		if l.Policy == dsm.SpeedNotSet {
			continue
		}
		out.limits = append(out.limits, l)
	}
	return p.User, out, nil
}

// withProfile adds the profile to the user's record for -o json and
// yaml: lists, never null.
func (p userProfile) withProfile(r record) record {
	list := func(rs []record) []record {
		if rs == nil {
			return []record{}
		}
		return rs
	}
	r = append(r, field{"shares", list(p.shares)}, field{"quotas", list(p.quotas)}, field{"apps", list(p.apps)}, field{"speed", list(p.speed(true))})
	if len(p.unavailable) > 0 {
		// Only when a part is missing: why, by part.
		r = append(r, field{"unavailable", p.unavailable})
	}
	return r
}

// printText writes the profile under the user's fields, one titled table
// per part; a part with nothing in it says so.
func (p userProfile) printText(w io.Writer) error {
	parts := []struct {
		key, title string
		keys       []string
		rows       []record
	}{
		{"shares", "shared folders", []string{"share", "access", "why"}, p.shares},
		{"quotas", "quotas", quotaKeys, p.quotas},
		{"apps", "applications (rules of the user's own; others follow the groups and the default)", []string{"app", "rule", "allow_from", "deny_from"}, p.apps},
		{"speed", "speed limits (of the user's own)", []string{"protocol", "policy", "upload", "download", "upload2", "download2", "schedule"}, p.speed(false)},
	}
	for _, part := range parts {
		fmt.Fprintf(w, "\n%s:\n", part.title)
		if why, ok := p.unavailable[part.key]; ok {
			fmt.Fprintf(w, "  unavailable: %s\n", why)
			continue
		}
		if len(part.rows) == 0 {
			fmt.Fprintln(w, "  none")
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  %s\n", strings.ToUpper(strings.Join(part.keys, "\t")))
		for _, r := range part.rows {
			cells := make([]string, len(r))
			for i, f := range r {
				cells[i] = textCell(f.Value)
			}
			fmt.Fprintf(tw, "  %s\n", strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

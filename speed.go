package dsm

import (
	"context"
	"fmt"
	"strings"
)

// The weekly schedule of a speed limit: one character per hour of the
// week. The length is DSM's (168: DSM 6.2.3 admin_center.js, whose only
// public copy is tbc0309/DSM_DS120j_25426
// usr/syno/synoman/webman/modules/AdminCenter/admin_center.js;
// N4S4/synology-api core_group.py sends 168 '1'). The alphabet is an inference: a row
// carries two pairs of limits (upload_limit_1/download_limit_1 and
// upload_limit_2/download_limit_2), and DSM's schedule picks, per hour,
// no limit ('0'), the first pair ('1') or the second ('2'); no capture
// shows a '2', so that digit is a choice. Hour i is day i/24 (0 is
// Sunday, as in DSM's other weekly schedules: a choice), hour i%24.
const (
	// ScheduleLength is the length of a weekly schedule.
	ScheduleLength = 7 * 24
	// ScheduleAlphabet holds the characters of a weekly schedule.
	ScheduleAlphabet = "012"
)

// AlwaysLimited is the schedule that applies the first pair of limits
// at every hour, the one N4S4/synology-api sends for a plain limit.
var AlwaysLimited = strings.Repeat("1", ScheduleLength)

// ValidateSchedule checks a weekly schedule: ScheduleLength characters,
// each one of ScheduleAlphabet.
func ValidateSchedule(s string) error {
	if len(s) != ScheduleLength {
		return invalid("schedule has %d characters, want %d (one per hour of the week, Sunday 00:00 first)", len(s), ScheduleLength)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune(ScheduleAlphabet, r) }); i >= 0 {
		return invalid("schedule: character %d (day %d, hour %d) is %q, want 0 (no limit), 1 (first limits) or 2 (second limits)", i, i/24, i%24, s[i])
	}
	return nil
}

// SpeedPolicy says whether a speed limit applies.
type SpeedPolicy string

// The policies of a speed limit (DSM 6.2.3 admin_center.js;
// N4S4/synology-api core_group.py).
const (
	// SpeedNotSet: the user or group has no limit of its own for the protocol
	// (DSM answers "notexist", N4S4/synology-api core_group.py).
	SpeedNotSet SpeedPolicy = "notexist"
	// SpeedDisabled: no limit.
	SpeedDisabled SpeedPolicy = "disabled"
	// SpeedEnabled: the first pair of limits, at every hour.
	SpeedEnabled SpeedPolicy = "enabled"
	// SpeedScheduled: the limits the schedule picks, hour by hour.
	SpeedScheduled SpeedPolicy = "scheduled"
)

// MaxSpeedLimit is the highest limit this package sends, in KB/s. DSM
// publishes none; 1,000,000 KB/s (about 8 Gbit/s, more than a 5 GbE
// port) is a choice, and the simulator keeps the same one.
const MaxSpeedLimit = 1_000_000

// SpeedLimit is the speed limit of a user or a group for one protocol.
// Limits are in KB/s (N4S4/synology-api core_group.py set_speed_limit);
// 0 means no limit.
type SpeedLimit struct {
	// Protocol is DSM's name: "FTP", "FileStation", "WebDAV",
	// "NetworkBackup" (rsync) or "CloudStation" (Synology Drive).
	Protocol string `json:"protocol"`
	// Policy says whether and when the limits apply.
	Policy SpeedPolicy `json:"policy"`
	// Upload and Download are the first pair of limits.
	Upload   int `json:"upload"`
	Download int `json:"download"`
	// Upload2 and Download2 are the second pair, for the hours the
	// schedule marks '2'.
	Upload2   int `json:"upload2,omitempty"`
	Download2 int `json:"download2,omitempty"`
	// Schedule is the weekly schedule of SpeedScheduled (see
	// ScheduleLength); empty means AlwaysLimited.
	Schedule string `json:"schedule,omitempty"`
}

// SpeedProtocols are the protocols DSM limits per user and group
// (N4S4/synology-api core_group.py set_speed_limit).
var SpeedProtocols = []string{"FTP", "FileStation", "WebDAV", "NetworkBackup", "CloudStation"}

// SpeedService reads and sets the speed limits of users and groups
// (SYNO.Core.BandwidthControl).
type SpeedService struct {
	c *Client
}

// speedRowWire is one row of SYNO.Core.BandwidthControl get v2 and set v1
// (DSM 6.2.3 admin_center.js; N4S4/synology-api core_group.py).
type speedRowWire struct {
	Name           string  `json:"name,omitempty"`
	OwnerType      string  `json:"owner_type"`
	Protocol       string  `json:"protocol"`
	Policy         string  `json:"policy"`
	UploadLimit1   flexInt `json:"upload_limit_1"`
	DownloadLimit1 flexInt `json:"download_limit_1"`
	UploadLimit2   flexInt `json:"upload_limit_2"`
	DownloadLimit2 flexInt `json:"download_limit_2"`
	SchedulePlan   string  `json:"schedule_plan"`
}

// Get returns the speed limits of a user or a group, one per protocol.
//
// DSM: SYNO.Core.BandwidthControl get, version 2 (as DSM's own dialog
// calls it, DSM 6.2.3 admin_center.js loadDetail).
func (s *SpeedService) Get(ctx context.Context, p Principal) ([]SpeedLimit, error) {
	if err := p.validate(); err != nil {
		return nil, argError("get speed limits", err)
	}
	var d speedLimitsWire
	r := newRead("SYNO.Core.BandwidthControl", "get", speedParams(p), &d)
	r.version = 2
	if err := s.c.do(ctx, r); err != nil {
		return nil, err
	}
	return d.limits(), nil
}

// speedParams are the parameters of SYNO.Core.BandwidthControl get for p.
func speedParams(p Principal) Params {
	return Params{"name": p.Name, "owner_type": p.userGroupType()}
}

// speedLimitsWire is the answer of SYNO.Core.BandwidthControl get v2.
type speedLimitsWire struct {
	Bandwidths []speedRowWire `json:"bandwidths"`
}

// limits are the limits in d, one per protocol.
func (d speedLimitsWire) limits() []SpeedLimit {
	out := make([]SpeedLimit, 0, len(d.Bandwidths))
	for _, b := range d.Bandwidths {
		if b.Protocol == "" {
			continue
		}
		policy := SpeedPolicy(b.Policy)
		if policy == "" {
			policy = SpeedNotSet
		}
		out = append(out, SpeedLimit{
			Protocol: b.Protocol, Policy: policy,
			Upload: int(b.UploadLimit1), Download: int(b.DownloadLimit1),
			Upload2: int(b.UploadLimit2), Download2: int(b.DownloadLimit2),
			Schedule: b.SchedulePlan,
		})
	}
	return out
}

// Set changes speed limits of a user or a group; the protocols not named
// keep theirs.
//
// DSM: SYNO.Core.BandwidthControl set, version 1 (DSM 6.2.3
// admin_center.js serializeApplyData; the version N4S4/synology-api
// set_speed_limit hard-codes).
func (s *SpeedService) Set(ctx context.Context, p Principal, limits ...SpeedLimit) error {
	r, err := speedSetRequest(p, limits)
	if err != nil {
		return err
	}
	return s.c.do(ctx, r)
}

// speedSetRequest checks limits and returns the
// SYNO.Core.BandwidthControl set (v1) that writes them.
func speedSetRequest(p Principal, limits []SpeedLimit) (*request, error) {
	op := "set speed limits"
	if err := p.validate(); err != nil {
		return nil, argError(op, err)
	}
	op = fmt.Sprintf("set speed limits of %s", p)
	if len(limits) == 0 {
		return nil, argErrorf(op, "no limit given")
	}
	rows := make([]speedRowWire, 0, len(limits))
	for _, l := range limits {
		if !containsFold(SpeedProtocols, l.Protocol) {
			return nil, argErrorf(op, "protocol %q: want one of %s", l.Protocol, strings.Join(SpeedProtocols, ", "))
		}
		switch l.Policy {
		case SpeedEnabled, SpeedDisabled, SpeedScheduled:
		default:
			return nil, argErrorf(op, "%s: policy %q: want %s, %s or %s", l.Protocol, l.Policy, SpeedEnabled, SpeedDisabled, SpeedScheduled)
		}
		for _, v := range []int{l.Upload, l.Download, l.Upload2, l.Download2} {
			if v < 0 || v > MaxSpeedLimit {
				return nil, argErrorf(op, "%s: limit %d KB/s: want 0 (no limit) to %d", l.Protocol, v, MaxSpeedLimit)
			}
		}
		plan := l.Schedule
		if plan == "" {
			plan = AlwaysLimited
		}
		if err := ValidateSchedule(plan); err != nil {
			return nil, argError(op, err)
		}
		rows = append(rows, speedRowWire{
			Name: p.Name, OwnerType: p.userGroupType(), Protocol: canonicalProtocol(l.Protocol), Policy: string(l.Policy),
			UploadLimit1: flexInt(l.Upload), DownloadLimit1: flexInt(l.Download),
			UploadLimit2: flexInt(l.Upload2), DownloadLimit2: flexInt(l.Download2),
			SchedulePlan: plan,
		})
	}
	r := newSafeChange("SYNO.Core.BandwidthControl", "set", Params{"bandwidths": rows}, nil)
	r.version = 1
	return r, nil
}

// canonicalProtocol returns DSM's spelling of a protocol name.
func canonicalProtocol(p string) string {
	for _, q := range SpeedProtocols {
		if strings.EqualFold(p, q) {
			return q
		}
	}
	return p
}

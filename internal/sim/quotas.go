package sim

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Quotas: SYNO.Core.Quota (per user and group, in MB, per volume or per
// shared folder) and SYNO.Core.Share.Quota (per user on one shared
// folder, in bytes). Both address the same quotas: a user's quota on a
// shared folder set through one is read through the other (a choice; no
// source says whether DSM keeps them apart, and a Btrfs volume has one
// user quota per shared folder).

// mib is DSM's quota unit "MB": 2^20 bytes (DSM's UI counts quotas in
// MB and GB of 1024; a choice where no capture shows a conversion).
const mib = 1 << 20

// codeQuotaTooLarge is DSM's user_quota_set_fail
// (synology-community/go-synology pkg/api/errors.go), which DSM's import
// UI reads as "quota exceeds free space" (DSM 6.2.3 admin_center.js). Answered here
// by the quota calls for a quota above the volume's free space, a
// choice: no capture of SYNO.Core.Quota set's refusal exists.
const codeQuotaTooLarge = 3117

// quotaVolume is a volume as quotas see it: its name and size. Kept
// minimal on purpose: the simulator's volumes belong to the shares' code
// (Storage, SYNO.Core.Share); when it has them, quotaVolumes and
// quotaShares below are the one place to point at it.
type quotaVolume struct {
	name string // "volume1"
	size int64  // bytes; nothing is used (usage stays 0), so all is free
	// shareQuotas: user and group quotas are per shared folder (Btrfs,
	// support_share_quota true, N4S4/synology-api core_group.py's
	// example on /volume3) rather than per volume (ext4).
	shareQuotas bool
}

// quotaVolumes are the volumes of quotas: volume1 Btrfs, volume2 ext4
// (sizes are choices).
var quotaVolumes = []quotaVolume{
	{name: "volume1", size: 4 << 40, shareQuotas: true},
	{name: "volume2", size: 1 << 40},
}

// quotaShare is a shared folder as quotas see it.
type quotaShare struct{ name, volume string }

// quotaShares are the shared folders quotas can be set on (choices), on
// volume1, whose quotas are per shared folder.
var quotaShares = []quotaShare{{"public", "volume1"}, {"photo", "volume1"}}

func findQuotaVolume(path string) *quotaVolume {
	for i := range quotaVolumes {
		if "/"+quotaVolumes[i].name == path {
			return &quotaVolumes[i]
		}
	}
	return nil
}

func findQuotaShare(name string) *quotaShare {
	for i := range quotaShares {
		if strings.EqualFold(quotaShares[i].name, name) {
			return &quotaShares[i]
		}
	}
	return nil
}

// A quota target is kept as "volume:/volume2" or "share:public".
func volumeTarget(v *quotaVolume) string { return "volume:/" + v.name }
func shareTarget(sh *quotaShare) string  { return "share:" + sh.name }

// parseQuotaTarget returns the size of the volume a target is on.
func parseQuotaTarget(t string) (int64, bool) {
	if p, ok := strings.CutPrefix(t, "volume:"); ok {
		if v := findQuotaVolume(p); v != nil && !v.shareQuotas {
			return v.size, true
		}
		return 0, false
	}
	if n, ok := strings.CutPrefix(t, "share:"); ok {
		if sh := findQuotaShare(n); sh != nil && sh.name == n {
			return findQuotaVolume("/" + sh.volume).size, true
		}
	}
	return 0, false
}

// quotaOwner finds the user or group a quota call names: 3106 or 3204
// when there is none, 114 without a name.
func (s *Server) quotaOwner(q *request, group bool) (owner, error) {
	if !q.has("name") {
		return owner{}, fail(codeMissingParameters)
	}
	name := q.str("name")
	if group {
		g := s.st.groupByName(name)
		if g == nil {
			return owner{}, fail(codeNoSuchGroup)
		}
		return groupOwner(g), nil
	}
	u := s.st.userByName(name)
	if u == nil {
		return owner{}, fail(codeNoSuchUser)
	}
	return userOwner(u), nil
}

// quotaShareRecord and quotaVolumeRecord are SYNO.Core.Quota get's
// shapes (testdata/real/quota_get_group.json, N4S4/synology-api
// core_group.py get_quota's example: volume, quota_status "v1", deduped,
// support_share_quota, shares of name, description and quota in MB, and
// no quota of the volume itself). "quota" on a volume without per-share
// quotas is the set call's name for it (DSM 6.2.3 admin_center.js,
// serializeApplyData), a choice.
type quotaShareRecord struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Quota       int64  `json:"quota"`
}

type quotaVolumeRecord struct {
	Volume            string             `json:"volume"`
	QuotaStatus       string             `json:"quota_status"`
	Deduped           bool               `json:"deduped"`
	SupportShareQuota bool               `json:"support_share_quota"`
	Quota             *int64             `json:"quota,omitempty"` // volumes without per-share quotas only
	Shares            []quotaShareRecord `json:"shares"`
}

// quotaGet answers SYNO.Core.Quota get {name, subject_type,
// support_share_quota}: {user_quota: [...]} for a user, {group_quota:
// [...]} for subject_type "group" (N4S4/synology-api core_group.py).
// Quotas in MB, rounded down from the bytes SYNO.Core.Share.Quota may
// have set.
func (s *Server) quotaGet(q *request) (any, error) {
	group := false
	switch q.str("subject_type") {
	case "", "user":
	case "group":
		group = true
	default:
		return nil, fail(codeInvalidParameter)
	}
	o, err := s.quotaOwner(q, group)
	if err != nil {
		return nil, err
	}
	p := s.st.profiles.get(o)
	quota := func(target string) int64 {
		if p == nil {
			return 0
		}
		return p.quotas[target] / mib
	}
	vols := []quotaVolumeRecord{}
	for i := range quotaVolumes {
		v := &quotaVolumes[i]
		r := quotaVolumeRecord{Volume: "/" + v.name, QuotaStatus: "v1", SupportShareQuota: v.shareQuotas, Shares: []quotaShareRecord{}}
		if v.shareQuotas {
			for j := range quotaShares {
				if sh := &quotaShares[j]; sh.volume == v.name {
					r.Shares = append(r.Shares, quotaShareRecord{Name: sh.name, Quota: quota(shareTarget(sh))})
				}
			}
		} else {
			mb := quota(volumeTarget(v))
			r.Quota = &mb
		}
		vols = append(vols, r)
	}
	if group {
		return map[string]any{"group_quota": vols}, nil
	}
	return map[string]any{"user_quota": vols}, nil
}

// quotaRow is one row of SYNO.Core.Quota set: {share, quota} or
// {volume, quota}, quota in MB (DSM 6.2.3 admin_center.js,
// serializeApplyData).
type quotaRow struct {
	Share  *string          `json:"share"`
	Volume *string          `json:"volume"`
	Quota  *json.RawMessage `json:"quota"`
}

// quotaSet answers SYNO.Core.Quota set {name, user_quota | group_quota}:
// the rows given change, the others stay (DSM's dialog sends modified
// rows only, DSM 6.2.3 admin_center.js). All rows are checked before any applies:
// an unknown share or volume, a volume path not of the form "/volume1"
// (the choice of quotas.go in package dsm's counterpart is the path
// form get shows), a volume whose quotas are per share, or a quota that
// is not a whole number of MB from 0 to the bound is 120; a quota above
// the volume's free space is 3117. 0 removes the quota.
func (s *Server) quotaSet(q *request) (any, error) {
	key, group := "user_quota", false
	if !q.has(key) {
		key, group = "group_quota", true
	}
	if !q.has(key) {
		return nil, fail(codeMissingParameters)
	}
	o, err := s.quotaOwner(q, group)
	if err != nil {
		return nil, err
	}
	var rows []quotaRow
	if err := json.Unmarshal([]byte(q.params.Get(key)), &rows); err != nil || len(rows) == 0 || len(rows) > maxRowsPerCall {
		return nil, fail(codeInvalidParameter)
	}
	type change struct {
		target string
		bytes  int64
	}
	changes := make([]change, 0, len(rows))
	for _, r := range rows {
		if r.Quota == nil || (r.Share == nil) == (r.Volume == nil) {
			return nil, fail(codeInvalidParameter)
		}
		mb, err := strconv.ParseInt(string(*r.Quota), 10, 64)
		if err != nil || mb < 0 || mb > maxQuotaBytes/mib {
			return nil, fail(codeInvalidParameter)
		}
		var target string
		var free int64
		if r.Share != nil {
			sh := findQuotaShare(*r.Share)
			if sh == nil {
				return nil, fail(codeInvalidParameter)
			}
			target, free = shareTarget(sh), findQuotaVolume("/"+sh.volume).size
		} else {
			v := findQuotaVolume(*r.Volume)
			if v == nil || v.shareQuotas {
				return nil, fail(codeInvalidParameter)
			}
			target, free = volumeTarget(v), v.size
		}
		if mb*mib > free {
			return nil, fail(codeQuotaTooLarge)
		}
		changes = append(changes, change{target, mb * mib})
	}
	p := s.st.profiles.edit(o)
	for _, c := range changes {
		if c.bytes == 0 {
			delete(p.quotas, c.target)
		} else {
			p.quotas[c.target] = c.bytes
		}
	}
	s.dirty = true
	return struct{}{}, nil
}

// shareQuotaItem is one item of SYNO.Core.Share.Quota list: the user
// under "name" (batonogov/terraform-provider-synology-dsm
// internal/client/user_quota.go reads "username" or "name"; "name" is
// the choice) and sizes in bytes.
type shareQuotaItem struct {
	Name      string `json:"name"`
	QuotaSize int64  `json:"quota_size"`
	QuotaUsed int64  `json:"quota_used"`
}

// shareQuotaShare reads the shared folder of a SYNO.Core.Share.Quota
// call: 114 without one; an unknown one is 120 (a choice).
func shareQuotaShare(q *request) (*quotaShare, error) {
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	sh := findQuotaShare(q.str("name"))
	if sh == nil {
		return nil, fail(codeInvalidParameter)
	}
	return sh, nil
}

// shareQuotaList answers SYNO.Core.Share.Quota list {name, offset,
// limit}: {items, total}, the users with a quota on the share, sorted by
// name (which users DSM lists is not known: those with a quota is the
// choice).
func (s *Server) shareQuotaList(q *request) (any, error) {
	sh, err := shareQuotaShare(q)
	if err != nil {
		return nil, err
	}
	offset, limit, err := q.page()
	if err != nil {
		return nil, err
	}
	t := shareTarget(sh)
	items := []shareQuotaItem{}
	for _, u := range s.st.sortedUsers() {
		if p := s.st.profiles.get(userOwner(u)); p != nil && p.quotas[t] > 0 {
			items = append(items, shareQuotaItem{Name: u.name, QuotaSize: p.quotas[t]})
		}
	}
	return map[string]any{"items": pageOf(items, offset, limit), "total": len(items)}, nil
}

// shareQuotaSet answers SYNO.Core.Share.Quota set {name, quotas:
// [{username, quota_size}]} (batonogov's shape, sizes in bytes, 0 = no
// limit). The reference client sends the whole list; rows not sent are
// kept (a choice: the whole list works either way). An unknown user is
// 3106, a size out of 0 to the bound 120, above the free space 3117.
func (s *Server) shareQuotaSet(q *request) (any, error) {
	sh, err := shareQuotaShare(q)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Username  *string `json:"username"`
		QuotaSize *int64  `json:"quota_size"`
	}
	if err := json.Unmarshal([]byte(q.params.Get("quotas")), &rows); err != nil {
		return nil, fail(codeInvalidParameter)
	}
	free := findQuotaVolume("/" + sh.volume).size
	type change struct {
		o     owner
		bytes int64
	}
	changes := make([]change, 0, len(rows))
	for _, r := range rows {
		if r.Username == nil || r.QuotaSize == nil || *r.QuotaSize < 0 || *r.QuotaSize > maxQuotaBytes {
			return nil, fail(codeInvalidParameter)
		}
		u := s.st.userByName(*r.Username)
		if u == nil {
			return nil, fail(codeNoSuchUser)
		}
		if *r.QuotaSize > free {
			return nil, fail(codeQuotaTooLarge)
		}
		changes = append(changes, change{userOwner(u), *r.QuotaSize})
	}
	t := shareTarget(sh)
	for _, c := range changes {
		p := s.st.profiles.edit(c.o)
		if c.bytes == 0 {
			delete(p.quotas, t)
		} else {
			p.quotas[t] = c.bytes
		}
	}
	s.dirty = true
	return struct{}{}, nil
}

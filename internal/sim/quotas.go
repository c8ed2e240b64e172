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

// Quotas live on the simulator's volumes and shared folders (shares.go):
// a volume whose filesystem keeps quotas per shared folder (Btrfs) has
// one quota per share of a user or group, any other (ext4) one quota for
// the whole volume. A quota target is kept as "volume:/volume2" or
// "share:public" (the share's name as created).

func volumeTarget(v *volume) string { return "volume:" + v.path }
func shareTarget(sh *share) string  { return "share:" + sh.name }

// quotaTargetSize returns the size of the volume a kept target is on,
// false when the target is of no volume or share the NAS has (or is a
// volume whose quotas are per share, or a share on a volume whose quotas
// are per volume). Call with s.mu held.
func (st *store) quotaTargetSize(t string) (int64, bool) {
	if p, ok := strings.CutPrefix(t, "volume:"); ok {
		if v := volumeByPath(p); v != nil && !v.shareQuotas() {
			return v.free(), true
		}
		return 0, false
	}
	if n, ok := strings.CutPrefix(t, "share:"); ok {
		if sh := st.shareByName(n); sh != nil && sh.name == n {
			if v := volumeByPath(sh.volume); v != nil && v.shareQuotas() {
				return v.free(), true
			}
		}
	}
	return 0, false
}

// dropShareQuotas removes every quota row on a deleted shared folder, as
// DSM removes a deleted folder's settings with it (a choice: no source
// shows the quota rows of a deleted folder). Call with s.mu held.
func (st *store) dropShareQuotas(sh *share) {
	t := shareTarget(sh)
	for o, p := range st.profiles.by {
		if _, ok := p.quotas[t]; ok {
			st.profiles.edit(o)
			delete(p.quotas, t)
		}
	}
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
	shares := s.st.sortedShares()
	for i := range volumes {
		v := &volumes[i]
		r := quotaVolumeRecord{Volume: v.path, QuotaStatus: "v1", SupportShareQuota: v.shareQuotas(), Shares: []quotaShareRecord{}}
		if v.shareQuotas() {
			for _, sh := range shares {
				if sh.volume == v.path {
					r.Shares = append(r.Shares, quotaShareRecord{Name: sh.name, Description: sh.description, Quota: quota(shareTarget(sh))})
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
// rows only, DSM 6.2.3 admin_center.js). All rows are checked before
// any applies: a shared folder the NAS does not have is
// codeNoSuchShare, as for SYNO.Core.Share; a share on a volume whose
// quotas are per volume, an unknown volume, a volume not named by its
// path "/volume1" (the path get shows, and what SYNO.Core.Share and
// SYNO.Core.User.Home take), a volume whose quotas are per share, or a
// quota that is not a whole number of MB from 0 to the bound is 120; a
// quota above the volume's free space is 3117. 0 removes the quota.
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
			sh, err := s.quotaShare(*r.Share)
			if err != nil {
				return nil, err
			}
			target, free = shareTarget(sh), volumeByPath(sh.volume).free()
		} else {
			v := volumeByPath(*r.Volume)
			if v == nil || v.shareQuotas() {
				return nil, fail(codeInvalidParameter)
			}
			target, free = volumeTarget(v), v.free()
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

// quotaShare finds the shared folder a quota names: codeNoSuchShare when
// the NAS has none of that name (the code SYNO.Core.Share answers, a
// choice: no capture shows a quota call's refusal of a missing folder),
// 120 when its volume keeps quotas per volume, not per shared folder.
func (s *Server) quotaShare(name string) (*share, error) {
	sh := s.st.shareByName(name)
	if sh == nil {
		return nil, fail(codeNoSuchShare)
	}
	if v := volumeByPath(sh.volume); v == nil || !v.shareQuotas() {
		return nil, fail(codeInvalidParameter)
	}
	return sh, nil
}

// shareQuotaShare reads the shared folder of a SYNO.Core.Share.Quota
// call: 114 without one, then as quotaShare.
func (s *Server) shareQuotaShare(q *request) (*share, error) {
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	return s.quotaShare(q.str("name"))
}

// shareQuotaList answers SYNO.Core.Share.Quota list {name, offset,
// limit}: {items, total}, the users with a quota on the share, sorted by
// name (which users DSM lists is not known: those with a quota is the
// choice).
func (s *Server) shareQuotaList(q *request) (any, error) {
	sh, err := s.shareQuotaShare(q)
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
	sh, err := s.shareQuotaShare(q)
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
	free := volumeByPath(sh.volume).free()
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

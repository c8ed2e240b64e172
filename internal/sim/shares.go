package sim

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Codes of SYNO.Core.Share (batonogov/terraform-provider-synology-dsm
// errors.go and share.go, DSM 7.4 on a DS1525+).
const (
	// codeShareSettling: an earlier change (typically deletions) is still
	// settling; it clears within seconds.
	codeShareSettling = 3300
	// codeShareExists: create of a name that is taken.
	codeShareExists = 3301
	// codeShareBusy: the change overlaps another one.
	codeShareBusy = 3328
	// codeNoSuchShare: DSM has no documented code for a missing shared
	// folder (batonogov notfound_test.go settles absence by listing);
	// 3313 is a choice, in DSM's share range.
	codeNoSuchShare = 3313
)

// Shared folder names: DSM's limits are not in the sources; the
// simulator takes the group name rules, a choice the client shares
// (dsm.MaxShareNameLength; rules_agreement_test.go).
const (
	maxShareNameLen    = 32
	shareNameForbidden = groupNameForbidden
)

// volume is one of the NAS's volumes. Sizes and filesystems are a
// choice: a NAS with a 4 TiB Btrfs and a 2 TiB ext4 volume, nothing used.
type volume struct {
	path        string
	total, used int64 // bytes
	// filesystem is "btrfs" or "ext4". User and group quotas are per
	// shared folder on Btrfs (support_share_quota true: N4S4/synology-api
	// core_group.py get_quota's example), per volume on ext4.
	filesystem string
}

// volumes are the simulator's volumes; a shared folder or the homes
// folder lives on one of them.
var volumes = []volume{
	{path: "/volume1", total: 4 << 40, filesystem: "btrfs"},
	{path: "/volume2", total: 2 << 40, filesystem: "ext4"},
}

// shareQuotas says whether the volume keeps quotas per shared folder.
func (v *volume) shareQuotas() bool { return v.filesystem == "btrfs" }

// free is the volume's free space, in bytes.
func (v *volume) free() int64 { return v.total - v.used }

func volumeByPath(p string) *volume {
	for i := range volumes {
		if volumes[i].path == p {
			return &volumes[i]
		}
	}
	return nil
}

// share is one shared folder with its permission rows, kept by uid and
// gid so that a rename keeps them (DSM keys rights by id: a renamed user
// keeps their access).
type share struct {
	name        string
	volume      string // "/volume1"
	description string
	hidden      bool
	recycleBin  bool
	uuid        string
	users       map[int]permRow
	groups      map[int]permRow
}

// Share is a shared folder to seed the simulator with (Config.Shares).
type Share struct {
	Name string
	// Volume is the volume's path, /volume1 or /volume2; "" is /volume1.
	Volume      string
	Description string
	Hidden      bool
	RecycleBin  bool
	// Users and Groups give rights by name: "rw", "ro" or "deny".
	Users, Groups map[string]string
}

// defaultShares are seeded when Config.Shares is nil: a choice, two
// folders of an ordinary office NAS, public open to every user.
var defaultShares = []Share{
	{Name: "public", Description: "Public files", RecycleBin: true, Groups: map[string]string{groupUsers: "rw"}},
	{Name: "finance", Description: "Finance", RecycleBin: true},
}

// shareUUID is a stable id for a share created at t: a choice of form.
func shareUUID(name string, t time.Time) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s %d", name, t.UnixNano())))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// addShare stores a new share. Call with s.mu held.
func (st *store) addShare(sh *share) {
	if st.shares == nil {
		st.shares = map[string]*share{}
	}
	if sh.users == nil {
		sh.users = map[int]permRow{}
	}
	if sh.groups == nil {
		sh.groups = map[int]permRow{}
	}
	st.shares[fold(sh.name)] = sh
	st.sharesDirty = true
}

func (st *store) shareByName(name string) *share { return st.shares[fold(name)] }

// sortedShares returns the shares sorted by name (case-insensitive).
func (st *store) sortedShares() []*share {
	out := make([]*share, 0, len(st.shares))
	for _, sh := range st.shares {
		out = append(out, sh)
	}
	slices.SortFunc(out, func(a, b *share) int { return cmp.Compare(fold(a.name), fold(b.name)) })
	return out
}

// seedShares creates cfg.Shares (or defaultShares) and, when the home
// service is on, homes on /volume1.
func (s *Server) seedShares(cfg Config) error {
	now := s.clock.Now()
	if !cfg.HomeServiceOff {
		s.st.home = homeState{Enabled: true, Location: "/volume1"}
		s.st.addShare(&share{name: homesShare, volume: "/volume1", description: "user home", uuid: shareUUID(homesShare, now)})
	}
	list := cfg.Shares
	if list == nil {
		list = defaultShares
	}
	for _, cs := range list {
		if !validName(cs.Name, maxShareNameLen, shareNameForbidden) {
			return fmt.Errorf("sim: shared folder name %q is not one DSM accepts", cs.Name)
		}
		if s.st.shareByName(cs.Name) != nil {
			return fmt.Errorf("sim: shared folder %q already exists", cs.Name)
		}
		vol := cs.Volume
		if vol == "" {
			vol = "/volume1"
		}
		if volumeByPath(vol) == nil {
			return fmt.Errorf("sim: shared folder %q: no volume %q (there are /volume1 and /volume2)", cs.Name, vol)
		}
		sh := &share{name: cs.Name, volume: vol, description: cs.Description, hidden: cs.Hidden, recycleBin: cs.RecycleBin, uuid: shareUUID(cs.Name, now)}
		s.st.addShare(sh)
		for name, r := range cs.Users {
			u := s.st.userByName(name)
			k, ok := parseRightWord(r)
			if u == nil || !ok {
				return fmt.Errorf("sim: shared folder %q: user %q or right %q unknown (rights: rw, ro, deny)", cs.Name, name, r)
			}
			sh.users[u.uid] = permRow{Right: k}
		}
		for name, r := range cs.Groups {
			g := s.st.groupByName(name)
			k, ok := parseRightWord(r)
			if g == nil || !ok {
				return fmt.Errorf("sim: shared folder %q: group %q or right %q unknown (rights: rw, ro, deny)", cs.Name, name, r)
			}
			sh.groups[g.gid] = permRow{Right: k}
		}
	}
	return nil
}

// shareRecord is a share as SYNO.Core.Share list and get send it
// (testdata/real/share_list.json and share_get.json; batonogov share.go
// and its tests; go-synology Share): the other fields only when asked for
// in additional ("recyclebin" is DSM's spelling of the request, answered
// as enable_recycle_bin). The simulator has no USB shares, no ACL-less
// folders and no advanced share permissions.
func shareRecord(sh *share, additional []string) map[string]any {
	r := map[string]any{"name": sh.name, "vol_path": sh.volume, "desc": sh.description, "uuid": sh.uuid, "is_usb_share": false}
	for _, k := range []string{"disable_list", "disable_modify", "disable_download", "unite_permission"} {
		if slices.Contains(additional, k) {
			r[k] = false
		}
	}
	if slices.Contains(additional, "is_aclmode") {
		r["is_aclmode"] = true
	}
	if slices.Contains(additional, "hidden") {
		r["hidden"] = sh.hidden
	}
	if slices.Contains(additional, "recyclebin") {
		r["enable_recycle_bin"] = sh.recycleBin
		r["recycle_bin_admin_only"] = false
	}
	return r
}

// shareList answers SYNO.Core.Share list -> {shares, total}, sorted by
// name and paged by offset and limit. share_type is read as "all": the
// simulator has local folders only.
func (s *Server) shareList(q *request) (any, error) {
	offset, limit, err := q.page()
	if err != nil {
		return nil, err
	}
	all := s.st.sortedShares()
	add := q.list("additional")
	out := []map[string]any{}
	for _, sh := range pageOf(all, offset, limit) {
		out = append(out, shareRecord(sh, add))
	}
	return map[string]any{"shares": out, "total": len(all)}, nil
}

// shareGet answers SYNO.Core.Share get {name} -> the share itself (not a
// list: batonogov share.go reads data as the share).
func (s *Server) shareGet(q *request) (any, error) {
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	sh := s.st.shareByName(q.str("name"))
	if sh == nil {
		return nil, fail(codeNoSuchShare)
	}
	return shareRecord(sh, q.list("additional")), nil
}

// shareBusy answers a share change made while an earlier one is still
// going on (Config.ShareChangeTime): 3300 after a delete, which DSM is
// seen to settle for seconds, 3328 after any other change (batonogov
// share.go). It then marks this change as going on. Call with s.mu held.
func (s *Server) shareBusy(now time.Time, deleting bool) error {
	if s.shareChange <= 0 {
		return nil
	}
	if now.Before(s.shareBusyUntil) {
		if s.shareBusyDelete {
			return fail(codeShareSettling)
		}
		return fail(codeShareBusy)
	}
	s.shareBusyUntil, s.shareBusyDelete = now.Add(s.shareChange), deleting
	return nil
}

// shareInfo is the shareinfo object of create (batonogov share.go,
// go-synology ShareInfo).
type shareInfo struct {
	Name             string `json:"name"`
	VolPath          string `json:"vol_path"`
	Desc             string `json:"desc"`
	Hidden           bool   `json:"hidden"`
	EnableRecycleBin bool   `json:"enable_recycle_bin"`
}

// shareCreate answers SYNO.Core.Share create {name, shareinfo}. A
// missing shareinfo is 114, one that is not such an object or names
// another folder than name, or a volume the NAS does not have, is 120
// (choices); a bad name is 120 too (a choice: DSM's code is not known); a
// taken name is 3301 (batonogov errors.go); beyond maxShares 120 (a
// choice).
func (s *Server) shareCreate(q *request) (any, error) {
	if !q.has("name") || !q.has("shareinfo") {
		return nil, fail(codeMissingParameters)
	}
	var info shareInfo
	if err := strictJSON([]byte(q.params.Get("shareinfo")), &info); err != nil {
		// DSM ignores fields it does not use: read leniently.
		if json.Unmarshal([]byte(q.params.Get("shareinfo")), &info) != nil {
			return nil, fail(codeInvalidParameter)
		}
	}
	name := q.str("name")
	if info.Name != "" && info.Name != name {
		return nil, fail(codeInvalidParameter)
	}
	if !validName(name, maxShareNameLen, shareNameForbidden) || !validDescription(info.Desc) || volumeByPath(info.VolPath) == nil {
		return nil, fail(codeInvalidParameter)
	}
	if err := s.shareBusy(q.now, false); err != nil {
		return nil, err
	}
	if s.st.shareByName(name) != nil {
		return nil, fail(codeShareExists)
	}
	if len(s.st.shares) >= maxShares {
		return nil, fail(codeInvalidParameter)
	}
	s.st.addShare(&share{name: name, volume: info.VolPath, description: info.Desc, hidden: info.Hidden, recycleBin: info.EnableRecycleBin, uuid: shareUUID(name, q.now)})
	s.dirty = true
	return map[string]any{"name": name}, nil
}

// shareDelete answers SYNO.Core.Share delete {name: [names]}: all or
// nothing; a missing folder is codeNoSuchShare. homes cannot be deleted
// while the home service is on: 120, a choice (DSM's dialog greys the
// button out).
func (s *Server) shareDelete(q *request) (any, error) {
	names, err := q.names("name", true, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	var doomed []*share
	for _, n := range names {
		sh := s.st.shareByName(n)
		if sh == nil {
			return nil, fail(codeNoSuchShare)
		}
		if fold(sh.name) == homesShare && s.st.home.Enabled {
			return nil, fail(codeInvalidParameter)
		}
		doomed = append(doomed, sh)
	}
	if err := s.shareBusy(q.now, true); err != nil {
		return nil, err
	}
	for _, sh := range doomed {
		delete(s.st.shares, fold(sh.name))
		s.st.dropShareQuotas(sh)
	}
	s.st.sharesDirty = true
	s.dirty = true
	return struct{}{}, nil
}

// volumeList answers SYNO.Core.Storage.Volume list -> {volumes, total},
// the fields a choice after DSM's storage answers (volume_path, display
// name, sizes in bytes as decimal strings).
func (s *Server) volumeList(q *request) (any, error) {
	out := []map[string]any{}
	for i, v := range volumes {
		out = append(out, map[string]any{
			"volume_path":     v.path,
			"display_name":    fmt.Sprintf("Volume %d", i+1),
			"status":          "normal",
			"size_total_byte": fmt.Sprint(v.total), "size_free_byte": fmt.Sprint(v.total - v.used),
		})
	}
	return map[string]any{"volumes": out, "total": len(out)}, nil
}

// diskShare is a share's record in the database (bucket shares, key the
// folded name) and in the state file.
type diskShare struct {
	Name        string        `json:"name"`
	Volume      string        `json:"volume"`
	Description string        `json:"description"`
	Hidden      bool          `json:"hidden"`
	RecycleBin  bool          `json:"recycle_bin"`
	UUID        string        `json:"uuid"`
	Users       []diskPermRow `json:"users"`
	Groups      []diskPermRow `json:"groups"`
}

// diskPermRow is one permission row: the uid or gid and the right.
type diskPermRow struct {
	ID     int       `json:"id"`
	Right  rightKind `json:"right"`
	Custom bool      `json:"custom,omitempty"`
}

func rowsOf(m map[int]permRow) []diskPermRow {
	out := make([]diskPermRow, 0, len(m))
	for id, r := range m {
		out = append(out, diskPermRow{ID: id, Right: r.Right, Custom: r.Custom})
	}
	slices.SortFunc(out, func(a, b diskPermRow) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func diskShareOf(sh *share) diskShare {
	return diskShare{Name: sh.name, Volume: sh.volume, Description: sh.description, Hidden: sh.hidden,
		RecycleBin: sh.recycleBin, UUID: sh.uuid, Users: rowsOf(sh.users), Groups: rowsOf(sh.groups)}
}

// sharesOf returns the shares of st as records, sorted by name.
func sharesOf(st *store) []diskShare {
	out := []diskShare{}
	for _, sh := range st.sortedShares() {
		out = append(out, diskShareOf(sh))
	}
	return out
}

// decodeShares checks the records of shares against the users and
// groups of st and stores them in st.
func decodeShares(st *store, shares []diskShare) error {
	gids := map[int]bool{}
	for _, g := range st.groups {
		gids[g.gid] = true
	}
	uids := map[int]bool{}
	for _, u := range st.users {
		uids[u.uid] = true
	}
	st.shares = map[string]*share{}
	for _, ds := range shares {
		if ds.Name == "" || st.shares[fold(ds.Name)] != nil {
			return fmt.Errorf("shared folder %q: empty or duplicate name", ds.Name)
		}
		if volumeByPath(ds.Volume) == nil {
			return fmt.Errorf("shared folder %q: no volume %q", ds.Name, ds.Volume)
		}
		sh := &share{name: ds.Name, volume: ds.Volume, description: ds.Description, hidden: ds.Hidden,
			recycleBin: ds.RecycleBin, uuid: ds.UUID, users: map[int]permRow{}, groups: map[int]permRow{}}
		for _, r := range ds.Users {
			if !uids[r.ID] || r.Right < rightNone || r.Right > rightDeny {
				return fmt.Errorf("shared folder %q: a row of uid %d (no such user) or with right %d", ds.Name, r.ID, r.Right)
			}
			sh.users[r.ID] = permRow{Right: r.Right, Custom: r.Custom}
		}
		for _, r := range ds.Groups {
			if !gids[r.ID] || r.Right < rightNone || r.Right > rightDeny {
				return fmt.Errorf("shared folder %q: a row of gid %d (no such group) or with right %d", ds.Name, r.ID, r.Right)
			}
			sh.groups[r.ID] = permRow{Right: r.Right, Custom: r.Custom}
		}
		st.shares[fold(ds.Name)] = sh
	}
	return nil
}

// checkShares holds the shares of a loaded state to the bounds.
func checkShares(st *store) error {
	if len(st.shares) > maxShares {
		return fmt.Errorf("%d shared folders, want at most %d", len(st.shares), maxShares)
	}
	for _, sh := range st.shares {
		if tooLong(sh.name, maxShareNameLen) || tooLong(sh.description, maxDescriptionLen) {
			return fmt.Errorf("shared folder %.64q: name or description too long (at most %d and %d characters)", sh.name, maxShareNameLen, maxDescriptionLen)
		}
		if len(sh.users)+len(sh.groups) > maxShareRows {
			return fmt.Errorf("shared folder %q: %d rows, want at most %d", sh.name, len(sh.users)+len(sh.groups), maxShareRows)
		}
	}
	return nil
}

// diffShares adds the writes of the shares that changed since the
// snapshot: only when one was marked changed (st.sharesDirty), so a
// change of users or groups costs nothing here. Call from diff.
func (d *durableStore) diffShares(st *store, ws []write, first bool) []write {
	if first || d.shares == nil {
		d.shares = map[string][]byte{}
	} else if !st.sharesDirty {
		if checkDiffs && !d.sameShares(st) {
			panic("sim: a shared folder changed without st.sharesDirty: its change would not be written")
		}
		return ws
	}
	st.sharesDirty = false
	seen := make(map[string]bool, len(st.shares))
	for key, sh := range st.shares {
		seen[key] = true
		v, _ := json.Marshal(diskShareOf(sh))
		if old, ok := d.shares[key]; !ok || string(old) != string(v) {
			ws = append(ws, write{bucketShares, []byte(key), v})
			d.shares[key] = v
		}
	}
	for key := range d.shares {
		if !seen[key] {
			ws = append(ws, write{bucket: bucketShares, key: []byte(key)})
			delete(d.shares, key)
		}
	}
	return ws
}

// sameShares reports whether the snapshot holds st's shares as they are
// (the tests' check that no change went unmarked: checkDiffs).
func (d *durableStore) sameShares(st *store) bool {
	if len(d.shares) != len(st.shares) {
		return false
	}
	for key, sh := range st.shares {
		v, _ := json.Marshal(diskShareOf(sh))
		if string(d.shares[key]) != string(v) {
			return false
		}
	}
	return true
}

// bucketShares holds one record per shared folder (diskShare).
var bucketShares = []byte("shares")

// homesShare is the shared folder of the home service (folded).
const homesShare = "homes"

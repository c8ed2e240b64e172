package sim

import (
	"strconv"
	"strings"
	"testing"
)

func TestQuotas(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "x"}}, Groups: []Group{{Name: "staff"}}})
	admin := s.mustLogin(t, "admin", adminPW)
	for _, kv := range [][]string{
		{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[{"share":"public","quota":20480},{"volume":"/volume2","quota":500}]`},
		{"SYNO.Core.Quota", "set", "name", "staff", "group_quota", `[{"share":"finance","quota":1024}]`},
	} {
		if a := s.callKV(t, admin, kv...); !a.Success {
			t.Fatalf("%v: %s", kv, a.raw)
		}
	}
	a := s.callKV(t, admin, "SYNO.Core.Quota", "get", "name", "ALICE", "support_share_quota", "true")
	want := `{"user_quota":[` +
		`{"volume":"/volume1","quota_status":"v1","deduped":false,"support_share_quota":true,"shares":[{"name":"finance","description":"Finance","quota":0},{"name":"homes","description":"user home","quota":0},{"name":"public","description":"Public files","quota":20480}]},` +
		`{"volume":"/volume2","quota_status":"v1","deduped":false,"support_share_quota":false,"quota":500,"shares":[]}]}`
	if string(a.Data) != want {
		t.Errorf("user get:\n got %s\nwant %s", a.Data, want)
	}
	a = s.callKV(t, admin, "SYNO.Core.Quota", "get", "name", "staff", "subject_type", "group")
	if want := `{"group_quota":[{"volume":"/volume1","quota_status":"v1","deduped":false,"support_share_quota":true,"shares":[{"name":"finance","description":"Finance","quota":1024},{"name":"homes","description":"user home","quota":0},{"name":"public","description":"Public files","quota":0}]},{"volume":"/volume2","quota_status":"v1","deduped":false,"support_share_quota":false,"quota":0,"shares":[]}]}`; string(a.Data) != want {
		t.Errorf("group get: %s", a.Data)
	}
	// The same quota through SYNO.Core.Share.Quota, in bytes.
	a = s.callKV(t, admin, "SYNO.Core.Share.Quota", "list", "name", "public", "offset", "0", "limit", "-1")
	if want := `{"items":[{"name":"alice","quota_size":21474836480,"quota_used":0}],"total":1}`; string(a.Data) != want {
		t.Errorf("share list: %s", a.Data)
	}
	if a := s.callKV(t, admin, "SYNO.Core.Share.Quota", "set", "name", "public", "quotas", `[{"username":"alice","quota_size":0}]`); !a.Success {
		t.Fatalf("share set: %s", a.raw)
	}
	if a := s.callKV(t, admin, "SYNO.Core.Share.Quota", "list", "name", "public"); string(a.Data) != `{"items":[],"total":0}` {
		t.Errorf("after removing the quota: %s", a.Data)
	}

	// A shared folder on the ext4 volume2 takes no quota of its own.
	if a := s.callKV(t, admin, "SYNO.Core.Share", "create", "name", "archive", "shareinfo", `{"vol_path":"/volume2"}`); !a.Success {
		t.Fatalf("create archive: %s", a.raw)
	}
	tooBig := strconv.Itoa(4<<20 + 1) // MB: one more than volume1's 4 TiB
	checkRefusals(t, s, admin, []refusal{
		{"get: no such user", []string{"SYNO.Core.Quota", "get", "name", "nobody"}, 3106},
		{"get: no such group", []string{"SYNO.Core.Quota", "get", "name", "nobody", "subject_type", "group"}, 3204},
		{"get: bad subject_type", []string{"SYNO.Core.Quota", "get", "name", "alice", "subject_type", "share"}, 120},
		{"get: no name", []string{"SYNO.Core.Quota", "get"}, 114},
		{"set: no rows", []string{"SYNO.Core.Quota", "set", "name", "alice"}, 114},
		{"set: empty rows", []string{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[]`}, 120},
		{"set: above free space", []string{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[{"share":"public","quota":` + tooBig + `}]`}, 3117},
		{"set: above free space, ext4", []string{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[{"volume":"/volume2","quota":2097153}]`}, 3117},
		{"set: all or nothing", []string{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[{"volume":"/volume2","quota":1},{"share":"nope","quota":1}]`}, codeNoSuchShare},
		{"set: share of a volume without share quotas", []string{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[{"share":"archive","quota":1}]`}, 120},
		{"set: bare volume name", []string{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[{"volume":"volume2","quota":1}]`}, 120},
		{"set: volume of share quotas", []string{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[{"volume":"/volume1","quota":1}]`}, 120},
		{"set: share and volume", []string{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[{"volume":"/volume2","share":"public","quota":1}]`}, 120},
		{"set: negative", []string{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[{"volume":"/volume2","quota":-1}]`}, 120},
		{"set: a string", []string{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[{"volume":"/volume2","quota":"1"}]`}, 120},
		{"set: a fraction", []string{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[{"volume":"/volume2","quota":1.5}]`}, 120},
		{"set: no such user", []string{"SYNO.Core.Quota", "set", "name", "nobody", "user_quota", `[{"volume":"/volume2","quota":1}]`}, 3106},
		{"set: too many rows", []string{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", "[" + strings.Repeat(`{"volume":"/volume2","quota":1},`, maxRowsPerCall) + `{"volume":"/volume2","quota":1}]`}, 120},
		{"share list: no such share", []string{"SYNO.Core.Share.Quota", "list", "name", "nope"}, codeNoSuchShare},
		{"share set: no such share", []string{"SYNO.Core.Share.Quota", "set", "name", "nope", "quotas", `[{"username":"alice","quota_size":1}]`}, codeNoSuchShare},
		{"share list: volume without share quotas", []string{"SYNO.Core.Share.Quota", "list", "name", "archive"}, 120},
		{"share set: no such user", []string{"SYNO.Core.Share.Quota", "set", "name", "public", "quotas", `[{"username":"nobody","quota_size":1}]`}, 3106},
		{"share set: above free space", []string{"SYNO.Core.Share.Quota", "set", "name", "public", "quotas", `[{"username":"alice","quota_size":4398046511105}]`}, 3117},
		{"share set: negative", []string{"SYNO.Core.Share.Quota", "set", "name", "public", "quotas", `[{"username":"alice","quota_size":-1}]`}, 120},
	})
}

// TestQuotasFollowTheirShare: a shared folder created through
// SYNO.Core.Share takes quotas at once; deleting it drops its quota
// rows, so that a new folder of the same name starts with none, and the
// deleted one's rows are gone from disk too.
func TestQuotasFollowTheirShare(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startIn(t, dir, User{Name: "alice", Password: "x"})
	admin := s.mustLogin(t, "admin", adminPW)
	for _, kv := range [][]string{
		{"SYNO.Core.Share", "create", "name", "projects", "shareinfo", `{"vol_path":"/volume1"}`},
		{"SYNO.Core.Quota", "set", "name", "alice", "user_quota", `[{"share":"projects","quota":300}]`},
	} {
		if a := s.callKV(t, admin, kv...); !a.Success {
			t.Fatalf("%v: %s", kv, a.raw)
		}
	}
	if a := s.callKV(t, admin, "SYNO.Core.Quota", "get", "name", "alice"); !contains(a.raw, `{"name":"projects","description":"","quota":300}`) {
		t.Fatalf("a new shared folder's quota: %s", a.Data)
	}
	for _, kv := range [][]string{
		{"SYNO.Core.Share", "delete", "name", `["projects"]`},
		{"SYNO.Core.Share", "create", "name", "projects", "shareinfo", `{"vol_path":"/volume1"}`},
	} {
		if a := s.callKV(t, admin, kv...); !a.Success {
			t.Fatalf("%v: %s", kv, a.raw)
		}
	}
	if a := s.callKV(t, admin, "SYNO.Core.Share.Quota", "list", "name", "projects"); string(a.Data) != `{"items":[],"total":0}` {
		t.Errorf("a new folder has the deleted folder's quota: %s", a.Data)
	}
	want := s.snapshot(t)
	s.Close()
	if got := startIn(t, dir).snapshot(t); string(got) != string(want) {
		t.Errorf("state after a restart:\n%s\nwant\n%s", got, want)
	}
}

// TestProfilesFollowTheirOwner: a rename keeps the quotas, rules and
// limits; a delete removes them, so that a new account of the same name
// starts with none; a restart keeps what is left.
func TestProfilesFollowTheirOwner(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startIn(t, dir, User{Name: "alice", Password: "x"}, User{Name: "bob", Password: "x"})
	admin := s.mustLogin(t, "admin", adminPW)
	profile := func(name string) [][]string {
		return [][]string{
			{"SYNO.Core.Quota", "set", "name", name, "user_quota", `[{"volume":"/volume2","quota":100}]`},
			{"SYNO.Core.AppPriv.Rule", "set", "rules", `[{"app_id":"SYNO.FTP","entity_type":"user","entity_name":"` + name + `","allow_ip":[],"deny_ip":["0.0.0.0"]}]`},
			{"SYNO.Core.BandwidthControl", "set", "bandwidths", `[{"name":"` + name + `","owner_type":"local_user","protocol":"FTP","policy":"enabled","upload_limit_1":10,"download_limit_1":20,"upload_limit_2":0,"download_limit_2":0,"schedule_plan":"` + fullSchedule + `"}]`},
		}
	}
	for _, kv := range append(append(profile("alice"), profile("bob")...),
		[]string{"SYNO.Core.User", "set", "name", "alice", "new_name", "alicia"},
		[]string{"SYNO.Core.User", "delete", "name", `["bob"]`},
		[]string{"SYNO.Core.User", "create", "name", "bob", "password", strongPW},
	) {
		if a := s.callKV(t, admin, kv...); !a.Success {
			t.Fatalf("%v: %s", kv, a.raw)
		}
	}
	check := func(s *Server, admin loginData) {
		t.Helper()
		if a := s.callKV(t, admin, "SYNO.Core.Quota", "get", "name", "alicia"); !contains(a.raw, `"quota":100`) {
			t.Errorf("renamed user lost the quota: %s", a.Data)
		}
		if a := s.callKV(t, admin, "SYNO.Core.AppPriv.Rule", "get", "entity_type", "user", "entity_name", "alicia"); !contains(a.raw, `"entity_name":"alicia"`) {
			t.Errorf("renamed user lost the rule: %s", a.Data)
		}
		if a := s.callV(t, admin, "2", "SYNO.Core.BandwidthControl", "get", "name", "alicia", "owner_type", "local_user"); !contains(a.raw, `"policy":"enabled"`) {
			t.Errorf("renamed user lost the limit: %s", a.Data)
		}
		if a := s.callKV(t, admin, "SYNO.Core.Quota", "get", "name", "bob"); contains(a.raw, `"quota":100`) {
			t.Errorf("a new bob has the deleted bob's quota: %s", a.Data)
		}
		if a := s.callKV(t, admin, "SYNO.Core.AppPriv.Rule", "get", "entity_type", "user", "entity_name", "bob"); string(a.Data) != `{"rules":[]}` {
			t.Errorf("a new bob has the deleted bob's rule: %s", a.Data)
		}
		if a := s.callV(t, admin, "2", "SYNO.Core.BandwidthControl", "get", "name", "bob", "owner_type", "local_user"); contains(a.raw, `"policy":"enabled"`) {
			t.Errorf("a new bob has the deleted bob's limit: %s", a.Data)
		}
	}
	check(s, admin)
	want := s.snapshot(t)
	s.Close()
	s2 := startIn(t, dir)
	if got := s2.snapshot(t); string(got) != string(want) {
		t.Errorf("state after a restart:\n%s\nwant\n%s", got, want)
	}
	check(s2, s2.mustLogin(t, "admin", adminPW))
}

// TestGroupDeleteDropsItsProfile: a renamed group keeps its quotas; a
// deleted group's quotas, rules and limits go with it, on disk too.
func TestGroupDeleteDropsItsProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startIn(t, dir)
	admin := s.mustLogin(t, "admin", adminPW)
	for _, kv := range [][]string{
		{"SYNO.Core.Group", "create", "name", "staff"},
		{"SYNO.Core.Group", "create", "name", "team"},
		{"SYNO.Core.Quota", "set", "name", "staff", "group_quota", `[{"share":"finance","quota":5}]`},
		{"SYNO.Core.Quota", "set", "name", "team", "group_quota", `[{"share":"finance","quota":7}]`},
		{"SYNO.Core.Group", "set", "name", "team", "new_name", "crew"},
		{"SYNO.Core.Group", "delete", "name", `["staff"]`},
		{"SYNO.Core.Group", "create", "name", "staff"},
	} {
		if a := s.callKV(t, admin, kv...); !a.Success {
			t.Fatalf("%v: %s", kv, a.raw)
		}
	}
	s.Close()
	s2 := startIn(t, dir)
	admin2 := s2.mustLogin(t, "admin", adminPW)
	a := s2.callKV(t, admin2, "SYNO.Core.Quota", "get", "name", "staff", "subject_type", "group")
	if contains(a.raw, `"quota":5`) {
		t.Errorf("a new group has the deleted group's quota: %s", a.Data)
	}
	if a := s2.callKV(t, admin2, "SYNO.Core.Quota", "get", "name", "crew", "subject_type", "group"); !contains(a.raw, `"quota":7`) {
		t.Errorf("the renamed group lost its quota: %s", a.Data)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// callV calls kv[0]/kv[1] at version v with parameters kv[2:].
func (s *Server) callV(t testing.TB, d loginData, v string, kv ...string) answer {
	t.Helper()
	return s.do(t, authed(d, append([]string{"api", kv[0], "method", kv[1], "version", v}, kv[2:]...)...))
}

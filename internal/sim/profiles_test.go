package sim

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzProfileParams puts one fuzzed value in the JSON list of each call
// that changes a profile: never a panic (code 100), and a refused call
// changes nothing.
func FuzzProfileParams(f *testing.F) {
	for _, s := range []string{`[{"share":"public","quota":1}]`, `[{"volume":"/volume2","quota":0}]`, `[{"username":"alice","quota_size":5}]`,
		`[{"app_id":"SYNO.FTP","entity_type":"user","entity_name":"alice","allow_ip":["0.0.0.0"],"deny_ip":[]}]`,
		`[{"name":"alice","owner_type":"local_user","protocol":"FTP","policy":"enabled","schedule_plan":"` + fullSchedule + `"}]`,
		`[]`, `[{}]`, `[null]`, `{"a":1}`, `[{"quota":1e400}]`, `[{"share":null,"quota":1}]`, `"x"`, ``, `[`} {
		f.Add(s)
	}
	s := newServer(f, Config{AutoBlockAttempts: -1, Users: []User{{Name: "alice", Password: "x"}}, Groups: []Group{{Name: "staff"}}})
	admin := s.mustLogin(f, "admin", adminPW)
	calls := [][]string{
		{"SYNO.Core.Quota", "set", "name", "alice", "user_quota"},
		{"SYNO.Core.Quota", "set", "name", "staff", "group_quota"},
		{"SYNO.Core.Share.Quota", "set", "name", "public", "quotas"},
		{"SYNO.Core.AppPriv.Rule", "set", "rules"},
		{"SYNO.Core.AppPriv.Rule", "delete", "rules"},
		{"SYNO.Core.BandwidthControl", "set", "bandwidths"},
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, c := range calls {
			before := s.snapshot(t)
			a := s.callKV(t, admin, append(c, v)...)
			if a.code() == 100 || a.code() == -1 {
				t.Fatalf("%v %q: %s", c, v, a.raw)
			}
			if !a.Success && !bytes.Equal(before, s.snapshot(t)) {
				t.Fatalf("%v %q: refused (%d) but the state changed", c, v, a.code())
			}
		}
	})
}

// TestProfileWritesOnlyTheChange: setting one user's quota writes that
// user's profile record and nothing else, however many users have one;
// deleting the user deletes it.
func TestProfileWritesOnlyTheChange(t *testing.T) {
	t.Parallel()
	const n = 500
	var users []User
	for i := range n {
		users = append(users, User{Name: fmt.Sprintf("u%d", i), Password: "pw"})
	}
	s := startIn(t, t.TempDir(), users...)
	admin := s.mustLogin(t, "admin", adminPW)
	for i := range n {
		if a := s.callKV(t, admin, "SYNO.Core.Quota", "set", "name", fmt.Sprintf("u%d", i), "user_quota", `[{"volume":"/volume2","quota":1}]`); !a.Success {
			t.Fatal(a.raw)
		}
	}
	var mu sync.Mutex
	var got []string
	s.disk.written = func(ws []write) {
		mu.Lock()
		defer mu.Unlock()
		for _, w := range ws {
			got = append(got, fmt.Sprintf("%s %x %v", w.bucket, w.key, w.value != nil))
		}
	}
	check := func(what string, want ...string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		slices.Sort(got)
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: records written (-want +got):\n%s", what, diff)
		}
		got = nil
	}
	key := fmt.Sprintf("profiles 75%016x", firstUID+7)
	if a := s.callKV(t, admin, "SYNO.Core.Quota", "set", "name", "u7", "user_quota", `[{"volume":"/volume2","quota":2}]`); !a.Success {
		t.Fatal(a.raw)
	}
	check("a quota", key+" true")
	if a := s.callKV(t, admin, "SYNO.Core.AppPriv.Rule", "get", "entity_type", "user", "entity_name", "u7"); !a.Success {
		t.Fatal(a.raw)
	}
	check("a read")
	if a := s.callKV(t, admin, "SYNO.Core.User", "delete", "name", `["u7"]`); !a.Success {
		t.Fatal(a.raw)
	}
	check("a deleted user", key+" false", fmt.Sprintf("users %016x false", firstUID+7), fmt.Sprintf("members %016x%016x false", usersGID, firstUID+7))
}

// BenchmarkQuotaSet measures SYNO.Core.Quota set on a simulator of 1,000
// users that all have a profile, in memory and on disk.
func BenchmarkQuotaSet(b *testing.B) {
	for _, durable := range []bool{false, true} {
		b.Run(fmt.Sprintf("durable=%v", durable), func(b *testing.B) {
			var users []User
			for i := range 1000 {
				users = append(users, User{Name: fmt.Sprintf("u%d", i), Password: "pw"})
			}
			cfg := Config{Users: users}
			if durable {
				cfg.DataDir = b.TempDir()
			}
			s := newServer(b, cfg)
			b.Cleanup(func() { s.Close() })
			admin := s.mustLogin(b, "admin", adminPW)
			for i := range 1000 {
				s.callKV(b, admin, "SYNO.Core.Quota", "set", "name", fmt.Sprintf("u%d", i), "user_quota", `[{"volume":"/volume2","quota":1}]`)
			}
			i := 0
			for b.Loop() {
				i++
				if a := s.callKV(b, admin, "SYNO.Core.Quota", "set", "name", fmt.Sprintf("u%d", i%1000), "user_quota", fmt.Sprintf(`[{"volume":"/volume2","quota":%d}]`, i)); !a.Success {
					b.Fatal(a.raw)
				}
			}
		})
	}
}

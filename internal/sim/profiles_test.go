package sim

import (
	"bytes"
	"testing"
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

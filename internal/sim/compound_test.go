package sim

import (
	"testing"
)

// FuzzCompound puts any compound list (and any permission rows inside
// it) to SYNO.Entry.Request: the answer is always an envelope, and never
// code 100, which is what a handler's panic becomes.
func FuzzCompound(f *testing.F) {
	for _, s := range []string{
		``, `[]`, `{}`, `[1]`, `[{}]`, `[null]`, `[{"api":1}]`, `[{"api":"SYNO.Core.Share","method":"list","version":"x"}]`,
		`[{"api":"SYNO.Core.Share","method":"list","version":1}]`,
		`[{"api":"SYNO.Core.Share.Permission","method":"set_by_user_group","version":1,"name":"alice","user_group_type":"local_user","permissions":[{"name":"public","is_deny":true}]}]`,
		`[{"api":"SYNO.Core.Share.Permission","method":"set","version":1,"name":"public","user_group_type":"local_group","permissions":[{"name":"users","is_readonly":"yes"}]}]`,
		`[{"api":"SYNO.Core.Share.Permission","method":"set","version":1,"name":"public","user_group_type":"local_user","permissions":[{}]}]`,
		`[{"api":"SYNO.Core.User.Home","method":"set","version":1,"enable":true,"location":"/volume2"}]`,
		`[{"api":"SYNO.Core.Share","method":"create","version":1,"name":"x","shareinfo":{"vol_path":"/volume1","hidden":"no"}}]`,
		`[{"api":"SYNO.Entry.Request","method":"request","version":1,"compound":[]}]`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	s := newServer(f, Config{Users: []User{{Name: "alice", Password: "x"}}})
	admin := s.mustLogin(f, "admin", adminPW)
	f.Fuzz(func(t *testing.T, compound string, stop bool) {
		stopText := "false"
		if stop {
			stopText = "true"
		}
		a := s.callKV(t, admin, "SYNO.Entry.Request", "request", "compound", compound, "stop_when_error", stopText)
		if a.code() == codeUnknown || a.code() == -1 {
			t.Fatalf("compound %q: %s", compound, a.raw)
		}
		if a.Success && len(a.Data) > 0 {
			var d struct {
				Result []struct {
					Error *struct {
						Code int `json:"code"`
					} `json:"error"`
				} `json:"result"`
			}
			a.data(t, &d)
			for _, r := range d.Result {
				if r.Error != nil && r.Error.Code == codeUnknown {
					t.Fatalf("compound %q: a call answered 100: %s", compound, a.raw)
				}
			}
		}
	})
}

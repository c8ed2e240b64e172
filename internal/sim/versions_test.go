package sim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDSMVersionConfig(t *testing.T) {
	t.Parallel()
	if s := newServer(t, Config{}); s.DSMVersion() != DefaultDSMVersion || DefaultDSMVersion != DSMVersions[len(DSMVersions)-1] {
		t.Errorf("default release %s, want the newest modelled %s", s.DSMVersion(), DSMVersions[len(DSMVersions)-1])
	}
	for _, v := range DSMVersions {
		if s := newServer(t, Config{DSMVersion: v}); s.DSMVersion() != v {
			t.Errorf("DSMVersion %s runs as %s", v, s.DSMVersion())
		}
	}
	k, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"7", "7.1", "6.2", "8.0", "latest"} {
		_, err := New(Config{DSMVersion: v, RSAKey: k})
		if err == nil || !strings.Contains(err.Error(), "7.2, 7.3, 7.4") {
			t.Errorf("DSMVersion %q: error %v, want one naming the modelled releases", v, err)
		}
	}
}

// userGroupsRaw returns the groups field of name's record from get, as
// DSM sent it.
func userGroupsRaw(t *testing.T, s *Server, d loginData, name string) string {
	t.Helper()
	a := s.call1(t, d, "SYNO.Core.User", "get", "name", name, "additional", `["groups"]`)
	var got struct {
		Users []struct {
			Groups json.RawMessage `json:"groups"`
		} `json:"users"`
	}
	a.data(t, &got)
	if len(got.Users) != 1 {
		t.Fatalf("get %s: %s", name, a.raw)
	}
	return string(got.Users[0].Groups)
}

func TestUserGroupsShapePerRelease(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		// batonogov 40ae1ea: objects, users inherited.
		DSM72: `[{"name":"administrators","inherited":false},{"name":"staff","inherited":false},{"name":"users","inherited":true}]`,
		DSM73: `[{"name":"administrators","inherited":false},{"name":"staff","inherited":false},{"name":"users","inherited":true}]`,
		// math65/dsmaccess reads names on 7.4.
		DSM74: `["administrators","staff","users"]`,
	}
	for _, v := range DSMVersions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{DSMVersion: v, Groups: []Group{{Name: "staff"}},
				Users: []User{{Name: "alice", Password: "alice-pw", Admin: true, Groups: []string{"staff"}}}})
			admin := s.mustLogin(t, "admin", adminPW)
			if got := userGroupsRaw(t, s, admin, "alice"); got != want[v] {
				t.Errorf("groups of alice:\n got %s\nwant %s", got, want[v])
			}
			a := s.call1(t, admin, "SYNO.Core.User", "list", "additional", `["groups"]`)
			if !a.Success || !strings.Contains(string(a.Data), want[v]) {
				t.Errorf("list does not show alice's groups as %s: %s", want[v], a.raw)
			}
		})
	}
}

func TestUserListUIDInAdditional(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "alice-pw"}}})
	admin := s.mustLogin(t, "admin", adminPW)
	var got struct {
		Users []map[string]any `json:"users"`
	}
	s.call1(t, admin, "SYNO.Core.User", "list", "additional", `["uid"]`).data(t, &got)
	want := []map[string]any{{"name": "admin", "uid": 1024.0}, {"name": "alice", "uid": 1026.0}, {"name": "guest", "uid": 1025.0}}
	if d := cmp.Diff(want, got.Users); d != "" {
		t.Errorf("list with uid (-want +got):\n%s", d)
	}
	got.Users = nil
	s.call1(t, admin, "SYNO.Core.User", "list").data(t, &got)
	if _, ok := got.Users[0]["uid"]; ok {
		t.Errorf("list without additional answers uid: %v", got.Users[0])
	}
}

func TestExpiredDateWithLeadingZeros(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "alice-pw"}}})
	admin := s.mustLogin(t, "admin", adminPW)
	for _, tt := range []struct{ in, want string }{
		{"2099/03/05", "2099/3/5"}, {"2099/3/05", "2099/3/5"}, {"2099/12/01", "2099/12/1"}, {"2099/11/30", "2099/11/30"},
	} {
		if a := s.call1(t, admin, "SYNO.Core.User", "set", "name", "alice", "expired", tt.in); !a.Success {
			t.Fatalf("set expired %s: %s", tt.in, a.raw)
		}
		if got := s.userOf("alice").expired; got != tt.want {
			t.Errorf("set expired %s: kept %s, want %s", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"2099-03-05", "2099/003/5", "2099/2/30", "2099/03/", "2099/+3/5", "099/3/5"} {
		if a := s.call1(t, admin, "SYNO.Core.User", "set", "name", "alice", "expired", bad); a.code() != 3103 {
			t.Errorf("set expired %s: code %d, want 3103", bad, a.code())
		}
	}
}

func TestLoginVersion6(t *testing.T) {
	t.Parallel()
	for _, v := range DSMVersions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, Config{DSMVersion: v, Users: []User{{Name: "otto", Password: "otto-pw", OTPSecret: otpSecret, Admin: true}}})
			login := func(version string, kv ...string) answer {
				return s.do(t, call{form: form(append([]string{"api", "SYNO.API.Auth", "version", version, "method", "login",
					"account", "otto", "passwd", "otto-pw", "format", "sid", "enable_syno_token", "yes"}, kv...)...)})
			}
			// A device token from a version 6 login is "did" (DSM 6's
			// name), and it skips the code on a later login.
			a := login("6", "otp_code", totpAt(t, s.Now()), "enable_device_token", "yes", "device_name", "box")
			var d6 struct {
				DID       string  `json:"did"`
				DeviceID  *string `json:"device_id"`
				SID       string  `json:"sid"`
				SynoToken string  `json:"synotoken"`
			}
			a.data(t, &d6)
			if d6.DID == "" || d6.DeviceID != nil {
				t.Fatalf("version 6 login: %s, want did and no device_id", a.raw)
			}
			a = login("7", "device_id", d6.DID)
			var d7 loginData
			a.data(t, &d7)
			if !a.Success || strings.Contains(a.raw, `"did"`) {
				t.Fatalf("version 7 login with the did: %s", a.raw)
			}

			// The version 6 session reads users but cannot change them.
			v6 := loginData{SID: d6.SID, SynoToken: d6.SynoToken}
			if a := s.call1(t, v6, "SYNO.Core.User", "list"); !a.Success {
				t.Errorf("version 6 session, list: %s", a.raw)
			}
			writes := [][]string{
				{"SYNO.Core.User", "create", "name", "bob", "password", strongPW},
				{"SYNO.Core.User", "set", "name", "otto", "description", "x"},
				{"SYNO.Core.User", "delete", "name", `["guest"]`},
				{"SYNO.Core.Group", "create", "name", "staff"},
				{"SYNO.Core.Group.Member", "add", "group", "administrators", "name", `["guest"]`},
				{"SYNO.Core.User.Group", "join", "name", "otto", "join_group", `["http"]`, "leave_group", `[]`},
			}
			before := s.snapshot(t)
			for _, w := range writes {
				if a := s.callKV(t, v6, w...); a.code() != 105 {
					t.Errorf("version 6 session, %s %s: code %d, want 105", w[0], w[1], a.code())
				}
			}
			if string(s.snapshot(t)) != string(before) {
				t.Error("a refused version 6 write changed the state")
			}
			// The version 7 session of the same account can.
			if a := s.call1(t, d7, "SYNO.Core.Group", "create", "name", "staff"); !a.Success {
				t.Errorf("version 7 session, group create: %s", a.raw)
			}
		})
	}
}

func TestOTPRequiredTypes(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "otto", Password: "otto-pw", OTPSecret: otpSecret}}})
	a := s.do(t, loginCall("otto", "otto-pw"))
	var e struct {
		Token string `json:"token"`
		Types []struct {
			Type string `json:"type"`
		} `json:"types"`
	}
	if a.code() != 403 {
		t.Fatalf("login without a code: %s", a.raw)
	}
	if err := json.Unmarshal(a.Error.Errors, &e); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ty := range e.Types {
		types = append(types, ty.Type)
	}
	// As every published 403 shows (home-assistant/core #54238).
	if d := cmp.Diff([]string{"authenticator", "fido", "otp"}, types); d != "" || e.Token == "" {
		t.Errorf("403 errors %s (-want +got types):\n%s", a.Error.Errors, d)
	}
}

package sim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// realDir holds answers real NAS boxes gave (provenance in its README.md),
// at the root of the module.
var realDir = filepath.Join("..", "..", "testdata", "real")

// realCase is the simulator's side of one real answer: how to make the
// same call, and what the simulator leaves out on purpose.
type realCase struct {
	// run makes the call of the real answer on a fresh simulator and
	// returns the simulator's answer; it may skip the test.
	run func(t *testing.T) answer
	// omitted are keys (as paths, e.g. "data.ik_message") of the real
	// answer that the simulator leaves out, each with the reason.
	omitted map[string]string
}

// TestRealAnswersShape makes each call of testdata/real on the simulator
// and checks that its answer has the keys of DSM's, at every level, with
// the same JSON types. Values may differ.
func TestRealAnswersShape(t *testing.T) {
	t.Parallel()
	otto := User{Name: "otto", Password: "otto-pw", OTPSecret: otpSecret, Admin: true}
	testAPI := User{Name: "test_api", Password: "test-pw", PasswordNeverExpire: true}
	login := func(t *testing.T, s *Server, version string, kv ...string) answer {
		return s.do(t, call{form: form(append([]string{"api", "SYNO.API.Auth", "version", version, "method", "login",
			"account", "otto", "passwd", "otto-pw", "format", "sid"}, kv...)...)})
	}
	// asAdmin runs one call as admin on a simulator of cfg.
	asAdmin := func(cfg Config, api, method, version string, kv ...string) func(t *testing.T) answer {
		return func(t *testing.T) answer {
			s := newServer(t, cfg)
			admin := s.mustLogin(t, "admin", adminPW)
			return s.do(t, authed(admin, append([]string{"api", api, "method", method, "version", version}, kv...)...))
		}
	}
	infoOf := func(file string) func(t *testing.T) answer {
		return func(t *testing.T) answer {
			var real struct {
				Data map[string]any `json:"data"`
			}
			if err := json.Unmarshal(readReal(t, file), &real); err != nil {
				t.Fatal(err)
			}
			var names []string
			for n := range real.Data {
				names = append(names, n)
			}
			s := newServer(t, Config{})
			return s.do(t, call{form: form("api", "SYNO.API.Info", "version", "1", "method", "query", "query", strings.Join(names, ","))})
		}
	}

	cases := map[string]realCase{
		"info_query.json":          {run: infoOf("info_query.json")},
		"info_query_dsm_info.json": {run: infoOf("info_query_dsm_info.json")},
		"auth_login_v7.json": {
			run: func(t *testing.T) answer {
				s := newServer(t, Config{Users: []User{otto}})
				return login(t, s, "7", "otp_code", totpAt(t, s.Now()), "enable_device_token", "yes", "device_name", "homeassistant")
			},
			omitted: map[string]string{
				"data.ik_message": "the simulator does not complete the Noise handshake, and an empty ik_message crashes N4S4/synology-api's Noise library",
			},
		},
		"auth_login_v6.json": {run: func(t *testing.T) answer {
			s := newServer(t, Config{Users: []User{otto}})
			return login(t, s, "6", "otp_code", totpAt(t, s.Now()), "enable_device_token", "yes", "device_name", "box", "enable_syno_token", "yes")
		}},
		"auth_login_403.json": {run: func(t *testing.T) answer {
			return login(t, newServer(t, Config{Users: []User{otto}}), "7")
		}},
		"dsm_info_getinfo.json": {run: asAdmin(Config{}, "SYNO.DSM.Info", "getinfo", "2")},
		"user_list_names.json":  {run: asAdmin(Config{}, "SYNO.Core.User", "list", "1", "type", "local", "offset", "0", "limit", "-1")},
		"user_list_additional.json": {run: asAdmin(Config{Users: []User{testAPI}}, "SYNO.Core.User", "list", "1",
			"type", "local", "offset", "0", "limit", "-1", "additional", `["description","email","expired","passwd_never_expire"]`)},
		// DSM 7.3: groups as {name, inherited} objects.
		"user_list_groups_objects.json": {run: asAdmin(Config{DSMVersion: DSM73, Users: []User{testAPI}}, "SYNO.Core.User", "list", "1",
			"type", "local", "offset", "0", "limit", "-1", "additional", `["uid","description","groups"]`)},
		"user_get.json": {run: asAdmin(Config{Users: []User{testAPI}}, "SYNO.Core.User", "get", "1", "name", "test_api",
			"additional", `["description","email","expired","cannot_chg_passwd","passwd_never_expire","password_last_change","is_password_pending"]`)},
		"user_create.json": {run: asAdmin(Config{}, "SYNO.Core.User", "create", "1", "name", "toto", "password", strongPW)},
		"user_set.json": {run: asAdmin(Config{Users: []User{testAPI}}, "SYNO.Core.User", "set", "1",
			"name", "test_api", "new_name", "test_user2", "password", strongPW)},
		"user_group_join.json": {run: asAdmin(Config{Users: []User{testAPI}}, "SYNO.Core.User.Group", "join", "1",
			"name", "test_api", "join_group", `["administrators"]`, "leave_group", `[]`)},
		"user_group_join_status.json": {run: func(t *testing.T) answer {
			// A task still running, as in the real answer.
			s := newServer(t, Config{Users: []User{testAPI}, JoinDelay: time.Hour})
			admin := s.mustLogin(t, "admin", adminPW)
			a := s.call1(t, admin, "SYNO.Core.User.Group", "join", "name", "test_api", "join_group", `["administrators"]`, "leave_group", `[]`)
			var task struct {
				TaskID string `json:"task_id"`
			}
			a.data(t, &task)
			return s.call1(t, admin, "SYNO.Core.User.Group", "join_status", "task_id", task.TaskID)
		}},
		"group_list.json": {run: asAdmin(Config{Groups: []Group{{Name: "Test", Description: "A test group"}}}, "SYNO.Core.Group", "list", "1",
			"type", "local", "offset", "0", "limit", "-1", "name_only", "false")},
		"quota_get_group.json": {run: asAdmin(Config{Groups: []Group{{Name: "group_name"}}}, "SYNO.Core.Quota", "get", "1",
			"name", "group_name", "subject_type", "group", "support_share_quota", "true")},
		"quota_set.json": {run: asAdmin(Config{Groups: []Group{{Name: "group_name"}}}, "SYNO.Core.Quota", "set", "1",
			"name", "group_name", "group_quota", `[{"share":"public","quota":1024}]`)},
		"bandwidth_get_group.json": {run: asAdmin(Config{Groups: []Group{{Name: "group_name"}}}, "SYNO.Core.BandwidthControl", "get", "2",
			"name", "group_name", "owner_type", "local_group")},
		"bandwidth_set.json": {run: asAdmin(Config{Groups: []Group{{Name: "group_name"}}}, "SYNO.Core.BandwidthControl", "set", "1",
			"bandwidths", `[{"upload_limit_1":100,"download_limit_1":100,"policy":"enabled","protocol":"FTP","owner_type":"local_group","schedule_plan":"`+fullSchedule+`","upload_limit_2":0,"download_limit_2":0,"name":"group_name"}]`)},
		"apppriv_app_list.json":  {run: asAdmin(Config{}, "SYNO.Core.AppPriv.App", "list", "3", "offset", "0", "limit", "20")},
		"group_member_list.json": {run: asAdmin(Config{}, "SYNO.Core.Group.Member", "list", "1", "group", "administrators", "ingroup", "true")},
		"group_set.json": {run: asAdmin(Config{Groups: []Group{{Name: "Test", Description: "A test group"}}}, "SYNO.Core.Group", "set", "1",
			"name", "Test", "new_name", "Test_mod", "description", "A test group")},
		"share_list.json": {run: asAdmin(Config{}, "SYNO.Core.Share", "list", "1", "share_type", `"all"`, "additional", `[]`)},
		"share_get.json": {run: asAdmin(Config{}, "SYNO.Core.Share", "get", "1", "name", `"public"`,
			"additional", `["disable_list","disable_modify","disable_download","unite_permission","is_aclmode"]`)},
		"share_create.json": {run: asAdmin(Config{}, "SYNO.Core.Share", "create", "1", "name", `"test_shared_folder"`,
			"shareinfo", `{"name":"test_shared_folder","vol_path":"/volume1","desc":""}`)},
		// with_inherit: the published answer has inherit.
		"share_permission_list.json": {run: asAdmin(Config{Users: []User{testAPI}}, "SYNO.Core.Share.Permission", "list", "1",
			"name", `"public"`, "user_group_type", `"local_user"`, "offset", "0", "limit", "50", "with_inherit", "true")},
		"share_permission_list_by_group.json": {run: asAdmin(Config{}, "SYNO.Core.Share.Permission", "list_by_group", "1",
			"name", `"users"`, "user_group_type", `"local_group"`, "share_type", `["dec","local","usb","sata","cluster","c2","cold_storage","worm"]`,
			"additional", `["hidden","encryption","is_aclmode"]`)},
	}

	files, err := filepath.Glob(filepath.Join(realDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names, covered []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for name := range cases {
		covered = append(covered, name)
	}
	sort.Strings(covered)
	if len(names) == 0 {
		t.Fatalf("no real answers in %s", realDir)
	}
	if d := cmp.Diff(names, covered); d != "" {
		t.Errorf("the files of %s and the cases of this test differ (-files +cases):\n%s", realDir, d)
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var real any
			if err := json.Unmarshal(readReal(t, name), &real); err != nil {
				t.Fatal(err)
			}
			a := c.run(t)
			var got any
			if err := json.Unmarshal([]byte(a.raw), &got); err != nil {
				t.Fatalf("the simulator's answer is not JSON: %q", a.raw)
			}
			var diffs []string
			compareShapes("", real, got, c.omitted, &diffs)
			for _, d := range diffs {
				t.Error(d)
			}
			if len(diffs) > 0 {
				t.Logf("DSM:       %s\nsimulator: %s", strings.Join(strings.Fields(string(readReal(t, name))), " "), a.raw)
			}
		})
	}
}

func readReal(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(realDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// compareShapes appends to diffs every difference of keys and JSON types
// between real (DSM's answer) and sim (the simulator's) below path. Each
// element of a list is compared with the simulator's element at the same
// index, or its last one. Keys of omitted are allowed to be missing from
// sim.
func compareShapes(path string, real, sim any, omitted map[string]string, diffs *[]string) {
	name := path
	if name == "" {
		name = "the answer"
	}
	if rk, sk := jsonKind(real), jsonKind(sim); rk != sk {
		*diffs = append(*diffs, fmt.Sprintf("%s: DSM sent a %s, the simulator a %s", name, rk, sk))
		return
	}
	switch r := real.(type) {
	case map[string]any:
		s := sim.(map[string]any)
		keys := make([]string, 0, len(r)+len(s))
		for k := range r {
			keys = append(keys, k)
		}
		for k := range s {
			if _, ok := r[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			rv, inReal := r[k]
			sv, inSim := s[k]
			switch {
			case !inSim:
				if _, ok := omitted[sub]; !ok {
					*diffs = append(*diffs, fmt.Sprintf("%s: DSM sent it, the simulator does not", sub))
				}
			case !inReal:
				*diffs = append(*diffs, fmt.Sprintf("%s: the simulator sends it, DSM did not", sub))
			default:
				compareShapes(sub, rv, sv, omitted, diffs)
			}
		}
	case []any:
		s := sim.([]any)
		if len(r) > 0 && len(s) == 0 {
			*diffs = append(*diffs, fmt.Sprintf("%s: DSM's list has entries, the simulator's none, so they cannot be compared", name))
			return
		}
		for i, rv := range r {
			compareShapes(path+"[]", rv, s[min(i, len(s)-1)], omitted, diffs)
		}
	}
}

func TestCompareShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		real, sim string
		omitted   map[string]string
		want      []string
	}{
		{real: `{"a":1,"b":"x","c":[{"d":true}]}`, sim: `{"a":2,"b":"y","c":[{"d":false},{"d":true}]}`},
		{real: `{"a":1}`, sim: `{"a":"1"}`, want: []string{"a: DSM sent a number, the simulator a string"}},
		{real: `{"a":1,"b":2}`, sim: `{"a":1}`, want: []string{"b: DSM sent it, the simulator does not"}},
		{real: `{"a":1,"b":2}`, sim: `{"a":1}`, omitted: map[string]string{"b": "on purpose"}},
		{real: `{"a":1}`, sim: `{"a":1,"z":null}`, want: []string{"z: the simulator sends it, DSM did not"}},
		{real: `{"l":[{"n":"x","i":true}]}`, sim: `{"l":["x"]}`, want: []string{"l[]: DSM sent a object, the simulator a string"}},
		{real: `{"l":[{"n":"x"}]}`, sim: `{"l":[]}`, want: []string{"l: DSM's list has entries, the simulator's none, so they cannot be compared"}},
		{real: `{"l":[]}`, sim: `{"l":[1]}`},
		{real: `[1]`, sim: `{}`, want: []string{"the answer: DSM sent a list, the simulator a object"}},
		{real: `{"o":{"p":{"q":1}}}`, sim: `{"o":{"p":{"q":false}}}`, want: []string{"o.p.q: DSM sent a number, the simulator a boolean"}},
	}
	for _, tt := range tests {
		var real, sim any
		if err := json.Unmarshal([]byte(tt.real), &real); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(tt.sim), &sim); err != nil {
			t.Fatal(err)
		}
		var got []string
		compareShapes("", real, sim, tt.omitted, &got)
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s vs %s (-want +got):\n%s", tt.real, tt.sim, d)
		}
	}
}

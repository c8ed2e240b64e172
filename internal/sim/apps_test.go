package sim

import (
	"strings"
	"testing"
)

func TestAppPrivileges(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "x"}}, Groups: []Group{{Name: "staff"}}})
	admin := s.mustLogin(t, "admin", adminPW)
	a := s.callV(t, admin, "3", "SYNO.Core.AppPriv.App", "list", "offset", "0", "limit", "2")
	if want := `{"applications":[` +
		`{"app_id":"SYNO.AFP","grant_by_default":true,"grant_type":["local","domain","ldap"],"isInternal":true,"name":"AFP","service_type":"modules/LegacyApps","supportIP":true},` +
		`{"app_id":"SYNO.Desktop","grant_by_default":true,"grant_type":["local","domain","ldap"],"isInternal":true,"name":"DSM","service_type":"modules/LegacyApps","supportIP":true}],` +
		`"offset":0,"total":7}`; string(a.Data) != want {
		t.Errorf("list:\n got %s\nwant %s", a.Data, want)
	}
	rule := func(app, typ, name, allow, deny string) string {
		return `{"app_id":"` + app + `","entity_type":"` + typ + `","entity_name":"` + name + `","allow_ip":` + allow + `,"deny_ip":` + deny + `}`
	}
	for _, kv := range [][]string{
		{"SYNO.Core.AppPriv.Rule", "set", "rules", "[" + rule("SYNO.FTP", "user", "Alice", `[]`, `["0.0.0.0"]`) + "," + rule("SYNO.SFTP", "user", "alice", `["10.0.0.0/8","192.168.1.10"]`, `[]`) + "]"},
		{"SYNO.Core.AppPriv.Rule", "set", "rules", "[" + rule("SYNO.Desktop", "group", "staff", `["0.0.0.0"]`, `[]`) + "]"},
		{"SYNO.Core.AppPriv.Rule", "set", "rules", "[" + rule("SYNO.AFP", "user", "alice", `["0.0.0.0"]`, `[]`) + "]"},
		{"SYNO.Core.AppPriv.Rule", "delete", "rules", `[{"app_id":"SYNO.AFP","entity_type":"user","entity_name":"alice"}]`},
		{"SYNO.Core.AppPriv.Rule", "delete", "rules", `[{"app_id":"SYNO.Rsync","entity_type":"user","entity_name":"alice"}]`},
	} {
		if a := s.callKV(t, admin, kv...); !a.Success || a.Data != nil {
			t.Fatalf("%v: %s, want success and no data", kv, a.raw)
		}
	}
	a = s.callKV(t, admin, "SYNO.Core.AppPriv.Rule", "get", "entity_type", "user", "entity_name", "alice")
	if want := `{"rules":[` +
		`{"app_id":"SYNO.FTP","allow_ip":[],"deny_ip":["0.0.0.0"],"entity_name":"alice","entity_type":"user"},` +
		`{"app_id":"SYNO.SFTP","allow_ip":["10.0.0.0/8","192.168.1.10"],"deny_ip":[],"entity_name":"alice","entity_type":"user"}]}`; string(a.Data) != want {
		t.Errorf("user rules:\n got %s\nwant %s", a.Data, want)
	}
	a = s.callKV(t, admin, "SYNO.Core.AppPriv.Rule", "get", "entity_type", "group", "entity_name", "staff")
	if want := `{"rules":[{"app_id":"SYNO.Desktop","allow_ip":["0.0.0.0"],"deny_ip":[],"entity_name":"staff","entity_type":"group"}]}`; string(a.Data) != want {
		t.Errorf("group rules: %s", a.Data)
	}
	a = s.callKV(t, admin, "SYNO.Core.AppPriv.Rule", "list", "app_id", "SYNO.Desktop")
	if want := `{"rules":[{"app_id":"SYNO.Desktop","allow_ip":["0.0.0.0"],"deny_ip":[],"entity_name":"everyone","entity_type":"everyone"},` +
		`{"app_id":"SYNO.Desktop","allow_ip":["0.0.0.0"],"deny_ip":[],"entity_name":"staff","entity_type":"group"}]}`; string(a.Data) != want {
		t.Errorf("list:\n got %s\nwant %s", a.Data, want)
	}
	a = s.callKV(t, admin, "SYNO.Core.AppPriv.Rule", "list", "app_id", "SYNO.Finder.Application")
	if string(a.Data) != `{"rules":[]}` {
		t.Errorf("list of an app denied by default, no rules: %s", a.Data)
	}
	many := `["` + strings.Repeat(`10.0.0.1","`, 64) + `10.0.0.2"]`
	set := func(r string) []string { return []string{"SYNO.Core.AppPriv.Rule", "set", "rules", "[" + r + "]"} }
	checkRefusals(t, s, admin, []refusal{
		{"get: no entity", []string{"SYNO.Core.AppPriv.Rule", "get"}, 3400},
		{"get: everyone", []string{"SYNO.Core.AppPriv.Rule", "get", "entity_type", "everyone", "entity_name", "everyone"}, 3400},
		{"get: no such user", []string{"SYNO.Core.AppPriv.Rule", "get", "entity_type", "user", "entity_name", "nobody"}, 3403},
		{"get: no such group", []string{"SYNO.Core.AppPriv.Rule", "get", "entity_type", "group", "entity_name", "nobody"}, 3403},
		{"set: no rules", []string{"SYNO.Core.AppPriv.Rule", "set"}, 3400},
		{"set: unknown app", set(rule("SYNO.Nope", "user", "alice", `["0.0.0.0"]`, `[]`)), 3400},
		{"set: empty rule", set(rule("SYNO.FTP", "user", "alice", `[]`, `[]`)), 3400},
		{"set: no deny list", set(`{"app_id":"SYNO.FTP","entity_type":"user","entity_name":"alice","allow_ip":["0.0.0.0"]}`), 3400},
		{"set: bad address", set(rule("SYNO.FTP", "user", "alice", `["10.0.0.300"]`, `[]`)), 3400},
		{"set: unmasked prefix", set(rule("SYNO.FTP", "user", "alice", `["10.0.0.1/8"]`, `[]`)), 3400},
		{"set: too many addresses", set(rule("SYNO.FTP", "user", "alice", many, `[]`)), 3400},
		{"set: no such user", set(rule("SYNO.FTP", "user", "nobody", `["0.0.0.0"]`, `[]`)), 3403},
		{"set: not a list of rules", []string{"SYNO.Core.AppPriv.Rule", "set", "rules", `{"app_id":"SYNO.FTP"}`}, 3405},
		{"set: empty list", []string{"SYNO.Core.AppPriv.Rule", "set", "rules", `[]`}, 3400},
		{"set: all or nothing", []string{"SYNO.Core.AppPriv.Rule", "set", "rules", "[" + rule("SYNO.AFP", "user", "alice", `["0.0.0.0"]`, `[]`) + "," + rule("SYNO.FTP", "user", "alice", `[]`, `[]`) + "]"}, 3400},
		{"list: unknown app", []string{"SYNO.Core.AppPriv.Rule", "list", "app_id", "SYNO.Nope"}, 3400},
		{"delete: unknown app", []string{"SYNO.Core.AppPriv.Rule", "delete", "rules", `[{"app_id":"SYNO.Nope","entity_type":"user","entity_name":"alice"}]`}, 3400},
	})
}

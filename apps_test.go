package dsm

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateAppAddress(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"0.0.0.0", "10.0.0.1", "10.0.0.0/8", "192.168.1.0/24", "fd00::/8", "::1"} {
		if err := ValidateAppAddress(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "all", "10.0.0.1/8", "10.0.0.256", "10.0.0.0/33", "10.0.0.1-10.0.0.9", " 10.0.0.1"} {
		if err := ValidateAppAddress(bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q: %v, want an *ArgError", bad, err)
		}
	}
}

// TestAppRulesWire: what Allow, Deny and Default send (math65/dsmaccess's
// shapes), and how answers of other clients' captures decode.
func TestAppRulesWire(t *testing.T) {
	t.Parallel()
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		switch form.Get("api") + " " + form.Get("method") {
		case "SYNO.Core.AppPriv.App list":
			// N4S4/synology-api ApplicationPrivileges.py's example, and
			// a name sent as a list (ychiu1211/dsmctl's fixture).
			return []byte(`{"success":true,"data":{"applications":[` +
				`{"app_id":"SYNO.AFP","grant_by_default":true,"grant_type":["local","domain","ldap"],"isInternal":true,"name":"AFP","service_type":"modules/LegacyApps","supportIP":true},` +
				`{"app_id":"SYNO.Finder.Application","name":["Universal Search"],"grant_by_default":false},{"name":"no id"}],"offset":0,"total":3}}`)
		case "SYNO.Core.AppPriv.Rule get":
			// dsmaccess DSMPermissionServiceTests.swift, plus a rule of
			// everyone as a per-app list shows it.
			return []byte(`{"success":true,"data":{"rules":[` +
				`{"app_id":"SYNO.Desktop","allow_ip":[],"deny_ip":["0.0.0.0"],"entity_name":"martine","entity_type":"user"},` +
				`{"app_id":"SYNO.FTP","allow_ip":["192.168.1.10"],"deny_ip":[],"entity_name":"martine","entity_type":"user"},` +
				`{"app_id":"SYNO.SFTP","allow_ip":["0.0.0.0"],"deny_ip":[],"entity_name":"everyone","entity_type":"everyone"}]}}`)
		}
		return []byte(`{"success":true}`)
	})
	for _, api := range []string{"SYNO.Core.AppPriv.App", "SYNO.Core.AppPriv.Rule"} {
		f.info[api] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 3, RequestFormat: "JSON"}
	}
	c := f.client(t, WithSession(Session{SID: "s"}))
	ctx := t.Context()
	apps, err := c.Apps.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]App{{"SYNO.AFP", "AFP", true}, {"SYNO.Finder.Application", "Universal Search", false}}, apps); d != "" {
		t.Errorf("List (-want +got):\n%s", d)
	}
	if v := f.last("SYNO.Core.AppPriv.App").form.Get("version"); v != "3" {
		t.Errorf("App list at version %s, want 3, the highest offered", v)
	}
	rules, err := c.Apps.Rules(ctx, UserPrincipal("martine"))
	if err != nil {
		t.Fatal(err)
	}
	want := []AppRule{{App: "SYNO.Desktop", Allow: []string{}, Deny: []string{"0.0.0.0"}}, {App: "SYNO.FTP", Allow: []string{"192.168.1.10"}, Deny: []string{}}}
	if d := cmp.Diff(want, rules); d != "" {
		t.Errorf("Rules (-want +got):\n%s", d)
	}
	if rules[0].Decision() != "deny" || rules[1].Decision() != "custom" {
		t.Errorf("decisions %s, %s", rules[0].Decision(), rules[1].Decision())
	}
	for _, tt := range []struct {
		do     func() error
		method string
		rules  string
	}{
		{func() error { return c.Apps.Allow(ctx, UserPrincipal("bob"), "SYNO.FTP") }, "set",
			`[{"app_id":"SYNO.FTP","entity_type":"user","entity_name":"bob","allow_ip":["0.0.0.0"],"deny_ip":[]}]`},
		{func() error {
			return c.Apps.Deny(ctx, GroupPrincipal("staff"), "SYNO.SFTP", "10.0.0.0/8", "192.168.1.7/32", "0.0.0.0/0")
		}, "set",
			`[{"app_id":"SYNO.SFTP","entity_type":"group","entity_name":"staff","allow_ip":[],"deny_ip":["10.0.0.0/8","192.168.1.7","0.0.0.0"]}]`},
		{func() error { return c.Apps.Default(ctx, UserPrincipal("bob"), "SYNO.FTP", "SYNO.AFP") }, "delete",
			`[{"app_id":"SYNO.FTP","entity_type":"user","entity_name":"bob"},{"app_id":"SYNO.AFP","entity_type":"user","entity_name":"bob"}]`},
	} {
		if err := tt.do(); err != nil {
			t.Fatal(err)
		}
		r := f.last("SYNO.Core.AppPriv.Rule")
		if r.form.Get("method") != tt.method || r.form.Get("rules") != tt.rules {
			t.Errorf("sent %s %s, want %s %s", r.form.Get("method"), r.form.Get("rules"), tt.method, tt.rules)
		}
	}
	sent := len(f.requests)
	for name, err := range map[string]error{
		"bad address":   c.Apps.Allow(ctx, UserPrincipal("bob"), "SYNO.FTP", "10.0.0.1/8"),
		"empty rule":    c.Apps.SetRules(ctx, UserPrincipal("bob"), AppRule{App: "SYNO.FTP"}),
		"bad app":       c.Apps.Allow(ctx, UserPrincipal("bob"), "SYNO FTP"),
		"bad group":     c.Apps.Default(ctx, GroupPrincipal("a:b"), "SYNO.FTP"),
		"no app":        c.Apps.Default(ctx, UserPrincipal("bob")),
		"too many":      c.Apps.Allow(ctx, UserPrincipal("bob"), "SYNO.FTP", make65()...),
		"no rule given": c.Apps.SetRules(ctx, UserPrincipal("bob")),
	} {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want an *ArgError", name, err)
		}
	}
	if len(f.requests) != sent {
		t.Errorf("refused rules sent %d requests", len(f.requests)-sent)
	}
}

func make65() []string {
	out := make([]string, MaxAppRuleAddresses+1)
	for i := range out {
		out[i] = "10.0.0.1"
	}
	return out
}

func TestAppPrivMessages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		api  string
		code int
		want string
	}{
		{"SYNO.Core.AppPriv.Rule", 3403, "no such user or group"},
		{"SYNO.Core.AppPriv.Rule", 3405, "wrong data format"},
		{"SYNO.Core.AppPriv.App", 3400, "system error (bad or missing parameters)"},
		{"SYNO.Core.User", 3403, "unknown error code"},
	} {
		if got := CodeMessage(tt.api, tt.code); got != tt.want {
			t.Errorf("CodeMessage(%s, %d) = %q, want %q", tt.api, tt.code, got, tt.want)
		}
	}
}

package dsm

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBasePathOnEveryRequest runs every kind of request a client sends
// (discovery, the encryption key over plain http, login, a call, logout)
// against the fake, which serves only under fakeBasePath: the base URL's
// path prefix of a NAS behind a reverse proxy is kept on each of them.
func TestBasePathOnEveryRequest(t *testing.T) {
	v, _ := loadVectors(t)
	for _, tt := range []struct {
		name  string
		start func(*testing.T, func(*http.Request, url.Values) any) *fakeDSM
		want  []string
	}{
		{"https", newFakeDSM, []string{"SYNO.API.Info query", "SYNO.API.Auth login", "SYNO.Core.User list", "SYNO.API.Auth logout"}},
		{"http", newPlainFakeDSM, []string{"SYNO.API.Info query", "SYNO.API.Encryption getinfo", "SYNO.API.Auth login", "SYNO.Core.User list", "SYNO.API.Auth logout"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.start(t, func(r *http.Request, form url.Values) any {
				switch form.Get("api") + " " + form.Get("method") {
				case "SYNO.API.Encryption getinfo":
					return ok(map[string]any{"cipherkey": "__cIpHeRtExT", "ciphertoken": "__cIpHeRtOkEn",
						"public_key": v.GetinfoData.PublicKey, "server_time": 1764325000})
				case "SYNO.API.Auth login":
					return ok(map[string]any{"sid": "S", "synotoken": "T"})
				case "SYNO.API.Auth logout":
					return ok(nil)
				case "SYNO.Core.User list":
					return ok(map[string]any{"offset": 0, "total": 0, "users": []any{}})
				}
				return fail(103)
			})
			c := f.client(t, WithCredentials(Credentials{Account: "admin", Password: "pw"}))
			if got := c.BaseURL(); got != f.srv.URL+fakeBasePath {
				t.Errorf("BaseURL() = %q, want %q", got, f.srv.URL+fakeBasePath)
			}
			if _, _, err := c.Users.List(t.Context(), ListOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := c.Auth.Logout(t.Context()); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			var got []string
			for _, r := range f.requests {
				got = append(got, r.form.Get("api")+" "+r.form.Get("method"))
				if r.path != "/webapi/entry.cgi" {
					t.Errorf("%s %s sent to %s%s, want %s/webapi/entry.cgi", r.form.Get("api"), r.form.Get("method"), fakeBasePath, r.path, fakeBasePath)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("requests under %s (-want +got):\n%s", fakeBasePath, d)
			}
		})
	}
}

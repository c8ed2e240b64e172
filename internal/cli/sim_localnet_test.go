package cli

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsmkit/dsm/internal/sim"
)

// TestSimLocalNetFlag: --local-net takes CIDR lists (repeatable) or none
// alone, and refuses anything else with exit 64 and a message that says
// what is wrong.
func TestSimLocalNetFlag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--local-net", "10.0.0/8"}, `"10.0.0/8" is not a CIDR prefix`},
		{[]string{"--local-net", "lan"}, `"lan" is not a CIDR prefix`},
		{[]string{"--local-net", "10.0.0.0/8,"}, "an empty item"},
		{[]string{"--local-net", "none,10.0.0.0/8"}, "none cannot be combined"},
		{[]string{"--local-net", "none", "--local-net", "10.0.0.0/8"}, "none cannot be combined"},
		{[]string{"--local-net", "10.0.0.0/8", "--local-net", "none"}, "none cannot be combined"},
	} {
		// --cert without --key: were the flag accepted, the command would
		// fail on that rather than serve until the test times out.
		r := newEnv(t, nil).run(t, append([]string{"sim", "--listen", "127.0.0.1:0", "--cert", "cert.pem"}, tt.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "--local-net") {
			t.Errorf("%v: exit %d, stderr %q; want exit 64 saying %q", tt.args, r.code, r.stderr, tt.want)
		}
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"none"}, "none"},
		{[]string{"NONE"}, "none"},
		{[]string{"192.168.1.0/24,fd00::/8", "10.1.2.3/8"}, "192.168.1.0/24,fd00::/8,10.0.0.0/8"},
		{[]string{"203.0.113.9"}, "203.0.113.9/32"},
	} {
		flags := newSimCmd(&IOStreams{}, func(string) string { return "" }, &globalOptions{}).Flags()
		for _, a := range tt.args {
			if err := flags.Set("local-net", a); err != nil {
				t.Fatalf("--local-net %s: %v", a, err)
			}
		}
		if got := flags.Lookup("local-net").Value.String(); got != tt.want {
			t.Errorf("--local-net %v = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// TestSimLocalNetNone: with --local-net none a loopback client that logs
// in without the secure sign-in may list users but not create one (105),
// and the start-up output says every client is remote.
func TestSimLocalNetNone(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		nets []netip.Prefix
		want int
		line string
	}{
		{"none", []netip.Prefix{}, 105, "every client is remote (--local-net none)"},
		{"default", nil, 0, "local clients (full access without the secure sign-in): 127.0.0.0/8, ::1/128, 10.0.0.0/8,"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, stop := startRunSimWith(t, &simOptions{AdminPassword: "Adm1n-pw", LocalNets: tt.nets})
			call := func(kv ...string) (ok bool, code int, data json.RawMessage) {
				f := url.Values{}
				for i := 0; i+1 < len(kv); i += 2 {
					f.Set(kv[i], kv[i+1])
				}
				resp, err := http.PostForm(u+"/webapi/entry.cgi", f)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var a struct {
					Success bool            `json:"success"`
					Data    json.RawMessage `json:"data"`
					Error   struct{ Code int }
				}
				if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
					t.Fatal(err)
				}
				return a.Success, a.Error.Code, a.Data
			}
			ok, code, data := call("api", "SYNO.API.Auth", "version", "7", "method", "login", "account", "admin", "passwd", "Adm1n-pw", "format", "sid")
			var d struct{ SID string }
			if !ok || json.Unmarshal(data, &d) != nil {
				t.Fatalf("login: code %d", code)
			}
			if ok, code, _ := call("api", "SYNO.Core.User", "version", "1", "method", "list", "_sid", d.SID); !ok {
				t.Errorf("list: code %d", code)
			}
			if _, code, _ := call("api", "SYNO.Core.User", "version", "1", "method", "create", "name", "bob", "password", "Str0ng-pass!", "_sid", d.SID); code != tt.want {
				t.Errorf("create: code %d, want %d", code, tt.want)
			}
			out, err := stop()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tt.line) {
				t.Errorf("start-up output lacks %q:\n%s", tt.line, out)
			}
		})
	}
}

// TestSimPrintsNoStaticKey: the secure sign-in's private key, kept in
// the state file with --data, is in no form in what dsmctl sim prints.
func TestSimPrintsNoStaticKey(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	_, stop := startRunSimWith(t, &simOptions{AdminPassword: "Adm1n-pw", DataDir: dir})
	out, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	b, err := sim.DumpState(dir)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Key []byte `json:"secure_signin_key"`
	}
	if err := json.Unmarshal(b, &st); err != nil || len(st.Key) != 32 {
		t.Fatalf("state file: key of %d bytes, %v", len(st.Key), err)
	}
	for _, form := range []string{hex.EncodeToString(st.Key), base64.StdEncoding.EncodeToString(st.Key), base64.RawURLEncoding.EncodeToString(st.Key)} {
		if strings.Contains(out, form) {
			t.Errorf("dsmctl sim printed the static private key (%s):\n%s", form, out)
		}
	}
}

func TestReachableAddress(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 5000}, "127.0.0.1:5000"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 41234}, "127.0.0.1:41234"},
		{&net.TCPAddr{IP: net.ParseIP("192.168.1.5"), Port: 5001}, "192.168.1.5:5001"},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 5001}, "[::1]:5001"},
	} {
		if got := reachable(tt.addr); got != tt.want {
			t.Errorf("reachable(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestSimRefusesNegativeLatency(t *testing.T) {
	t.Parallel()
	r := newEnv(t, nil).run(t, "sim", "--latency", "-5ms")
	r.wantCode(t, ExitUsage)
	if !strings.Contains(r.stderr, "cannot be negative") {
		t.Errorf("stderr %q", r.stderr)
	}
}

package cli

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dsmkit/dsm/internal/sim"
)

// TestSimFaultFlag: each --fault spec is checked as it is parsed (a bad
// one is a usage error that names it) and injected from the start.
func TestSimFaultFlag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ spec, want string }{
		{"bogus", `fault "bogus": want API:METHOD:KIND`},
		{"*:*:code=12", "code 12: want a DSM error code"},
		{"SYNO.Core.Usr:create:reset", `no API "SYNO.Core.Usr"`},
		{"*:*:reset:p=2", "p=2: want a probability"},
	} {
		r := newEnv(t, nil).run(t, "sim", "--listen", "127.0.0.1:0", "--fault", "*:*:latency=1ms", "--fault", tt.spec)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "--fault") {
			t.Errorf("--fault %s: exit %d, stderr %q; want exit 64 saying %q", tt.spec, r.code, r.stderr, tt.want)
		}
	}
	if r := newEnv(t, nil).run(t, "sim", "--help"); r.code != 0 || !strings.Contains(r.stdout, "reset-after") || !strings.Contains(r.stdout, "/_sim/faults") {
		t.Errorf("sim --help does not document the fault specs:\n%s", r.stdout)
	}

	flags := newSimCmd(&IOStreams{}, func(string) string { return "" }, &globalOptions{}).Flags()
	for _, spec := range []string{"SYNO.API.Info:query:code=117:times=1", "*:*:latency=1ms"} {
		if err := flags.Set("fault", spec); err != nil {
			t.Fatal(err)
		}
	}
	if err := flags.Set("fault-seed", "42"); err != nil {
		t.Fatal(err)
	}
	if got := flags.Lookup("fault").Value.String(); got != "SYNO.API.Info:query:code=117:times=1,*:*:latency=1ms" {
		t.Errorf("--fault value = %q", got)
	}

	u, stop := startRunSimWith(t, &simOptions{AdminPassword: "Adm1n-pw",
		Faults: []sim.Fault{{API: "SYNO.API.Info", Method: "query", Kind: sim.FaultCode, Code: 117, Times: 1}}, FaultSeed: 42})
	info := url.Values{"api": {"SYNO.API.Info"}, "method": {"query"}, "version": {"1"}}
	answer := func() string {
		resp, err := http.PostForm(u+"/webapi/entry.cgi", info)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if a := answer(); a != `{"success":false,"error":{"code":117}}` {
		t.Errorf("first call: %s, want code 117 from --fault", a)
	}
	if a := answer(); !strings.HasPrefix(a, `{"success":true`) {
		t.Errorf("second call: %s, want success (times=1)", a)
	}
	// The control endpoint of the running simulator.
	resp, err := http.Post(u+"/_sim/faults", "application/json", strings.NewReader(`{"spec":"*:*:502"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /_sim/faults: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err := http.PostForm(u+"/webapi/entry.cgi", info); err != nil || resp.StatusCode != 502 {
		t.Errorf("after POST /_sim/faults *:*:502: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	out, err := stop()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "injecting fault SYNO.API.Info:query:code=117:times=1\n") {
		t.Errorf("the start-up output does not name the fault:\n%s", out)
	}
}

package sim

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseFault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec string
		want Fault
	}{
		{"SYNO.Core.User:create:code=117:times=2", Fault{API: "SYNO.Core.User", Method: "create", Kind: FaultCode, Code: 117, Times: 2}},
		{"*:*:reset:p=0.05", Fault{API: "*", Method: "*", Kind: FaultReset, Probability: 0.05}},
		{"*:*:latency=50ms", Fault{API: "*", Method: "*", Kind: FaultLatency, Delay: 50 * time.Millisecond}},
		{"SYNO.Core.User:create:reset-after", Fault{API: "SYNO.Core.User", Method: "create", Kind: FaultResetAfter}},
		{"SYNO.Core.Group:*:truncate:p=1:times=3", Fault{API: "SYNO.Core.Group", Method: "*", Kind: FaultTruncate, Probability: 1, Times: 3}},
		{"*:list:malformed", Fault{API: "*", Method: "list", Kind: FaultMalformed}},
		{"*:*:502", Fault{API: "*", Method: "*", Kind: FaultBadGateway}},
		{"*:*:bad-gateway", Fault{API: "*", Method: "*", Kind: FaultBadGateway}},
		{" SYNO.API.Auth:login:expire ", Fault{API: "SYNO.API.Auth", Method: "login", Kind: FaultExpireSessions}},
	}
	for _, tt := range tests {
		got, err := ParseFault(tt.spec)
		if err != nil {
			t.Errorf("ParseFault(%q): %v", tt.spec, err)
			continue
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("ParseFault(%q) (-want +got):\n%s", tt.spec, d)
		}
		// String gives a spec that reads back as the same fault.
		again, err := ParseFault(got.String())
		if err != nil || again != got {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}

	bad := []struct{ spec, want string }{
		{"", "want API:METHOD:KIND"},
		{"SYNO.Core.User:create", "want API:METHOD:KIND"},
		{"::reset", "empty API or method"},
		{"*:*:boom", `unknown kind "boom"`},
		{"*:*:code", "code needs a DSM error code"},
		{"*:*:code=abc", "code needs a DSM error code"},
		{"*:*:code=42", "code 42: want a DSM error code from 100"},
		{"*:*:latency", "latency needs a duration"},
		{"*:*:latency=fast", "latency needs a duration"},
		{"*:*:latency=-5ms", "want a duration above 0"},
		{"*:*:latency=1h", "at most 10m0s"},
		{"*:*:reset=1", "kind reset takes no value"},
		{"*:*:reset:p=0", "p=0: want a probability above 0"},
		{"*:*:reset:p=1.5", "p=1.5"},
		{"*:*:reset:p=NaN", "p=NaN"},
		{"*:*:reset:times=0", "times=0: want a whole number"},
		{"*:*:reset:times=-1", "times=-1"},
		{"*:*:reset:times=2:times=3", "option times given twice"},
		{"*:*:reset:every=2", `unknown option "every=2"`},
		{"SYNO.Core.Usr:create:reset", `no API "SYNO.Core.Usr"`},
		{"SYNO.Core.User:crate:reset", `API SYNO.Core.User has no method "crate"`},
		{"*:crate:reset", `no API in the simulator has a method "crate"`},
	}
	for _, tt := range bad {
		_, err := ParseFault(tt.spec)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.spec)) {
			t.Errorf("ParseFault(%q) = %v; want an error naming the spec and saying %q", tt.spec, err, tt.want)
		}
	}
}

func TestFaultValidate(t *testing.T) {
	t.Parallel()
	bad := []Fault{
		{},
		{Kind: FaultKind(99)},
		{Kind: FaultReset, Delay: time.Second},
		{Kind: FaultReset, Code: 117},
		{Kind: FaultLatency},
		{Kind: FaultCode, Code: 117, Times: -1},
		{Kind: FaultCode, Code: 117, Probability: -0.1},
	}
	for _, f := range bad {
		if err := f.Validate(); err == nil {
			t.Errorf("%+v: valid, want an error", f)
		}
	}
	if _, err := New(Config{RSAKey: mustKey(t), Faults: []Fault{{Kind: FaultReset, API: "SYNO.Nope"}}}); err == nil {
		t.Error("New accepted an invalid Config.Faults")
	}
}

func mustKey(t testing.TB) *rsa.PrivateKey {
	k, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// wire is a client of a simulator over a real loopback connection, with
// a fresh connection per call so a reset never spills over.
type wire struct {
	url string
	hc  *http.Client
	d   loginData
}

func newWire(t *testing.T, s *Server) *wire {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	w := &wire{url: ts.URL, hc: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}}
	return w
}

func (w *wire) login(t *testing.T) {
	t.Helper()
	status, body, err := w.post("api", "SYNO.API.Auth", "version", "7", "method", "login", "account", "admin", "passwd", adminPW, "format", "sid", "enable_syno_token", "yes")
	var a answer
	if err != nil || status != 200 || json.Unmarshal(body, &a) != nil || !a.Success {
		t.Fatalf("login: %d %s %v", status, body, err)
	}
	a.data(t, &w.d)
}

// post sends one call; _sid and the SynoToken are added once logged in.
func (w *wire) post(kv ...string) (status int, body []byte, err error) {
	f := form(kv...)
	if w.d.SID != "" {
		f.Set("_sid", w.d.SID)
	}
	req, _ := http.NewRequest("POST", w.url+"/webapi/entry.cgi", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-SYNO-TOKEN", w.d.SynoToken)
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func (w *wire) createUser(name string) (int, []byte, error) {
	return w.post("api", "SYNO.Core.User", "method", "create", "version", "1", "name", name, "password", strongPW)
}

func (s *Server) hasUser(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.userByName(name) != nil
}

// TestFaultKinds makes each kind of fault act on a user create over a
// real connection and checks what the client sees and whether the
// create was applied.
func TestFaultKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec    string
		applied bool
		check   func(t *testing.T, status int, body []byte, err error)
	}{
		{"SYNO.Core.User:create:code=117", false, func(t *testing.T, status int, body []byte, err error) {
			if err != nil || status != 200 || string(body) != `{"success":false,"error":{"code":117}}` {
				t.Errorf("got %d %s %v, want the envelope of code 117", status, body, err)
			}
		}},
		{"SYNO.Core.User:create:reset", false, func(t *testing.T, status int, body []byte, err error) {
			if err == nil {
				t.Errorf("got %d %s, want a transport error", status, body)
			}
		}},
		{"SYNO.Core.User:create:reset-after", true, func(t *testing.T, status int, body []byte, err error) {
			if err == nil {
				t.Errorf("got %d %s, want a transport error", status, body)
			}
		}},
		{"SYNO.Core.User:create:truncate", true, func(t *testing.T, status int, body []byte, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) || status != 200 || len(body) == 0 || json.Valid(body) {
				t.Errorf("got %d %q %v, want half a body then unexpected EOF", status, body, err)
			}
		}},
		{"SYNO.Core.User:create:malformed", true, func(t *testing.T, status int, body []byte, err error) {
			if err != nil || status != 200 || json.Valid(body) || !strings.HasPrefix(string(body), `{"success":true`) {
				t.Errorf("got %d %q %v, want 200 with half an envelope", status, body, err)
			}
		}},
		{"SYNO.Core.User:create:502", false, func(t *testing.T, status int, body []byte, err error) {
			if err != nil || status != 502 || !strings.Contains(string(body), "<title>502 Bad Gateway</title>") {
				t.Errorf("got %d %q %v, want a proxy's 502 page", status, body, err)
			}
		}},
		{"SYNO.Core.User:create:expire", false, func(t *testing.T, status int, body []byte, err error) {
			if err != nil || status != 200 || string(body) != `{"success":false,"error":{"code":119}}` {
				t.Errorf("got %d %s %v, want code 119", status, body, err)
			}
		}},
		{"SYNO.Core.User:create:latency=150ms", true, nil},
		// A fault of another call leaves this one alone.
		{"SYNO.Core.Group:create:reset", true, nil},
		{"SYNO.Core.User:list:code=117", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			f, err := ParseFault(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			s := newServer(t, Config{Faults: []Fault{f}})
			w := newWire(t, s)
			w.login(t)
			start := time.Now()
			status, body, err := w.createUser("bob")
			took := time.Since(start)
			if tt.check != nil {
				tt.check(t, status, body, err)
			} else if err != nil || !strings.HasPrefix(string(body), `{"success":true`) {
				t.Errorf("got %d %s %v, want success", status, body, err)
			}
			if got := s.hasUser("bob"); got != tt.applied {
				t.Errorf("user created = %v, want %v", got, tt.applied)
			}
			if f.Kind == FaultLatency && took < f.Delay {
				t.Errorf("call took %v, want at least %v", took, f.Delay)
			}
			// Without Times the fault acts on every matching call.
			status, body, err = w.post("api", "SYNO.Core.User", "method", "list", "version", "1")
			if f.API == "SYNO.Core.User" && f.Method == "create" {
				if f.Kind == FaultExpireSessions {
					if string(body) != `{"success":false,"error":{"code":119}}` {
						t.Errorf("after expire, list = %d %s %v; want 119: the session is gone", status, body, err)
					}
					return
				}
				if err != nil || !strings.HasPrefix(string(body), `{"success":true`) {
					t.Errorf("list = %d %s %v; want success: the fault is for create only", status, body, err)
				}
			}
			if fired := s.Faults()[0].Fired; f.Method == "create" && f.API == "SYNO.Core.User" && fired != 1 {
				t.Errorf("fired = %d, want 1", fired)
			}
		})
	}
}

// TestFaultResetInProcess: without a connection to take over, a reset
// aborts the handler as net/http expects.
func TestFaultResetInProcess(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Faults: []Fault{{API: "SYNO.API.Info", Kind: FaultReset}}})
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	s.do(t, call{form: form("api", "SYNO.API.Info", "method", "query", "version", "1")})
	t.Error("the call was answered")
}

func TestFaultTimesAndOrder(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	info := call{form: form("api", "SYNO.API.Info", "method", "query", "version", "1")}
	for _, spec := range []string{"SYNO.API.Info:query:code=117:times=2", "*:*:code=118:times=1", "*:*:latency=1ms"} {
		f, err := ParseFault(spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.InjectFault(f); err != nil {
			t.Fatal(err)
		}
	}
	var codes []int
	for range 5 {
		codes = append(codes, s.do(t, info).code())
	}
	// The first fault that fires acts; the next waits its turn.
	if d := cmp.Diff([]int{117, 117, 118, 0, 0}, codes); d != "" {
		t.Errorf("codes (-want +got):\n%s", d)
	}
	var fired []int
	for _, st := range s.Faults() {
		fired = append(fired, st.Fired)
	}
	if d := cmp.Diff([]int{2, 1, 5}, fired); d != "" {
		t.Errorf("fired (-want +got):\n%s", d)
	}
	s.ClearFaults()
	if n := len(s.Faults()); n != 0 || s.do(t, info).code() != 0 {
		t.Errorf("after ClearFaults: %d faults", n)
	}
}

// TestFaultProbability: a seeded source gives the same failures for the
// same calls, and the rate is about p.
func TestFaultProbability(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) string {
		s := newServer(t, Config{FaultSeed: seed, Faults: []Fault{{Kind: FaultCode, Code: 117, Probability: 0.3}}})
		var b strings.Builder
		for range 400 {
			if s.do(t, call{form: form("api", "SYNO.API.Info", "method", "query", "version", "1")}).code() == 117 {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Errorf("same seed, different failures:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same failures: %s", a)
	}
	if n := strings.Count(a, "x"); n < 80 || n > 160 {
		t.Errorf("%d of 400 calls failed with p=0.3, want about 120", n)
	}
}

// TestFaultConcurrency injects faults while calls run (go test -race) and
// checks that every firing is counted once.
func TestFaultConcurrency(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	if err := s.InjectFault(Fault{Kind: FaultCode, Code: 117, Probability: 0.5}); err != nil {
		t.Fatal(err)
	}
	const workers, calls = 8, 50
	var mu sync.Mutex
	failed := 0
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for range calls {
				if s.do(t, call{form: form("api", "SYNO.API.Info", "method", "query", "version", "1")}).code() == 117 {
					mu.Lock()
					failed++
					mu.Unlock()
				}
				if i == 0 {
					s.Faults()
				}
			}
		})
	}
	wg.Wait()
	if fired := s.Faults()[0].Fired; fired != failed {
		t.Errorf("fired = %d, but %d calls failed", fired, failed)
	}
}

// TestFaultLatencyOutsideLock: a call held by a latency fault does not
// hold up other calls.
func TestFaultLatencyOutsideLock(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Faults: []Fault{{API: "SYNO.API.Encryption", Kind: FaultLatency, Delay: time.Second}}})
	go s.do(t, call{form: form("api", "SYNO.API.Encryption", "method", "getinfo", "version", "1")})
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	s.do(t, call{form: form("api", "SYNO.API.Info", "method", "query", "version", "1")})
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("an unrelated call took %v while another waited on its latency", d)
	}
}

func TestControlEndpoint(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{})
	ctl := func(method, path, body, addr string) (int, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	const local = "127.0.0.1:5555"
	for _, addr := range []string{"192.0.2.1:1234", "[2001:db8::1]:80", "10.0.0.1:1"} {
		if code, body := ctl("GET", "/_sim/faults", "", addr); code != 403 || !strings.Contains(body, "loopback") {
			t.Errorf("from %s: %d %s, want 403", addr, code, body)
		}
		if code, _ := ctl("POST", "/_sim/sessions/expire", "", addr); code != 403 {
			t.Errorf("expire from %s: %d, want 403", addr, code)
		}
	}
	if code, body := ctl("GET", "/_sim/faults", "", "[::1]:9"); code != 200 || strings.TrimSpace(body) != `{"faults":[]}` {
		t.Errorf("GET from ::1: %d %s", code, body)
	}
	code, body := ctl("POST", "/_sim/faults", `[{"spec":"SYNO.API.Info:query:code=117:times=1"},{"api":"SYNO.Core.User","kind":"latency","delay":"5ms","p":0.5}]`, local)
	want := `{"faults":[{"spec":"SYNO.API.Info:query:code=117:times=1","api":"SYNO.API.Info","method":"query","kind":"code","code":117,"times":1,"fired":0,"spent":false},` +
		`{"spec":"SYNO.Core.User:*:latency=5ms:p=0.5","api":"SYNO.Core.User","method":"*","kind":"latency","delay":"5ms","p":0.5,"fired":0,"spent":false}]}`
	if code != 200 || strings.TrimSpace(body) != want {
		t.Errorf("POST: %d\n%s\nwant\n%s", code, body, want)
	}
	if c := s.do(t, call{form: form("api", "SYNO.API.Info", "method", "query", "version", "1")}).code(); c != 117 {
		t.Errorf("call after POST: code %d, want 117", c)
	}
	if _, body := ctl("GET", "/_sim/faults", "", local); !strings.Contains(body, `"fired":1,"spent":true`) {
		t.Errorf("GET after the fault fired: %s", body)
	}
	for _, tt := range []struct{ body, want string }{
		{`{"spec":"*:*:boom"}`, `unknown kind`},
		{`{"spec":"*:*:reset","kind":"code"}`, "not both"},
		{`{"kind":"code"}`, "code 0"},
		{`{"kind":"nope"}`, "unknown fault kind"},
		{`{"kind":"latency","delay":"soon"}`, `delay \"soon\": want a duration`},
		{`{"spec":"*:*:reset","colour":"red"}`, "unknown field"},
		{`[]`, "empty list"},
		{`not json`, "want a fault"},
		{`[{"spec":"*:*:reset"},{"spec":"*:*:nope"}]`, "fault 2"},
		{`{"spec":"*:*:reset","fired":3}`, "answered, not set"},
		{strings.Repeat(" ", maxControlBody+1) + `{}`, "too large"},
	} {
		code, body := ctl("POST", "/_sim/faults", tt.body, local)
		if code != 400 || !strings.Contains(body, tt.want) {
			t.Errorf("POST %.40q: %d %s, want 400 saying %q", tt.body, code, body, tt.want)
		}
	}
	if n := len(s.Faults()); n != 2 {
		t.Errorf("%d faults after refused POSTs, want the 2 from before (all or none)", n)
	}
	if code, body := ctl("DELETE", "/_sim/faults", "", local); code != 200 || strings.TrimSpace(body) != `{"faults":[]}` || len(s.Faults()) != 0 {
		t.Errorf("DELETE: %d %s", code, body)
	}
	if code, _ := ctl("PUT", "/_sim/faults", "", local); code != 405 {
		t.Errorf("PUT: %d, want 405", code)
	}
	if code, _ := ctl("GET", "/_sim/sessions/expire", "", local); code != 405 {
		t.Errorf("GET expire: %d, want 405", code)
	}
	if code, _ := ctl("GET", "/_sim/nothing", "", local); code != 404 {
		t.Errorf("GET /_sim/nothing: %d, want 404", code)
	}

	d := s.mustLogin(t, "admin", adminPW)
	whoami := authed(d, "api", "SYNO.Core.NormalUser", "method", "get", "version", "1")
	if c := s.do(t, whoami).code(); c != 0 {
		t.Fatalf("whoami: %d", c)
	}
	if code, body := ctl("POST", "/_sim/sessions/expire", "", local); code != 200 || strings.TrimSpace(body) != `{"expired":1}` {
		t.Errorf("expire: %d %s", code, body)
	}
	if c := s.do(t, whoami).code(); c != 119 {
		t.Errorf("whoami after expire: %d, want 119", c)
	}
}

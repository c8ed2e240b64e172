package sim

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind is what an injected fault does to a call.
type FaultKind int

// The kinds of fault. "Applied" means the call changes the state as it
// would without the fault: the client cannot tell from the failure
// whether its change happened.
const (
	// FaultLatency delays the call by Fault.Delay before it is served.
	// Latency faults add up and combine with one other fault.
	FaultLatency FaultKind = iota + 1
	// FaultCode answers DSM error Fault.Code; the call is not applied.
	FaultCode
	// FaultReset closes the connection without an answer (a TCP reset
	// where the platform allows); the call is not applied.
	FaultReset
	// FaultResetAfter applies the call, then closes the connection
	// without an answer: the ambiguous failure of a flaky network.
	FaultResetAfter
	// FaultTruncate applies the call and sends half of the answer under
	// a Content-Length for all of it, then closes the connection.
	FaultTruncate
	// FaultMalformed applies the call and answers HTTP 200 with a body
	// that is not a DSM envelope (the envelope cut in half).
	FaultMalformed
	// FaultBadGateway answers HTTP 502 with an HTML page, as a reverse
	// proxy does when DSM is down; the call is not applied.
	FaultBadGateway
	// FaultExpireSessions ends every session before the call is served,
	// as a DSM restart does.
	FaultExpireSessions
)

var faultKindNames = map[FaultKind]string{
	FaultLatency:        "latency",
	FaultCode:           "code",
	FaultReset:          "reset",
	FaultResetAfter:     "reset-after",
	FaultTruncate:       "truncate",
	FaultMalformed:      "malformed",
	FaultBadGateway:     "502",
	FaultExpireSessions: "expire",
}

// String returns the kind's name in the fault spec language.
func (k FaultKind) String() string {
	if n, ok := faultKindNames[k]; ok {
		return n
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText writes the kind's name.
func (k FaultKind) MarshalText() ([]byte, error) {
	if _, ok := faultKindNames[k]; !ok {
		return nil, fmt.Errorf("unknown fault kind %d", int(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads a kind's name: latency, code, reset, reset-after,
// truncate, malformed, 502 (or bad-gateway), expire.
func (k *FaultKind) UnmarshalText(b []byte) error {
	kind, ok := parseFaultKind(string(b))
	if !ok {
		return fmt.Errorf("unknown fault kind %q (want one of %s)", b, faultKindList())
	}
	*k = kind
	return nil
}

func parseFaultKind(s string) (FaultKind, bool) {
	if s == "bad-gateway" {
		return FaultBadGateway, true
	}
	for k, n := range faultKindNames {
		if n == s {
			return k, true
		}
	}
	return 0, false
}

func faultKindList() string {
	names := make([]string, 0, len(faultKindNames))
	for k := FaultLatency; k <= FaultExpireSessions; k++ {
		names = append(names, k.String())
	}
	return strings.Join(names, ", ")
}

// MaxFaultDelay bounds Fault.Delay: a fault slows calls, it does not
// hang them.
const MaxFaultDelay = 10 * time.Minute

// Fault is a failure to inject into the calls of one (API, method), of
// every method of an API, or of every call.
type Fault struct {
	// API and Method select the calls: "" or "*" match any. Faults apply
	// to calls of a known API and method, after the request is read.
	API    string `json:"api,omitempty"`
	Method string `json:"method,omitempty"`
	Kind   FaultKind
	// Delay is the added latency of FaultLatency (at most MaxFaultDelay).
	Delay time.Duration
	// Code is the DSM error code of FaultCode.
	Code int
	// Times, when positive, makes the fault fire for the next Times
	// matching calls (of those its Probability lets through) and then
	// never again. Zero: no limit.
	Times int
	// Probability, when positive, is the chance (at most 1) that the
	// fault fires on each matching call. Zero: every matching call.
	Probability float64
}

// Validate reports what is wrong with f: an unknown kind, API or method,
// a field that does not belong to its kind, or a value out of range.
func (f Fault) Validate() error {
	if _, ok := faultKindNames[f.Kind]; !ok {
		return fmt.Errorf("unknown fault kind %d (want one of %s)", int(f.Kind), faultKindList())
	}
	if err := checkFaultTarget(f.API, f.Method); err != nil {
		return err
	}
	switch {
	case f.Kind == FaultLatency && (f.Delay <= 0 || f.Delay > MaxFaultDelay):
		return fmt.Errorf("latency %s: want a duration above 0 and at most %s", f.Delay, MaxFaultDelay)
	case f.Kind != FaultLatency && f.Delay != 0:
		return fmt.Errorf("a delay belongs to a latency fault, not to %s", f.Kind)
	case f.Kind == FaultCode && (f.Code < 100 || f.Code > 99999):
		return fmt.Errorf("code %d: want a DSM error code from 100 to 99999", f.Code)
	case f.Kind != FaultCode && f.Code != 0:
		return fmt.Errorf("a code belongs to a code fault, not to %s", f.Kind)
	case f.Times < 0:
		return fmt.Errorf("times %d: want 0 (no limit) or more", f.Times)
	case !(f.Probability >= 0 && f.Probability <= 1): // also refuses NaN
		return fmt.Errorf("probability %v: want a number above 0 and at most 1 (0: every call)", f.Probability)
	}
	return nil
}

func checkFaultTarget(api, method string) error {
	if api != "" && api != "*" {
		def := apiTable[api]
		if def == nil {
			return fmt.Errorf("no API %q in the simulator", api)
		}
		if method != "" && method != "*" && def.methods[method] == nil {
			return fmt.Errorf("API %s has no method %q in the simulator", api, method)
		}
		return nil
	}
	if method != "" && method != "*" {
		for _, def := range apiTable {
			if def.methods[method] != nil {
				return nil
			}
		}
		return fmt.Errorf("no API in the simulator has a method %q", method)
	}
	return nil
}

// matches reports whether f applies to a call of api and method.
func (f *Fault) matches(api, method string) bool {
	return (f.API == "" || f.API == "*" || f.API == api) &&
		(f.Method == "" || f.Method == "*" || f.Method == method)
}

// String returns f in the fault spec language (see ParseFault).
func (f Fault) String() string {
	var b strings.Builder
	b.WriteString(orStar(f.API))
	b.WriteByte(':')
	b.WriteString(orStar(f.Method))
	b.WriteByte(':')
	b.WriteString(f.Kind.String())
	switch f.Kind {
	case FaultLatency:
		b.WriteString("=" + f.Delay.String())
	case FaultCode:
		b.WriteString("=" + strconv.Itoa(f.Code))
	}
	if f.Times > 0 {
		b.WriteString(":times=" + strconv.Itoa(f.Times))
	}
	if f.Probability > 0 {
		b.WriteString(":p=" + strconv.FormatFloat(f.Probability, 'g', -1, 64))
	}
	return b.String()
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// FaultSpecHelp describes the fault spec language, for command help.
const FaultSpecHelp = `A fault spec is API:METHOD:KIND[:OPTION...]:
  API, METHOD   an API and method the simulator serves, or * for any
  KIND          latency=DURATION  add latency before the call (e.g. 50ms)
                code=N            answer DSM error code N; not applied
                reset             close the connection, no answer; not applied
                reset-after       apply the call, then close the connection
                truncate          apply, send half the answer, close
                malformed         apply, answer 200 with a body that is no envelope
                502               answer HTTP 502 with an HTML page (a proxy); not applied
                expire            end every session before the call
  OPTION        times=N           fire on the next N matching calls only
                p=P               fire with probability P (0 < P <= 1) per call
Latency faults add up; of the other faults, the first that fires acts.
Examples: SYNO.Core.User:create:code=117:times=2  *:*:reset:p=0.05
          *:*:latency=50ms  SYNO.Core.User:create:reset-after`

// ParseFault reads a fault spec: API:METHOD:KIND[:OPTION...] (see
// FaultSpecHelp), e.g. "SYNO.Core.User:create:code=117:times=2",
// "*:*:reset:p=0.05", "*:*:latency=50ms".
func ParseFault(spec string) (Fault, error) {
	f, err := parseFault(spec)
	if err != nil {
		return Fault{}, fmt.Errorf("fault %q: %w", spec, err)
	}
	return f, nil
}

func parseFault(spec string) (Fault, error) {
	parts := strings.Split(strings.TrimSpace(spec), ":")
	if len(parts) < 3 {
		return Fault{}, errors.New("want API:METHOD:KIND[:times=N][:p=P], e.g. SYNO.Core.User:create:code=117 or *:*:reset:p=0.05")
	}
	f := Fault{API: parts[0], Method: parts[1]}
	if f.API == "" || f.Method == "" {
		return Fault{}, errors.New("empty API or method; write * for any")
	}
	kind, arg, hasArg := strings.Cut(parts[2], "=")
	k, ok := parseFaultKind(kind)
	if !ok {
		return Fault{}, fmt.Errorf("unknown kind %q (want one of %s)", kind, faultKindList())
	}
	f.Kind = k
	switch k {
	case FaultLatency:
		d, err := time.ParseDuration(arg)
		if !hasArg || err != nil {
			return Fault{}, errors.New("latency needs a duration: latency=50ms")
		}
		f.Delay = d
	case FaultCode:
		n, err := strconv.Atoi(arg)
		if !hasArg || err != nil {
			return Fault{}, errors.New("code needs a DSM error code: code=117")
		}
		f.Code = n
	default:
		if hasArg {
			return Fault{}, fmt.Errorf("kind %s takes no value", k)
		}
	}
	seen := map[string]bool{}
	for _, opt := range parts[3:] {
		name, val, _ := strings.Cut(opt, "=")
		if seen[name] {
			return Fault{}, fmt.Errorf("option %s given twice", name)
		}
		seen[name] = true
		switch name {
		case "times":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return Fault{}, fmt.Errorf("times=%s: want a whole number of calls, 1 or more", val)
			}
			f.Times = n
		case "p":
			p, err := strconv.ParseFloat(val, 64)
			if err != nil || !(p > 0 && p <= 1) {
				return Fault{}, fmt.Errorf("p=%s: want a probability above 0 and at most 1, e.g. p=0.05", val)
			}
			f.Probability = p
		default:
			return Fault{}, fmt.Errorf("unknown option %q (want times=N or p=P)", opt)
		}
	}
	if err := f.Validate(); err != nil {
		return Fault{}, err
	}
	return f, nil
}

// FaultStatus is an injected fault and how often it has fired.
type FaultStatus struct {
	Fault
	Fired int  // calls it acted on
	Spent bool // Times reached: it fires no more
}

// faultSet holds the injected faults and the random source of their
// probabilities. Its lock is separate from the state's: faults are picked
// before the state is locked, so latency never holds the lock.
type faultSet struct {
	mu     sync.Mutex
	rng    *rand.Rand
	faults []*FaultStatus
}

func newFaultSet(seed uint64) *faultSet {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &faultSet{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// pick returns the latency to add to a call of api and method and the one
// other fault to apply to it (nil for none), counting the faults that fire.
func (fs *faultSet) pick(api, method string) (delay time.Duration, act *Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, st := range fs.faults {
		if st.Spent || !st.matches(api, method) || (act != nil && st.Kind != FaultLatency) {
			continue
		}
		if st.Probability > 0 && fs.rng.Float64() >= st.Probability {
			continue
		}
		st.Fired++
		if st.Times > 0 && st.Fired >= st.Times {
			st.Spent = true
		}
		if st.Kind == FaultLatency {
			delay = min(delay+st.Delay, MaxFaultDelay)
			continue
		}
		f := st.Fault
		act = &f
	}
	return delay, act
}

// InjectFault adds a fault; it acts on the calls that come after. Faults
// are kept in the order they were added.
func (s *Server) InjectFault(f Fault) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("sim: fault %s: %w", f, err)
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = append(s.faults.faults, &FaultStatus{Fault: f})
	return nil
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = nil
}

// Faults returns the injected faults, in order, with their counts.
func (s *Server) Faults() []FaultStatus {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	out := make([]FaultStatus, len(s.faults.faults))
	for i, st := range s.faults.faults {
		out[i] = *st
	}
	return out
}

// ExpireSessions ends every session now, as a DSM restart does: the next
// call of each session answers code 119.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// faultAction is what serve returns for a call a fault takes over: the
// answer it would have had (data, err), which the fault then damages.
type faultAction struct {
	fault *Fault
	data  any
	err   error
}

func (a *faultAction) Error() string { return "injected fault " + a.fault.String() }

// injectFault applies the faults that match a call before it is served:
// latency, expired sessions and error codes. It returns the fault that
// takes the call over (reset, 502, or, once the call is applied,
// reset-after, truncate, malformed), or nil. A caller gone during the
// latency is answered nothing (a reset).
func (s *Server) injectFault(r *http.Request, api, method string) (act *Fault, err error) {
	delay, f := s.faults.pick(api, method)
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return nil, &faultAction{fault: &Fault{API: api, Method: method, Kind: FaultReset}}
		}
	}
	if f == nil {
		return nil, nil
	}
	switch f.Kind {
	case FaultCode:
		return nil, fail(f.Code)
	case FaultExpireSessions:
		s.ExpireSessions()
		return nil, nil
	case FaultReset, FaultBadGateway:
		return nil, &faultAction{fault: f}
	}
	return f, nil
}

// badGatewayPage is what nginx answers when the upstream is down.
const badGatewayPage = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// serveFault sends the damaged answer of a call a fault took over.
func serveFault(w http.ResponseWriter, a *faultAction) {
	switch a.fault.Kind {
	case FaultBadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte(badGatewayPage))
	case FaultMalformed:
		body := envelopeBody(a.data, a.err)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
	case FaultTruncate:
		body := envelopeBody(a.data, a.err)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		dropConn(w, false)
	default: // FaultReset, FaultResetAfter
		dropConn(w, true)
	}
}

// envelopeBody is the answer writeEnvelope would send.
func envelopeBody(data any, err error) []byte {
	rec := &bodyRecorder{header: http.Header{}}
	writeEnvelope(rec, data, err)
	return rec.body.Bytes()
}

type bodyRecorder struct {
	header http.Header
	body   bytes.Buffer
}

func (b *bodyRecorder) Header() http.Header         { return b.header }
func (b *bodyRecorder) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bodyRecorder) WriteHeader(int)             {}

// dropConn closes the connection without (the rest of) an answer: with
// reset, a TCP reset where it can (linger 0), so that what was sent may be
// lost; else an orderly close after what was sent. Without a connection to take over (an
// in-process recorder, HTTP/2) it aborts the handler with
// http.ErrAbortHandler, which net/http turns into a dropped connection or
// a reset stream.
func dropConn(w http.ResponseWriter, reset bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		tc.SetLinger(0)
	}
	conn.Close()
}

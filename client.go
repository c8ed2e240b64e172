package dsm

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultUserAgent is the User-Agent the client sends unless WithUserAgent
// sets another.
const DefaultUserAgent = "dsmkit-dsm/0.1"

// maxResponseBytes bounds how much of an answer the client reads: user
// lists of a large NAS are big, but not this big.
const maxResponseBytes = 64 << 20

// Client talks to one Synology DSM. It is safe for concurrent use.
//
// A Client made with WithCredentials logs in on the first call that needs
// a session and logs in again, once, when DSM says the session has expired.
type Client struct {
	// Auth logs in and out and tells who is logged in.
	Auth *AuthService
	// Users manages local users.
	Users *UsersService
	// Groups manages local groups.
	Groups *GroupsService
	// Policy reads and sets the password and user name policies.
	Policy *PolicyService

	base      *url.URL
	hc        *http.Client
	log       *slog.Logger
	userAgent string
	timeout   time.Duration
	retry     RetryPolicy

	// now and sleepUntil are the clock, replaceable in tests.
	now        func() time.Time
	sleepUntil func(ctx context.Context, t time.Time) error

	infoMu sync.Mutex
	info   map[string]APIInfo
	asked  map[string]bool // names already asked of SYNO.API.Info

	authMu  sync.Mutex // serialises logins
	stateMu sync.RWMutex
	session Session
	cred    *Credentials
}

// clientConfig collects the options before the Client is built.
type clientConfig struct {
	hc        *http.Client
	timeout   time.Duration
	logger    *slog.Logger
	insecure  bool
	pin       string // SHA-256 fingerprint of the one trusted certificate
	userAgent string
	cred      *Credentials
	session   *Session
	retry     *RetryPolicy
}

// Option configures a Client in NewClient.
type Option func(*clientConfig) error

// WithHTTPClient makes the client send its requests with hc. The client
// does not modify hc; WithInsecureSkipVerify works on a copy of its
// transport.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *clientConfig) error {
		if hc == nil {
			return errors.New("WithHTTPClient: the *http.Client is nil; pass a client or leave the option out")
		}
		c.hc = hc
		return nil
	}
}

// WithTimeout bounds each call, including the login it may need. Zero
// means no bound beyond the context's.
func WithTimeout(d time.Duration) Option {
	return func(c *clientConfig) error {
		if d < 0 {
			return fmt.Errorf("WithTimeout: negative duration %s; use 0 for no timeout", d)
		}
		c.timeout = d
		return nil
	}
}

// WithLogger traces each call at debug level (API, method, version, HTTP
// status, DSM code, duration). Parameters are never logged. The default
// logger discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *clientConfig) error {
		if l == nil {
			return errors.New("WithLogger: the logger is nil; pass a logger or leave the option out")
		}
		c.logger = l
		return nil
	}
}

// WithInsecureSkipVerify turns off TLS certificate verification. It exists
// for NAS boxes with self-signed certificates; prefer trusting the
// certificate itself.
func WithInsecureSkipVerify() Option {
	return func(c *clientConfig) error {
		c.insecure = true
		return nil
	}
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *clientConfig) error {
		if strings.TrimSpace(ua) == "" || strings.ContainsAny(ua, "\r\n") {
			return fmt.Errorf("WithUserAgent: %q is not a usable User-Agent; give a non-empty single line", ua)
		}
		c.userAgent = ua
		return nil
	}
}

// WithCredentials gives the client an account to log in with. The client
// logs in on the first call that needs a session, and again when the
// session expires. Credentials.OTPCode is used for the first login only.
func WithCredentials(cred Credentials) Option {
	return func(c *clientConfig) error {
		if err := cred.validate(); err != nil {
			return fmt.Errorf("WithCredentials: %w", err)
		}
		c.cred = &cred
		return nil
	}
}

// WithSession resumes a session saved from an earlier login, without the
// password. When the session has expired, calls fail with
// ErrSessionExpired unless WithCredentials is also given.
func WithSession(s Session) Option {
	return func(c *clientConfig) error {
		if s.SID == "" {
			return errors.New("WithSession: the session has no SID; log in instead")
		}
		c.session = &s
		return nil
	}
}

// NewClient returns a client for the DSM at baseURL: "https://nas:5001",
// "http://10.0.0.5:5000", or a bare host such as "nas" or "10.0.0.5",
// which means https on port 5001. With a scheme and no port, the scheme's
// usual port applies (a NAS behind a reverse proxy). A path prefix is kept;
// "/webapi" at its end is optional.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	var cfg clientConfig
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, argError("new client", err)
		}
	}
	c := &Client{
		base:      base,
		log:       cfg.logger,
		userAgent: cfg.userAgent,
		timeout:   cfg.timeout,
		info:      map[string]APIInfo{},
		asked:     map[string]bool{},
		cred:      cfg.cred,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.now = time.Now
	c.sleepUntil = sleepUntil
	c.retry = DefaultRetryPolicy
	if cfg.retry != nil {
		c.retry = *cfg.retry
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if cfg.session != nil {
		c.session = *cfg.session
	}
	if cfg.insecure && cfg.pin != "" {
		return nil, argErrorf("new client", "WithInsecureSkipVerify and WithCertificateFingerprint exclude each other; the fingerprint is the safer choice")
	}
	c.hc, err = buildHTTPClient(cfg.hc, cfg.insecure, cfg.pin)
	if err != nil {
		return nil, err
	}
	c.Auth = &AuthService{c: c}
	c.Users = &UsersService{c: c}
	c.Groups = &GroupsService{c: c}
	c.Policy = &PolicyService{c: c}
	return c, nil
}

func buildHTTPClient(hc *http.Client, insecure bool, pin string) (*http.Client, error) {
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 16
		hc = &http.Client{Transport: t}
	}
	switch {
	case pin != "":
		return transportWithTLS(hc, "WithCertificateFingerprint", func(cfg *tls.Config) *tls.Config { return pinnedTLS(cfg, pin) })
	case insecure:
		return transportWithTLS(hc, "WithInsecureSkipVerify", func(cfg *tls.Config) *tls.Config {
			if cfg == nil {
				cfg = &tls.Config{}
			} else {
				cfg = cfg.Clone()
			}
			cfg.InsecureSkipVerify = true
			return cfg
		})
	}
	return hc, nil
}

// ParseURL reads a NAS address as NewClient does and returns it in the
// form the client uses: a scheme, a host with its port, and the path
// prefix without "/webapi". A bare host means https on port 5001; with a
// scheme and no port, the scheme's usual port applies. An address the
// client would refuse is an *ArgError.
func ParseURL(raw string) (*url.URL, error) { return parseBaseURL(raw) }

func parseBaseURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, argErrorf("NAS address", "empty NAS address; give a host such as nas.local or a URL such as https://nas.local:5001")
	}
	if !strings.Contains(s, "://") {
		host := s
		if i := strings.IndexByte(host, '/'); i >= 0 {
			return nil, argErrorf("NAS address", "%q has a path but no scheme; write https://%s", raw, s)
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(strings.Trim(host, "[]"), "5001")
		}
		s = "https://" + host
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, argErrorf("NAS address", "%q is not a URL: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, argErrorf("NAS address", "%q: scheme %q is not supported; use http or https", raw, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, argErrorf("NAS address", "%q has no host", raw)
	}
	if u.User != nil {
		return nil, argErrorf("NAS address", "the address must not contain credentials; remove the user part and use WithCredentials")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, argErrorf("NAS address", "%q must not have a query or fragment", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, argErrorf("NAS address", "%q: port %q is not a number from 1 to 65535", raw, p)
		}
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/webapi")
	u.RawPath = ""
	return u, nil
}

// BaseURL returns the NAS address the client talks to, without /webapi.
func (c *Client) BaseURL() string { return c.base.String() }

// Params holds the parameters of a call. Values may be strings, booleans,
// integers, string slices, or anything encoding/json can marshal; lists
// and objects travel as JSON text.
type Params map[string]any

// Call makes one call of the DSM Web API and decodes the answer's data
// into out, which may be nil. It logs in first when the client has
// credentials and no session. The version is the highest that this client
// and the server both support (1 for APIs this package does not know).
//
// A call whose method changes state (create, set, delete, join, add,
// remove, change) is repeated only when DSM refused it as busy; the
// services' methods know more and also ride out ambiguous failures.
func (c *Client) Call(ctx context.Context, api, method string, params Params, out any) error {
	for _, k := range []string{"api", "version", "method", "_sid", "SynoToken"} {
		if _, ok := params[k]; ok {
			return argErrorf(fmt.Sprintf("%s %s", api, method), "parameter %q is set by the client; leave it out of Params", k)
		}
	}
	if method == "" {
		return argErrorf(api, "the method is empty")
	}
	return c.do(ctx, &request{api: api, method: method, params: params, out: out, needSession: api != "SYNO.API.Info",
		mutating: mutatingMethods[method]})
}

// callIdempotent is Call for a change that is safe to repeat: it is
// retried after an ambiguous failure too.
func (c *Client) callIdempotent(ctx context.Context, api, method string, params Params, out any) error {
	return c.do(ctx, &request{api: api, method: method, params: params, out: out, needSession: true})
}

// callChecked is Call for a change that is not safe to repeat: after an
// ambiguous failure, applied tells whether it happened.
func (c *Client) callChecked(ctx context.Context, api, method string, params Params, out any, applied func(context.Context) (bool, error)) error {
	return c.do(ctx, &request{api: api, method: method, params: params, out: out, needSession: true, mutating: true, verify: applied})
}

// request is one call as the client's single call path sees it.
type request struct {
	api, method string
	params      Params
	// secret holds parameters that travel in the encryption envelope over
	// plain http, and in the body over https.
	secret      Params
	out         any
	needSession bool
	// version, when non-zero, overrides the version choice.
	version int
	// mutating marks a call that changes state and is not safe to repeat
	// blindly; verify, when set, tells after an ambiguous failure whether
	// the change happened (and fills out if it did).
	mutating bool
	verify   func(ctx context.Context) (bool, error)
}

// mutatingMethods are the methods that change state, for calls made
// through Call: they are repeated only when DSM refused them (busy).
var mutatingMethods = map[string]bool{"create": true, "set": true, "delete": true, "join": true, "add": true, "remove": true, "change": true}

// do is the one path every call takes: version choice, login when needed,
// the transport, a single renewal of an expired session, and retries.
func (c *Client) do(ctx context.Context, r *request) error {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	return c.withRetry(ctx, r, func() error { return c.once(ctx, r) })
}

// once is one attempt of r, with the login it may need and one renewal.
func (c *Client) once(ctx context.Context, r *request) error {
	if !r.needSession {
		return c.send(ctx, r, Session{})
	}
	sess, err := c.ensureSession(ctx)
	if err != nil {
		return err
	}
	err = c.send(ctx, r, sess)
	if !errors.Is(err, ErrSessionExpired) || !c.hasCredentials() {
		return err
	}
	sess, lerr := c.renew(ctx, sess.SID)
	if lerr != nil {
		return fmt.Errorf("%w (renewing the session failed: %w)", err, lerr)
	}
	return c.send(ctx, r, sess)
}

// send makes exactly one HTTP request for r and decodes the envelope.
func (c *Client) send(ctx context.Context, r *request, sess Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ai, version, err := c.resolve(ctx, r.api, r.version)
	if err != nil {
		return err
	}
	jsonFormat := ai.RequestFormat == "JSON"
	form := url.Values{}
	form.Set("api", r.api)
	form.Set("version", strconv.Itoa(version))
	form.Set("method", r.method)
	for k, v := range r.params {
		s, err := encodeValue(v, jsonFormat)
		if err != nil {
			return argError(fmt.Sprintf("%s %s", r.api, r.method), fmt.Errorf("parameter %s: %w", k, err))
		}
		form.Set(k, s)
	}
	if len(r.secret) > 0 {
		if err := c.addSecrets(ctx, form, r.secret, jsonFormat, sess); err != nil {
			return fmt.Errorf("dsm: %s %s: %w", r.api, r.method, err)
		}
	}
	if sess.SID != "" {
		form.Set("_sid", sess.SID)
	}
	return c.post(ctx, ai.Path, r.api, r.method, version, form, sess.SynoToken, r.out)
}

// post sends form to path and decodes the envelope into out.
func (c *Client) post(ctx context.Context, path, api, method string, version int, form url.Values, synoToken string, out any) error {
	u := *c.base
	u.Path = c.base.Path + "/webapi/" + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("dsm: %s %s: %w", api, method, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", c.userAgent)
	if synoToken != "" {
		req.Header.Set("X-SYNO-TOKEN", synoToken)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "dsm call", "api", api, "method", method, "version", version, "error", err.Error(), "duration", time.Since(start))
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("dsm: %s %s: %w", api, method, redactURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("dsm: %s %s: reading the answer: %w", api, method, err)
	}
	code, err := decodeEnvelope(api, method, resp.StatusCode, body, out)
	c.log.DebugContext(ctx, "dsm call", "api", api, "method", method, "version", version,
		"status", resp.StatusCode, "code", code, "duration", time.Since(start))
	return err
}

// redactURLError drops the URL from a transport error: it holds no secret
// (parameters travel in the body), but the message reads better without it.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// StatusError reports an HTTP answer other than 200: a proxy or the web
// server failed, not the API.
type StatusError struct {
	API, Method string
	StatusCode  int
}

// Error says what failed and why.
func (e *StatusError) Error() string {
	return fmt.Sprintf("dsm: %s %s: HTTP %d %s from the NAS or a proxy in front of it", e.API, e.Method, e.StatusCode, http.StatusText(e.StatusCode))
}

// Is makes HTTP 5xx answers match ErrBusy: they are worth a retry.
func (e *StatusError) Is(target error) bool { return target == ErrBusy && e.StatusCode >= 500 }

// MalformedError reports an answer that is not a DSM envelope.
type MalformedError struct {
	API, Method string
	Reason      string
}

// Error says what failed and why.
func (e *MalformedError) Error() string {
	return fmt.Sprintf("dsm: %s %s: malformed answer: %s", e.API, e.Method, e.Reason)
}

// envelope is DSM's answer wrapper. It is decoded here and nowhere else.
type envelope struct {
	Success *bool           `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   *struct {
		Code   int             `json:"code"`
		Errors json.RawMessage `json:"errors"`
	} `json:"error"`
}

// decodeEnvelope turns an HTTP answer into data decoded into out or an
// error. It returns the DSM code (0 on success) for tracing.
func decodeEnvelope(api, method string, status int, body []byte, out any) (int, error) {
	if status != http.StatusOK {
		return 0, &StatusError{API: api, Method: method, StatusCode: status}
	}
	if len(body) > maxResponseBytes {
		return 0, &MalformedError{API: api, Method: method, Reason: fmt.Sprintf("answer larger than %d bytes", maxResponseBytes)}
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return 0, &MalformedError{API: api, Method: method, Reason: "not a JSON envelope (" + describeJSONError(err) + ")"}
	}
	if env.Success == nil {
		return 0, &MalformedError{API: api, Method: method, Reason: `no "success" member`}
	}
	if !*env.Success {
		if env.Error == nil {
			return 100, &APIError{Code: 100, API: api, Method: method}
		}
		details := env.Error.Errors
		if string(details) == "null" {
			details = nil
		}
		return env.Error.Code, &APIError{Code: env.Error.Code, API: api, Method: method, Details: details}
	}
	if out == nil || len(env.Data) == 0 || string(env.Data) == "null" {
		return 0, nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return 0, &MalformedError{API: api, Method: method, Reason: "unexpected data: " + describeJSONError(err)}
	}
	return 0, nil
}

// describeJSONError says what was wrong without quoting the input, which
// could hold a secret.
func describeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %s: got JSON %s, want %s", te.Field, te.Value, te.Type)
		}
		return fmt.Sprintf("got JSON %s, want %s", te.Value, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	}
	return "invalid JSON"
}

// encodeValue renders one parameter value for the form. For APIs with
// requestFormat JSON, strings are JSON-encoded so that a name such as
// "true" or "123" cannot be read as another type.
func encodeValue(v any, jsonFormat bool) (string, error) {
	switch x := v.(type) {
	case string:
		if jsonFormat {
			b, err := json.Marshal(x)
			return string(b), err
		}
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case nil:
		return "", errors.New("nil value")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("cannot encode %T as JSON: %w", v, err)
	}
	return string(b), nil
}

// ensureSession returns the current session, logging in first when there
// is none and the client has credentials.
func (c *Client) ensureSession(ctx context.Context) (Session, error) {
	c.stateMu.RLock()
	sess := c.session
	c.stateMu.RUnlock()
	if sess.SID != "" {
		return sess, nil
	}
	if !c.hasCredentials() {
		return Session{}, ErrNotLoggedIn
	}
	return c.renew(ctx, "")
}

// renew logs in again unless another goroutine already replaced the
// session whose SID was staleSID; all callers that saw the same expired
// session share one login.
func (c *Client) renew(ctx context.Context, staleSID string) (Session, error) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	c.stateMu.RLock()
	cur := c.session
	cred := c.cred
	c.stateMu.RUnlock()
	if cur.SID != "" && cur.SID != staleSID {
		return cur, nil
	}
	if cred == nil {
		return Session{}, ErrNotLoggedIn
	}
	return c.Auth.login(ctx, *cred)
}

func (c *Client) hasCredentials() bool {
	c.stateMu.RLock()
	defer c.stateMu.RUnlock()
	return c.cred != nil
}

// today is the client's notion of the current day, for validating
// expiry dates.
func (c *Client) today() Date { return DateOf(time.Now()) }

// sleepUntil waits until t or until ctx ends.
func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// ErrNotLoggedIn is returned by calls that need a session when the client
// has neither a session nor credentials to log in with.
var ErrNotLoggedIn = errors.New("dsm: not logged in; call Auth.Login, or make the client WithCredentials or WithSession")

// sortedKeys returns the keys of p in order, for deterministic encoding.
func sortedKeys(p Params) []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

package dsm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
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

// maxResponseBytes bounds how much of an answer the client reads. The
// biggest answer it asks for is the whole user list of a NAS at DSM's
// limit of 16,000 local users: 1.3 MiB with email and groups (measured,
// BENCHMARKS.md), about 4.3 MiB with every field (records of about 270
// bytes), and about 20 MiB were every name, description and email as
// long as DSM allows. 64 MiB leaves room above that and still stops an
// answer without end; as lists are decoded from the stream, the bound is
// on what is read, not on memory held twice.
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
	// System reads what DSM says about the NAS: model, version, uptime.
	System *SystemService
	// Shares lists, creates and deletes shared folders.
	Shares *SharesService
	// Permissions reads and sets who may use which shared folder.
	Permissions *PermissionsService
	// Home turns the user home service on and off.
	Home *HomeService
	// Quotas reads and sets the quotas of users and groups.
	Quotas *QuotasService
	// Apps reads the application catalogue and the application rules.
	Apps *AppsService
	// Speed reads and sets the speed limits of users and groups.
	Speed *SpeedService
	// TwoStep sets up and administers 2-step verification.
	TwoStep *TwoStepService
	// Security reads and sets sign-in protection.
	Security *SecurityService

	base      *url.URL
	hc        *http.Client
	ownsHC    bool // hc was made here: Close may close its idle connections
	log       *slog.Logger
	userAgent string
	timeout   time.Duration
	timeouts  Timeouts // of the transport made here, for messages
	retry     RetryPolicy

	// now, sleepUntil and jitter are the clock and the random source of
	// the retry backoff, replaceable in tests. Every read of the time in
	// this package goes through now, every wait through sleepUntil.
	now        func() time.Time
	sleepUntil func(ctx context.Context, t time.Time) error
	jitter     func(n int64) int64 // uniform in [0, n)
	// random is the source of the secure sign-in's keys.
	random io.Reader

	// secureSignIn says whether logins do DSM 7's handshake.
	secureSignIn SecureSignInMode

	infoMu sync.Mutex
	info   map[string]APIInfo
	asked  map[string]bool // names already asked of SYNO.API.Info
	// remembered says that info came from WithAPIInfo and has not been
	// read again from this NAS; infoBuild is the DSM build it belongs
	// to, 0 when not known.
	remembered bool
	infoBuild  int

	// keyMu guards key, the envelope key kept for reuse over plain http.
	keyMu sync.Mutex
	key   *envelopeKey

	// auth owns the session and the credentials.
	auth *sessionKeeper
}

// clientConfig collects the options before the Client is built.
type clientConfig struct {
	hc         *http.Client
	timeout    time.Duration
	timeoutSet bool
	logger     *slog.Logger
	insecure   bool
	pin        string // SHA-256 fingerprint of the one trusted certificate
	userAgent  string
	cred       *Credentials
	session    *Session
	apis       *APITable
	retry      *RetryPolicy
	timeouts   *Timeouts
	jitter     func(n int64) int64
	// secureSignIn is the mode of WithSecureSignIn.
	secureSignIn SecureSignInMode
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

// WithTimeout bounds each call as a whole: the login it may need, its
// retries and the reading of the answer. The default is
// DefaultCallTimeout; zero means no bound beyond the context's (the
// transport's own timeouts, see WithTimeouts, still apply). A call that
// runs out of time fails with a *TimeoutError.
func WithTimeout(d time.Duration) Option {
	return func(c *clientConfig) error {
		if d < 0 {
			return fmt.Errorf("WithTimeout: negative duration %s; use 0 for no timeout", d)
		}
		c.timeout, c.timeoutSet = d, true
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
// ErrSessionExpired unless WithCredentials is also given. A session opened
// with secure sign-in keeps signing its requests from its
// Signing.NextNonce: resume the Session that Auth.Session returned after
// the last call of the previous process, not an older copy.
func WithSession(s Session) Option {
	return func(c *clientConfig) error {
		if s.SID == "" {
			return errors.New("WithSession: the session has no SID; log in instead")
		}
		if s.SecureSignIn {
			if _, err := s.Signing.check(); err != nil {
				return fmt.Errorf("WithSession: the session was opened with secure sign-in but its signing state is unusable: %v; log in again", err)
			}
		} else if s.Signing != (SigningState{}) {
			return errors.New("WithSession: the session has a signing state but SecureSignIn is false; save the Session as Auth.Session returns it, or log in again")
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
	if cfg.insecure && cfg.pin != "" {
		return nil, argErrorf("new client", "WithInsecureSkipVerify and WithCertificateFingerprint exclude each other; the fingerprint is the safer choice")
	}
	c := &Client{
		base:      base,
		log:       cfg.logger,
		userAgent: cfg.userAgent,
		timeout:   DefaultCallTimeout,
		retry:     DefaultRetryPolicy,
		now:       time.Now,
		jitter:    mathrand.Int64N,
		random:    rand.Reader,
		info:      map[string]APIInfo{},
		asked:     map[string]bool{},
	}
	c.sleepUntil = c.sleep
	if cfg.apis != nil {
		c.remember(*cfg.apis)
	}
	if cfg.timeoutSet {
		c.timeout = cfg.timeout
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if cfg.retry != nil {
		c.retry = *cfg.retry
	}
	if cfg.jitter != nil {
		c.jitter = cfg.jitter
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	c.secureSignIn = cfg.secureSignIn
	if c.secureSignIn == SecureSignInRequired && cfg.session != nil && !cfg.session.SecureSignIn {
		return nil, argErrorf("new client", "WithSecureSignIn(SecureSignInRequired) refuses the session of WithSession: it was opened without secure sign-in; log in again")
	}
	c.auth = newSessionKeeper(c, cfg.cred, cfg.session)
	c.timeouts = DefaultTimeouts
	if cfg.timeouts != nil {
		c.timeouts = *cfg.timeouts
	}
	c.hc, c.ownsHC, err = buildHTTPClient(cfg.hc, cfg.insecure, cfg.pin, c.timeouts)
	if err != nil {
		return nil, err
	}
	c.Auth = &AuthService{c: c}
	c.Users = &UsersService{c: c}
	c.Groups = &GroupsService{c: c}
	c.Policy = &PolicyService{c: c}
	c.System = &SystemService{c: c}
	c.Shares = &SharesService{c: c}
	c.Permissions = &PermissionsService{c: c}
	c.Home = &HomeService{c: c}
	c.Quotas = &QuotasService{c: c}
	c.Apps = &AppsService{c: c}
	c.Speed = &SpeedService{c: c}
	c.TwoStep = &TwoStepService{c: c}
	c.Security = &SecurityService{c: c}
	return c, nil
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
	// Credentials first, before any message quotes the address: an "@"
	// anywhere is taken as a user part (admin:password@), even where
	// url.Parse would fail or see a path, as a NAS address has no other
	// use for it.
	if strings.Contains(s, "@") {
		return nil, argErrorf("NAS address", "the address must not contain credentials (it has a user part, NAME:PASSWORD@); remove it and use WithCredentials")
	}
	shown := redactUserinfo(raw) // what every message below quotes
	if !strings.Contains(s, "://") {
		host := s
		if i := strings.IndexByte(host, '/'); i >= 0 {
			return nil, argErrorf("NAS address", "%q has a path but no scheme; write https://%s", shown, redactUserinfo(s))
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(strings.Trim(host, "[]"), "5001")
		}
		s = "https://" + host
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse's error repeats the whole address: give its reason only.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, argErrorf("NAS address", "%q is not a URL: %v", shown, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, argErrorf("NAS address", "%q: scheme %q is not supported; use http or https", shown, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, argErrorf("NAS address", "%q has no host", shown)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, argErrorf("NAS address", "%q must not have a query or fragment", shown)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, argErrorf("NAS address", "%q: port %q is not a number from 1 to 65535", shown, p)
		}
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/webapi")
	u.RawPath = ""
	return u, nil
}

// redactUserinfo returns the address raw with everything up to its last
// "@" (a user part and its password, whatever characters the password
// holds) replaced by "REDACTED@", for an error message to quote.
func redactUserinfo(raw string) string {
	at := strings.LastIndexByte(raw, '@')
	if at < 0 {
		return raw
	}
	prefix := ""
	if i := strings.Index(raw[:at], "://"); i >= 0 {
		prefix = raw[:i+3]
	}
	return prefix + "REDACTED" + raw[at:]
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
// remove, change) is repeated only when DSM refused it as busy or when it
// was never sent; the services' methods know more and also ride out
// ambiguous failures.
func (c *Client) Call(ctx context.Context, api, method string, params Params, out any) error {
	for _, k := range []string{"api", "version", "method", "_sid", "SynoToken"} {
		if _, ok := params[k]; ok {
			return argErrorf(fmt.Sprintf("%s %s", api, method), "parameter %q is set by the client; leave it out of Params", k)
		}
	}
	if method == "" {
		return argErrorf(api, "the method is empty")
	}
	r := newRead(api, method, params, out)
	if api == infoAPIName {
		r.auth = authNone
	}
	r.mutating = mutatingMethods[method]
	r.change = r.mutating
	return c.do(ctx, r)
}

// authMode says which session a request carries.
type authMode int

const (
	// authSession: the client's session, logging in first when there is
	// none, and once more when DSM says it expired.
	authSession authMode = iota
	// authNone: no session (discovery, the key of a login's envelope, the
	// login itself).
	authNone
	// authGiven: exactly the session of the request, never renewed (the
	// logout of that session).
	authGiven
)

// request is one call as the client's single call path sees it. Requests
// are made by the constructors below and sent by do.
type request struct {
	api, method string
	params      Params
	// secret holds parameters that travel in the encryption envelope over
	// plain http, and in the body over https.
	secret Params
	out    any
	// version, when non-zero, overrides the version choice.
	version int
	// bareStrings sends string parameters as they are, even to an API of
	// requestFormat JSON (SYNO.API.Info's query).
	bareStrings bool
	// pathSuffix sends the request to <path>/<api> (entry.cgi/SYNO.API.Auth.UIConfig).
	pathSuffix bool
	// cookies, when set, receives the cookies of the answer.
	cookies *[]*http.Cookie

	auth authMode
	// sess is the session of an authGiven request.
	sess *session
	// login, when set, makes the request a login with these credentials:
	// an attempt runs the whole login (2-step codes included) and puts
	// the new session in out (a *Session).
	login *Credentials

	// mutating marks a call that changes state and is not safe to repeat
	// blindly; verify, when set, tells after an ambiguous failure whether
	// the change happened (and fills out if it did).
	mutating bool
	verify   func(ctx context.Context) (bool, error)
	// change marks a call that changes state (safe to repeat or not), for
	// the meaning of a 105.
	change bool
	// compound holds the calls of a SYNO.Entry.Request (compound.go):
	// build encodes them, each with its version, as parameter compound.
	compound []*BatchCall
	// upload, when set, makes the request a multipart/form-data upload
	// of one file (userimport.go): build sends the same parameters,
	// session and headers, as parts before the file.
	upload *upload
}

// newRead is a call that reads, or changes nothing when repeated: it is
// retried after any transient failure.
func newRead(api, method string, params Params, out any) *request {
	return &request{api: api, method: method, params: params, out: out, auth: authSession}
}

// newSafeChange is a change that is safe to repeat (setting a policy,
// adding members): it is retried after an ambiguous failure too.
func newSafeChange(api, method string, params Params, out any) *request {
	r := newRead(api, method, params, out)
	r.change = true
	return r
}

// newCheckedChange is a change that is not safe to repeat: after an
// ambiguous failure, applied tells whether it happened, and it is sent
// again only when it did not.
func newCheckedChange(api, method string, params Params, out any, applied func(context.Context) (bool, error)) *request {
	r := newRead(api, method, params, out)
	r.mutating, r.verify, r.change = true, applied, true
	return r
}

// withSecret adds parameters that must never travel in clear over plain
// http (passwords, 2-step codes, device tokens): they go into the
// SYNO.API.Encryption envelope there.
func (r *request) withSecret(secret Params) *request {
	r.secret = secret
	return r
}

// infoRequest asks SYNO.API.Info where the APIs names are served.
func infoRequest(names []string, out any) *request {
	r := newRead(infoAPIName, "query", Params{"query": strings.Join(names, ",")}, out)
	r.auth, r.version, r.bareStrings = authNone, 1, true
	return r
}

// encryptionInfoRequest fetches the key of the envelope. It is sent
// within the exchange of the call it is for, with that call's session.
func encryptionInfoRequest(out *encryptionInfo) *request {
	return newRead("SYNO.API.Encryption", "getinfo", Params{"format": "module"}, out)
}

// mutatingMethods are the methods that change state, for calls made
// through Call: they are repeated only when DSM refused them (busy) or
// they were not sent.
var mutatingMethods = map[string]bool{"create": true, "set": true, "delete": true, "join": true, "add": true, "remove": true, "change": true}

// do is the one entry of every call: it bounds the call in time, and
// runs attempts of it under the retry policy. Each attempt logs in when
// needed, sends the request, and renews an expired session once.
func (c *Client) do(ctx context.Context, r *request) error {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	err := c.withRetry(ctx, r, func() error { return c.attempt(ctx, r) })
	return c.timedOut(ctx, r, err)
}

// attempt is one attempt of r, with the login it may need and one renewal.
func (c *Client) attempt(ctx context.Context, r *request) error {
	switch {
	case r.login != nil:
		sess, err := c.auth.login(ctx, *r.login)
		if err == nil {
			*r.out.(*Session) = sess.snapshot()
		}
		return err
	case r.auth == authNone:
		return c.exchange(ctx, r, nil)
	case r.auth == authGiven:
		return c.exchange(ctx, r, r.sess)
	}
	s, err := c.auth.ensure(ctx)
	if err != nil {
		return unsent(err)
	}
	err = c.exchange(ctx, r, s)
	if !errors.Is(err, ErrSessionExpired) || !c.auth.canLogIn() {
		return err
	}
	s, lerr := c.auth.renew(ctx, s)
	if lerr != nil {
		// DSM refused the call (the session was gone) and the new login
		// failed: the call was not done, and the login's failure decides
		// whether another attempt is worth it.
		return unsent(&renewError{expired: err, login: lerr})
	}
	err = c.exchange(ctx, r, s)
	if errors.Is(err, ErrSessionExpired) {
		// The new session was refused too (it expired at once, or another
		// login ended it): DSM did not do the call, and the next attempt
		// logs in again.
		return &refusedError{err: err}
	}
	return err
}

// exchange is the one place where a request is built and sent: one HTTP
// request for r (after the discovery and the envelope key it may need,
// which take this same path), with the answer's envelope decoded. s is
// the session the request carries, nil for none.
//
// It sends r once more, and only once, when DSM refused it for something
// the client kept from before: an envelope sealed with a reused key
// refused with 120 (the token went stale: a new key is fetched), or a
// 102, 103 or 104 (or an API the table lists in versions this client
// does not speak) when the API table came from WithAPIInfo (the NAS
// changed: the table is read again; an API the table lacks is taken as
// absent, as SYNO.API.Auth.UIConfig is on DSM 6). DSM did not do a call
// it refused so; a change that is not safe to repeat is still checked
// first, as after an ambiguous failure.
func (c *Client) exchange(ctx context.Context, r *request, s *session) error {
	sw, err := c.exchangeOnce(ctx, r, s)
	if sw.reused && hasCode(err, 120) {
		c.dropEnvelopeKey(sw.key)
		if r.mutating {
			if r.verify == nil {
				return err
			}
			applied, verr := r.verify(ctx)
			if verr != nil {
				return err
			}
			if applied {
				return nil
			}
		}
		c.log.DebugContext(ctx, "dsm envelope key refused; sending once more with a new key", "api", r.api, "method", r.method)
		_, err = c.exchangeOnce(ctx, r, s)
	}
	var ve *VersionError
	versions := errors.As(err, &ve) && ve.ServerMax != 0 // listed, but not in versions this client speaks
	if r.api != infoAPIName && (hasCode(err, 102, 103, 104) || versions) && c.forgetRememberedAPIs() {
		c.log.DebugContext(ctx, "dsm remembered API table refused; reading it again", "api", r.api, "method", r.method)
		_, err = c.exchangeOnce(ctx, r, s)
	}
	return err
}

// hasCode reports whether err is an *APIError with one of codes.
func hasCode(err error, codes ...int) bool {
	var ae *APIError
	return errors.As(err, &ae) && slices.Contains(codes, ae.Code)
}

// exchangeOnce builds and sends r, exactly one HTTP request for r, and
// says which envelope key sealed it.
func (c *Client) exchangeOnce(ctx context.Context, r *request, s *session) (sealedWith, error) {
	if err := ctx.Err(); err != nil {
		return sealedWith{}, err
	}
	req, version, sw, err := c.build(ctx, r, s)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return sealedWith{}, ctxErr
		}
		return sealedWith{}, unsent(err)
	}
	return sw, explainRefusal(r, s, c.post(ctx, r, version, req))
}

// explainRefusal turns a 105 to a change in a session without secure
// sign-in into a *LimitedSessionError, which says what it most probably
// is; everything else stays as it is.
func explainRefusal(r *request, s *session, err error) error {
	ae, ok := err.(*APIError)
	if !ok || ae.Code != 105 || !r.change || s == nil || s.signer != nil {
		return err
	}
	return &LimitedSessionError{Err: ae, Reason: s.unsigned}
}

// build makes the HTTP request of r: version choice, the form, the
// envelope of the secrets, the session, its token and, for a session
// opened with secure sign-in, its X-SYNO-HASH. The discovery and the
// envelope key it may need carry the same session, so every request of a
// signed session is signed, each with the next nonce.
func (c *Client) build(ctx context.Context, r *request, s *session) (*http.Request, int, sealedWith, error) {
	var sw sealedWith
	ai, version, err := c.resolve(ctx, r.api, r.version, s)
	if err != nil {
		return nil, 0, sw, err
	}
	jsonFormat := ai.RequestFormat == "JSON"
	form := url.Values{}
	form.Set("api", r.api)
	form.Set("version", strconv.Itoa(version))
	form.Set("method", r.method)
	for k, v := range r.params {
		if str, ok := v.(string); ok && r.bareStrings {
			form.Set(k, str)
			continue
		}
		enc, err := encodeValue(v, jsonFormat)
		if err != nil {
			return nil, 0, sw, argError(fmt.Sprintf("%s %s", r.api, r.method), fmt.Errorf("parameter %s: %w", k, err))
		}
		form.Set(k, enc)
	}
	if r.compound != nil {
		enc, err := c.encodeCompound(ctx, r.compound, s)
		if err != nil {
			return nil, 0, sw, err
		}
		form.Set("compound", enc)
	}
	if len(r.secret) > 0 {
		if sw, err = c.addSecrets(ctx, form, r.secret, jsonFormat, s); err != nil {
			return nil, 0, sw, fmt.Errorf("dsm: %s %s: %w", r.api, r.method, err)
		}
	}
	if s != nil && s.SID != "" {
		form.Set("_sid", s.SID)
	}
	u := *c.base
	u.Path = c.base.Path + "/webapi/" + ai.Path
	if r.pathSuffix {
		u.Path += "/" + r.api
	}
	body, contentType := io.Reader(strings.NewReader(form.Encode())), "application/x-www-form-urlencoded"
	if r.upload != nil {
		if body, contentType, err = r.upload.encode(form); err != nil {
			return nil, 0, sw, fmt.Errorf("dsm: %s %s: %w", r.api, r.method, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
	if err != nil {
		return nil, 0, sw, fmt.Errorf("dsm: %s %s: %w", r.api, r.method, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", c.userAgent)
	if s != nil && s.SynoToken != "" {
		req.Header.Set("X-SYNO-TOKEN", s.SynoToken)
	}
	if s != nil && s.signer != nil {
		// Last, so that nothing above can fail after a nonce is taken.
		h, err := s.signer.sign()
		if err != nil {
			return nil, 0, sw, fmt.Errorf("dsm: %s %s: %w", r.api, r.method, err)
		}
		req.Header.Set("X-SYNO-HASH", h)
	}
	return req, version, sw, nil
}

// post sends req and decodes the envelope of the answer into r.out. A
// failure before the whole request was written is marked unsent: the NAS
// cannot have acted on it.
func (c *Client) post(ctx context.Context, r *request, version int, req *http.Request) error {
	var ph phase
	req = req.WithContext(httptrace.WithClientTrace(ctx, ph.trace()))
	start := c.now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "dsm call", "api", r.api, "method", r.method, "version", version, "error", err.Error(), "duration", c.now().Sub(start))
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		err = c.transportError(r, &ph, redactURLError(err))
		if !ph.sent() {
			return unsent(err)
		}
		return err
	}
	defer resp.Body.Close()
	if r.cookies != nil {
		*r.cookies = resp.Cookies()
	}
	code, err := decodeAnswer(r.api, r.method, resp.StatusCode, resp.Body, r.out)
	var be *bodyError
	if errors.As(err, &be) {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return c.transportError(r, &ph, be)
	}
	// What is left (a newline) is read so the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	c.log.DebugContext(ctx, "dsm call", "api", r.api, "method", r.method, "version", version,
		"status", resp.StatusCode, "code", code, "duration", c.now().Sub(start))
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

// decodeEnvelope turns an HTTP answer held in memory into data decoded
// into out or an error, as decodeAnswer does for an answer being read.
func decodeEnvelope(api, method string, status int, body []byte, out any) (int, error) {
	return decodeAnswer(api, method, status, bytes.NewReader(body), out)
}

// errAnswerTooLarge is what an answerReader returns past its bound.
var errAnswerTooLarge = errors.New("answer too large")

// answerReader reads an answer's body up to maxResponseBytes and keeps
// the first failure of the body itself (a reset, the bound), so that a
// failure of the transport is not mistaken for a malformed answer.
type answerReader struct {
	r    io.Reader
	left int64
	err  error
}

func (a *answerReader) Read(p []byte) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	if int64(len(p)) > a.left+1 {
		p = p[:a.left+1]
	}
	n, err := a.r.Read(p)
	if a.left -= int64(n); a.left < 0 {
		a.err = errAnswerTooLarge
		return 0, a.err
	}
	if err != nil && err != io.EOF {
		a.err = err
	}
	return n, err
}

// bodyError is a failure to read an answer's body, for post to report as
// a failure of the transport.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "reading the answer: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// streamDecoder is an out that decodes the data of an answer from the
// stream itself, item by item, instead of from a copy of the data held in
// memory: big lists are read once, into their destination.
type streamDecoder interface {
	// decodeStream reads one JSON value from dec. An error that is not
	// of the JSON syntax must leave dec after that value.
	decodeStream(dec *json.Decoder) error
}

// decodeAnswer is the one place DSM's envelope
// ({"success":...,"data":...,"error":{"code":...,"errors":...}}) is
// decoded: it reads the answer from body, at most maxResponseBytes of
// it, and decodes data into out as it comes, or returns an error. The
// members may come in any order: DSM's answers, as clients log them,
// put data or error before success (home-assistant/core issue #64867),
// the simulator success first. It returns the DSM code (0 on success) for
// tracing.
func decodeAnswer(api, method string, status int, body io.Reader, out any) (int, error) {
	if status != http.StatusOK {
		return 0, &StatusError{API: api, Method: method, StatusCode: status}
	}
	ar := &answerReader{r: body, left: maxResponseBytes}
	dec := json.NewDecoder(ar)
	code, err := decodeEnvelopeStream(api, method, dec, out)
	if err != nil && ar.err != nil {
		if ar.err == errAnswerTooLarge {
			return 0, &MalformedError{API: api, Method: method, Reason: fmt.Sprintf("answer larger than %d bytes", maxResponseBytes)}
		}
		return 0, &bodyError{err: ar.err}
	}
	return code, err
}

// errorWire is the error member of the envelope.
type errorWire struct {
	Code   int             `json:"code"`
	Errors json.RawMessage `json:"errors"`
}

func decodeEnvelopeStream(api, method string, dec *json.Decoder, out any) (int, error) {
	notEnvelope := func(err error) (int, error) {
		return 0, &MalformedError{API: api, Method: method, Reason: "not a JSON envelope (" + describeJSONError(err) + ")"}
	}
	tok, err := dec.Token()
	if err != nil {
		return notEnvelope(err)
	}
	if tok == nil {
		return 0, &MalformedError{API: api, Method: method, Reason: `no "success" member`}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return 0, &MalformedError{API: api, Method: method, Reason: "not a JSON envelope (not an object)"}
	}
	var (
		success *bool
		apiErr  *errorWire
		dataErr error // the data did not fit out
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return notEnvelope(err)
		}
		// Member names match as encoding/json matches them, ignoring case.
		key, _ := tok.(string)
		switch {
		case strings.EqualFold(key, "success"):
			var b bool
			if err := dec.Decode(&b); err != nil {
				return notEnvelope(err)
			}
			success = &b
		case strings.EqualFold(key, "error"):
			var e *errorWire
			if err := dec.Decode(&e); err != nil {
				return notEnvelope(err)
			}
			apiErr = e
		case strings.EqualFold(key, "data"):
			var derr error
			switch o := out.(type) {
			case nil:
				derr = dec.Decode(&json.RawMessage{})
			case streamDecoder:
				derr = o.decodeStream(dec)
			default:
				derr = dec.Decode(out)
			}
			if derr != nil {
				if isJSONSyntax(derr) {
					return notEnvelope(derr)
				}
				dataErr = derr
			}
		default:
			if err := dec.Decode(&json.RawMessage{}); err != nil {
				return notEnvelope(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return notEnvelope(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return 0, &MalformedError{API: api, Method: method, Reason: "not a JSON envelope (data after the envelope)"}
	}
	if success == nil {
		return 0, &MalformedError{API: api, Method: method, Reason: `no "success" member`}
	}
	if !*success {
		if apiErr == nil {
			return 100, &APIError{Code: 100, API: api, Method: method}
		}
		details := apiErr.Errors
		if string(details) == "null" {
			details = nil
		}
		return apiErr.Code, &APIError{Code: apiErr.Code, API: api, Method: method, Details: details}
	}
	if dataErr != nil {
		return 0, &MalformedError{API: api, Method: method, Reason: "unexpected data: " + describeJSONError(dataErr)}
	}
	return 0, nil
}

// isJSONSyntax reports whether err is a failure of the JSON text itself
// (after which a decoder cannot go on), not of its fit to a Go value.
func isJSONSyntax(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, errAnswerTooLarge)
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

// today is the client's notion of the current day, for validating
// expiry dates.
func (c *Client) today() Date { return DateOf(c.now()) }

// sleep waits until t on the client's clock, or until ctx ends.
func (c *Client) sleep(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(t.Sub(c.now()))
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

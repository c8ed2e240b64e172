// Package dsmtest runs a simulated Synology DSM 7 on a loopback port for
// tests of code that talks to the DSM Web API.
//
// The simulator serves /webapi/entry.cgi, query.cgi, auth.cgi and
// encryption.cgi like a real DSM 7: API discovery, the encrypted login
// envelope, 2-step codes (TOTP), trusted-device tokens, the SynoToken,
// DSM 7's secure sign-in (the Noise IK handshake at login and X-SYNO-HASH
// on every later call; without it, clients outside WithLocalNets may only
// read), idle session expiry and auto-block. It shares no code with
// package dsm, so it checks the client rather than mirroring it.
//
//	func TestSomething(t *testing.T) {
//		srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "pw"}))
//		client := srv.Client() // logged in as admin on first use
//		...
//		srv.Advance(20 * time.Minute) // the session expires; the client logs in again
//	}
//
// 2-step verification can be set up through the API as on a NAS
// (SYNO.Core.OTP; PendingTOTPSecret plays the authenticator app), reset by
// an administrator and enforced (WithTwoStepEnforcement); auto-block, its
// allow and block lists and account protection are settings read and
// written through the API (WithAutoBlock and WithAccountLock set where
// they start).
//
// It also keeps users and groups with DSM's rules (SYNO.Core.User, Group,
// Group.Member, User.Group join tasks, password policy and expiry,
// PasswordConfirm), in memory or, with WithDataDir, on disk.
//
// The simulator's clock runs with real time from where WithTime sets it;
// Advance moves it forward, so tests never sleep to expire sessions or
// move TOTP windows.
package dsmtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/internal/sim"
)

// User is an account to add to the simulator with WithUser.
type User struct {
	Name        string
	Password    string
	Description string // shown as the full name
	Email       string
	OTPSecret   string // base32 TOTP seed: the user has 2-step verification
	Admin       bool   // member of administrators
	Disabled    bool   // login answers code 401
	OTPEnforced bool   // 2-step verification required: without OTPSecret login answers code 406
	// Groups the user belongs to besides users (and administrators when
	// Admin); each must exist: built-in or added with WithGroup.
	Groups []string
	// Expired is DSM's expired field: "normal" (or ""), "now", or a date
	// "YYYY/M/D" (UTC) from which login answers code 401.
	Expired string
	// CannotChangePassword: the user may not change their own password.
	CannotChangePassword bool
	// PasswordNeverExpires exempts the user from password expiry.
	PasswordNeverExpires bool
}

// Group is a local group to add to the simulator with WithGroup.
type Group struct {
	Name        string
	Description string
	Members     []string // user names: admin, guest or users of WithUser
}

// Option configures NewServer and Start.
type Option func(*config)

type config struct {
	sim sim.Config
	tls bool
}

// WithAdminPassword sets the password of the built-in admin account
// (default: a random one, see Server.AdminPassword).
func WithAdminPassword(pw string) Option {
	return func(c *config) { c.sim.AdminPassword = pw }
}

// WithUser adds a local account (uids from 1026 upward, in order).
func WithUser(u User) Option {
	return func(c *config) {
		c.sim.Users = append(c.sim.Users, sim.User{
			Name: u.Name, Password: u.Password, Description: u.Description, Email: u.Email,
			OTPSecret: u.OTPSecret, Admin: u.Admin, Disabled: u.Disabled, OTPEnforced: u.OTPEnforced,
			Groups: u.Groups, Expired: u.Expired, CannotChangePassword: u.CannotChangePassword,
			PasswordNeverExpire: u.PasswordNeverExpires,
		})
	}
}

// WithGroup adds a local group (gids from 65536 upward, in order). Groups
// are created before the users of WithUser, and their members added after.
func WithGroup(g Group) Option {
	return func(c *config) {
		c.sim.Groups = append(c.sim.Groups, sim.Group{Name: g.Name, Description: g.Description, Members: g.Members})
	}
}

// Share is a shared folder to seed the simulator with (WithShares).
type Share struct {
	Name string
	// Volume is /volume1 (the default) or /volume2.
	Volume      string
	Description string
	Hidden      bool
	RecycleBin  bool
	// Users and Groups give rights by name: "rw", "ro" or "deny".
	Users, Groups map[string]string
}

// WithShares seeds these shared folders instead of the default public
// (read/write for the users group) and finance (no rights); homes is
// there too while the home service is on. Rights may name users of
// WithUser and groups of WithGroup.
func WithShares(shares ...Share) Option {
	return func(c *config) {
		c.sim.Shares = []sim.Share{}
		for _, sh := range shares {
			c.sim.Shares = append(c.sim.Shares, sim.Share{Name: sh.Name, Volume: sh.Volume, Description: sh.Description,
				Hidden: sh.Hidden, RecycleBin: sh.RecycleBin, Users: sh.Users, Groups: sh.Groups})
		}
	}
}

// WithHomeServiceOff starts the simulator with the user home service off
// and no homes folder (default: on, homes on /volume1).
func WithHomeServiceOff() Option {
	return func(c *config) { c.sim.HomeServiceOff = true }
}

// WithHomeTaskDelay sets how long enabling the home service runs as a
// task on the simulator's clock (default 200 ms); d < 0: no task, as on a
// virtual DSM.
func WithHomeTaskDelay(d time.Duration) Option {
	return func(c *config) { c.sim.HomeTaskDelay = d }
}

// WithShareChangeTime makes each shared folder create or delete keep the
// simulator busy for d of its clock: another one within it answers 3328
// (3300 after a delete), as DSM does to overlapping changes.
func WithShareChangeTime(d time.Duration) Option {
	return func(c *config) { c.sim.ShareChangeTime = d }
}

// WithJoinDelay sets how long a group-membership task (SYNO.Core.User.Group
// join) runs on the simulator's clock before the membership changes
// (default 200 ms). Advance moves past it without sleeping; d <= 0 applies
// the change before join answers.
func WithJoinDelay(d time.Duration) Option {
	return func(c *config) {
		if d == 0 {
			d = -1
		}
		c.sim.JoinDelay = d
	}
}

// WithLatency delays every answer by d of real time, as a NAS across a
// network would, so that tests and benchmarks see the cost of each call.
// Calls still run side by side.
func WithLatency(d time.Duration) Option {
	return func(c *config) { c.sim.Latency = d }
}

// WithDataDir keeps the simulator's state (users, groups, policies) in
// dir, each change durable before it is answered. A server started on a dir
// that holds a state loads it instead of applying WithAdminPassword,
// WithUser and WithGroup (pass the same WithAdminPassword so
// AdminPassword and Client stay right). A damaged state makes NewServer
// fail, and so does a dir another server has open until it is closed.
func WithDataDir(dir string) Option {
	return func(c *config) { c.sim.DataDir = dir }
}

// WithTime starts the simulator's clock at t. The clock then ticks with
// real time, plus whatever Advance adds.
func WithTime(t time.Time) Option {
	return func(c *config) { c.sim.Start = t }
}

// WithRSAKey sets the SYNO.API.Encryption key (at least 4096 bits).
// Default: one key generated once per process and shared by every server,
// because 4096-bit key generation is slow.
func WithRSAKey(k *rsa.PrivateKey) Option {
	return func(c *config) { c.sim.RSAKey = k }
}

// WithSessionIdleTimeout ends sessions unused for d on the simulator's
// clock (default 15 minutes): the next call answers code 119.
func WithSessionIdleTimeout(d time.Duration) Option {
	return func(c *config) { c.sim.SessionIdleTimeout = d }
}

// WithAutoBlock blocks a client address for blockFor after attempts
// failed logins within the given window; while blocked, login answers
// code 407 even to a correct password. Default: 5 within 10 minutes,
// blocked 30 minutes. attempts <= 0 turns auto-block off. These are the
// settings the simulator starts with: SYNO.Core.Security.AutoBlock set
// (dsm.SecurityService.SetAutoBlock) changes them.
func WithAutoBlock(attempts int, within, blockFor time.Duration) Option {
	return func(c *config) {
		if attempts <= 0 {
			attempts = -1
		}
		c.sim.AutoBlockAttempts, c.sim.AutoBlockWithin, c.sim.AutoBlockFor = attempts, within, blockFor
	}
}

// WithAccountLock locks an account for lockFor after attempts failed
// logins of it, from any address, within within (code 411). Zero values
// keep the defaults (10, 10 minutes, 30 minutes); attempts below zero
// turn the lock off. SYNO.Core.SmartBlock set
// (dsm.SecurityService.SetAccountProtection) changes them.
func WithAccountLock(attempts int, within, lockFor time.Duration) Option {
	return func(c *config) {
		c.sim.AccountLockAttempts, c.sim.AccountLockWithin, c.sim.AccountLockFor = attempts, within, lockFor
	}
}

// WithTwoStepEnforcement sets the 2-step enforcement policy the
// simulator starts with: "none" (the default), "admin" (members of
// administrators must have 2-step verification) or "user" (everyone). A
// login of an account it covers that has no 2-step verification answers
// code 406 (dsm.ErrOTPEnforced). Any other value makes NewServer fail.
func WithTwoStepEnforcement(option string) Option {
	return func(c *config) { c.sim.OTPEnforceOption = option }
}

// WithDSMVersion makes the simulator behave as DSM release v: "7.2",
// "7.3" or "7.4" (default: the newest). They differ in how a user's groups
// are listed (as {name, inherited} objects on 7.2 and 7.3, as names on
// 7.4); on all three a session of a SYNO.API.Auth version 6 login cannot
// change users or groups (code 105). Any other v makes NewServer fail.
func WithDSMVersion(v string) Option {
	return func(c *config) { c.sim.DSMVersion = v }
}

// WithoutShareQuota makes a simulator without SYNO.Core.Share.Quota, as
// some DSM 7 releases are: QuotasService.ListShare and SetShare then
// answer ErrUnsupported.
func WithoutShareQuota() Option { return WithoutAPIs("SYNO.Core.Share.Quota") }

// WithoutAPIs makes a simulator that does not serve the APIs named, as a
// NAS without a package or a release would not: SYNO.API.Info leaves
// them out and a call answers 102 (no such API). A name the simulator
// does not serve anyway makes NewServer fail.
func WithoutAPIs(names ...string) Option {
	return func(c *config) { c.sim.WithoutAPIs = append(c.sim.WithoutAPIs, names...) }
}

// WithLocalNets sets the client networks the simulator counts as local
// (default: loopback, 10/8, 172.16/12, 192.168/16, 169.254/16, fe80::/10
// and fc00::/7; see sim.DefaultLocalNets). A session of any other client
// that did not complete DSM 7's secure sign-in handshake is limited, as
// on a NAS reached over the internet: reads work, changes to users,
// groups and policies answer code 105. With no networks, every client is
// remote (as WithRemoteClients).
func WithLocalNets(nets ...netip.Prefix) Option {
	return func(c *config) { c.sim.LocalNets = append([]netip.Prefix{}, nets...) }
}

// WithRemoteClients counts every client as remote, loopback included, so
// that only a client that completes the secure sign-in handshake may
// change users, groups and policies (the others get code 105).
func WithRemoteClients() Option { return WithLocalNets() }

// WithSecureSignInKey sets the simulator's X25519 static private key (32
// bytes) of the secure sign-in: its public half is the _SSID cookie of
// SYNO.API.Auth.UIConfig get. Default: a new key per server (or the one
// kept with WithDataDir). A key of another size makes NewServer fail.
func WithSecureSignInKey(priv []byte) Option {
	return func(c *config) { c.sim.SecureSignInKey = append([]byte{}, priv...) }
}

// WithTLS serves https with a self-signed certificate for 127.0.0.1;
// PendingTOTPSecret returns the base32 seed the simulator made for the
// named account's 2-step set-up (SYNO.Core.OTP get_qrcode) that is not
// confirmed yet, or "": what an authenticator app would have read from
// the QR code.
func (s *Server) PendingTOTPSecret(name string) string { return s.sim.PendingTOTPSecret(name) }

// Certificate returns it and Client trusts exactly it.
func WithTLS() Option {
	return func(c *config) { c.tls = true }
}

// sharedKey is the RSA key of every server without WithRSAKey.
var sharedKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, sim.RSAKeyBits)
})

// Server is a running simulated DSM.
type Server struct {
	sim   *sim.Server
	srv   *http.Server
	url   string
	cert  *x509.Certificate
	close sync.Once
}

// NewServer starts a simulated DSM on 127.0.0.1 (a free port), over plain
// http unless WithTLS is given. It holds the users admin (uid 1024) and
// guest (1025, disabled), the groups administrators, users and http, and
// the accounts of WithUser. Call Close when done.
func NewServer(opts ...Option) (*Server, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.sim.RSAKey == nil {
		k, err := sharedKey()
		if err != nil {
			return nil, fmt.Errorf("dsmtest: %w", err)
		}
		cfg.sim.RSAKey = k
	}
	sm, err := sim.New(cfg.sim)
	if err != nil {
		return nil, fmt.Errorf("dsmtest: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dsmtest: %w", err)
	}
	s := &Server{
		sim: sm,
		srv: &http.Server{
			Handler:  sm,
			ErrorLog: log.New(io.Discard, "", 0), // TLS handshake noise from clients that distrust the cert
		},
		url: "http://" + ln.Addr().String(),
	}
	// The timeouts and connection cap of dsmctl sim.
	sim.DefaultConnLimits.Apply(s.srv, cfg.sim.Latency)
	ln = sim.DefaultConnLimits.Listener(ln)
	if cfg.tls {
		cert, err := selfSignedCert()
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("dsmtest: %w", err)
		}
		s.cert = cert.Leaf
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		s.url = "https://" + ln.Addr().String()
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("dsmtest: serve: %v", err)
		}
	}()
	return s, nil
}

// Start is NewServer for tests: it fails t on error and closes the server
// when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := NewServer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// URL returns the server's base URL, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// Client returns a new dsm.Client for this server with the admin
// credentials: it logs in on its first call that needs a session and
// again when the session ends. With WithTLS it trusts exactly the
// server's certificate.
func (s *Server) Client() *dsm.Client {
	opts := []dsm.Option{dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: s.AdminPassword()})}
	if s.cert != nil {
		opts = append(opts, dsm.WithHTTPClient(s.HTTPClient()))
	}
	c, err := dsm.NewClient(s.URL(), opts...)
	if err != nil {
		panic("dsmtest: NewClient: " + err.Error())
	}
	return c
}

// HTTPClient returns an http.Client for this server: with WithTLS it
// trusts exactly the server's certificate, else it is a plain client.
func (s *Server) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if s.cert != nil {
		pool := x509.NewCertPool()
		pool.AddCert(s.cert)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// Close stops the server and closes its connections. It may be called
// more than once.
func (s *Server) Close() {
	s.close.Do(func() {
		s.srv.Close()
		s.sim.Close() // lets another server open the data directory
	})
}

// AdminPassword returns the password of the admin account.
func (s *Server) AdminPassword() string { return s.sim.AdminPassword() }

// Now returns the simulator's clock.
func (s *Server) Now() time.Time { return s.sim.Now() }

// Advance moves the simulator's clock forward by d: sessions idle longer
// than their timeout end, TOTP codes move on, auto-blocks lapse.
func (s *Server) Advance(d time.Duration) { s.sim.Advance(d) }

// Logins returns how many logins have succeeded, so a test can count
// re-logins.
func (s *Server) Logins() int { return s.sim.Logins() }

// SecureLogins returns how many logins completed the secure sign-in
// handshake (a Noise IK ik_message answered), so a test can tell that a
// client signed in that way.
func (s *Server) SecureLogins() int { return s.sim.SecureLogins() }

// ConfirmTokenValid reports whether token is a SynoConfirmPWToken the
// server issued (SYNO.Core.User.PasswordConfirm auth) less than 300 s ago
// on its clock.
func (s *Server) ConfirmTokenValid(token string) bool { return s.sim.ConfirmTokenValid(token) }

// Certificate returns the server's TLS certificate, or nil without WithTLS.
func (s *Server) Certificate() *x509.Certificate { return s.cert }

// Handler returns the simulator's http.Handler, to serve it some other way
// or call it in-process with httptest.NewRecorder.
func (s *Server) Handler() http.Handler { return s.sim }

// TOTP returns the 6-digit 2-step code for the base32 secret at t (RFC
// 6238, SHA1, 30-second steps), computed by the simulator's own
// implementation; "" if the secret is not base32. Pass srv.Now() for the
// code the server expects now.
func TOTP(secret string, t time.Time) string {
	code, err := sim.TOTP(secret, t)
	if err != nil {
		return ""
	}
	return code
}

// Package sim is a simulator of the Synology DSM 7 Web API: an
// http.Handler that serves /webapi/*.cgi with the behaviour of a real DSM
// (discovery, encrypted login, 2-step codes, device tokens, SynoToken,
// session expiry, auto-block) on an in-memory state.
//
// It is an independent oracle for the client in package dsm: it shares no
// code with it (own wire types, own envelope decryption, own TOTP), so a
// bug on one side cannot cancel itself out on the other.
//
// Package dsmtest wraps it for tests; dsmctl serves it with "dsmctl sim".
package sim

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultSessionIdleTimeout = 15 * time.Minute
	DefaultAutoBlockAttempts  = 5
	DefaultAutoBlockWithin    = 10 * time.Minute
	DefaultAutoBlockFor       = 30 * time.Minute
	DefaultMaxBodyBytes       = 1 << 20
	// CipherTokenTTL is how long a server_time from SYNO.API.Encryption
	// getinfo stays valid as the token of an encrypted envelope.
	CipherTokenTTL = 10 * time.Minute
)

// RSAKeyBits is the size of the key New makes when Config.RSAKey is nil:
// a 501-character passphrase needs a 4096-bit modulus (PROTOCOL 4).
const RSAKeyBits = 4096

// User is an account to seed the simulator with.
type User struct {
	Name        string
	Password    string
	Description string // DSM shows it as the full name
	Email       string
	OTPSecret   string // base32 TOTP seed; "" means no 2-step verification
	Admin       bool   // member of administrators
	Disabled    bool   // expired = "now": login answers 401
	OTPEnforced bool   // 2-step verification required: login answers 406 while OTPSecret is ""
}

// Config sets up a simulator. The zero value is usable: a random admin
// password, real time, a fresh 4096-bit RSA key (slow: share one with
// RSAKey in tests) and DSM's defaults.
type Config struct {
	// AdminPassword is the password of the built-in admin (uid 1024).
	// Empty: a random one, see Server.AdminPassword.
	AdminPassword string
	// Users are added after admin and guest, with uids from 1026 upward.
	Users []User
	// Start is the clock's reading when New returns; the clock then ticks
	// with real time. Zero: the real time.
	Start time.Time
	// RSAKey is the key of SYNO.API.Encryption. Nil: a new 4096-bit key.
	RSAKey *rsa.PrivateKey
	// SessionIdleTimeout ends a session that has not been used for this
	// long (sim clock). Zero: 15 minutes.
	SessionIdleTimeout time.Duration
	// AutoBlockAttempts failed logins from one address within
	// AutoBlockWithin block that address for AutoBlockFor (code 407).
	// Zero values: 5, 10 minutes, 30 minutes. A negative
	// AutoBlockAttempts turns auto-block off.
	AutoBlockAttempts int
	AutoBlockWithin   time.Duration
	AutoBlockFor      time.Duration
	// MaxBodyBytes limits a request body. Zero: 1 MiB.
	MaxBodyBytes int64
}

// Server is the simulator: an http.Handler over an in-memory DSM. It is
// safe for concurrent use.
type Server struct {
	clock         *Clock
	key           *rsa.PrivateKey
	ssid          string // base64url X25519 public key, cookie _SSID
	adminPassword string
	idle          time.Duration
	blockAttempts int
	blockWithin   time.Duration
	blockFor      time.Duration
	maxBody       int64
	logins        atomic.Int64

	mu       sync.Mutex // guards everything below
	st       *store
	sessions map[string]*session
	tokens   map[int64]time.Time // ciphertoken (server_time) -> when issued
	failures map[string]*addrRecord
}

// session is one logged-in session.
type session struct {
	sid       string
	uid       int
	name      string // the session name of the login (webui, FileStation...)
	synoToken string // "" when the login did not ask for one
	lastUsed  time.Time
}

// addrRecord counts failed logins from one client address.
type addrRecord struct {
	failures     []time.Time
	blockedUntil time.Time
}

// New returns a simulator seeded with admin, guest, the default groups and
// cfg.Users.
func New(cfg Config) (*Server, error) {
	s := &Server{
		clock:         NewClock(cfg.Start),
		key:           cfg.RSAKey,
		adminPassword: cfg.AdminPassword,
		idle:          orDefault(cfg.SessionIdleTimeout, DefaultSessionIdleTimeout),
		blockAttempts: cfg.AutoBlockAttempts,
		blockWithin:   orDefault(cfg.AutoBlockWithin, DefaultAutoBlockWithin),
		blockFor:      orDefault(cfg.AutoBlockFor, DefaultAutoBlockFor),
		maxBody:       cfg.MaxBodyBytes,
		st:            newStore(),
		sessions:      map[string]*session{},
		tokens:        map[int64]time.Time{},
		failures:      map[string]*addrRecord{},
	}
	if s.blockAttempts == 0 {
		s.blockAttempts = DefaultAutoBlockAttempts
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.key == nil {
		k, err := rsa.GenerateKey(rand.Reader, RSAKeyBits)
		if err != nil {
			return nil, fmt.Errorf("sim: generate RSA key: %w", err)
		}
		s.key = k
	}
	if s.key.N.BitLen() < 4096 {
		return nil, fmt.Errorf("sim: RSA key has %d bits, want at least 4096 (a 501-byte passphrase must fit)", s.key.N.BitLen())
	}
	ik, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sim: generate X25519 key: %w", err)
	}
	s.ssid = base64.RawURLEncoding.EncodeToString(ik.PublicKey().Bytes())
	if s.adminPassword == "" {
		s.adminPassword = "Adm-" + randomToken(12)
	}

	s.st.addUser(&user{name: "admin", description: "System default user", password: s.adminPassword, passwordNeverExpire: true}, adminUID)
	s.st.groups[groupAdministrators].members[adminUID] = true
	s.st.addUser(&user{name: "guest", description: "Guest", expired: "now", passwordNeverExpire: true}, guestUID)
	for _, cu := range cfg.Users {
		if err := s.seedUser(cu); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) seedUser(cu User) error {
	if cu.Name == "" {
		return errors.New("sim: user with an empty name")
	}
	if s.st.userByName(cu.Name) != nil {
		return fmt.Errorf("sim: user %q already exists", cu.Name)
	}
	u := &user{
		name:        cu.Name,
		password:    cu.Password,
		description: cu.Description,
		email:       cu.Email,
		otpEnforced: cu.OTPEnforced,
	}
	if cu.OTPSecret != "" {
		key, err := decodeTOTPSecret(cu.OTPSecret)
		if err != nil {
			return fmt.Errorf("sim: user %q: %w", cu.Name, err)
		}
		u.otpKey = key
	}
	if cu.Disabled {
		u.expired = "now"
	}
	u.passwordLastChange = int(s.clock.Now().Unix() / 86400)
	s.st.addUser(u, 0)
	if cu.Admin {
		s.st.groups[groupAdministrators].members[u.uid] = true
	}
	return nil
}

// Now returns the simulator's clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Advance moves the simulator's clock forward by d: idle sessions expire,
// TOTP windows move, auto-blocks lapse.
func (s *Server) Advance(d time.Duration) { s.clock.Advance(d) }

// Logins returns how many logins have succeeded so far.
func (s *Server) Logins() int { return int(s.logins.Load()) }

// AdminPassword returns the password of the built-in admin account.
func (s *Server) AdminPassword() string { return s.adminPassword }

// PublicKey returns the public half of the SYNO.API.Encryption key.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// Sessions returns how many sessions are open (expired ones included until
// they are next looked at).
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// randomToken returns n random bytes as unpadded base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// clientAddr is the host part of the request's remote address: failed
// logins are counted per address.
func clientAddr(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

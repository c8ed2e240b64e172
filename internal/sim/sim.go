// Package sim is a simulator of the Synology DSM 7 Web API: an
// http.Handler that serves /webapi/*.cgi with the behaviour of a real DSM
// (discovery, encrypted login, 2-step codes, device tokens, SynoToken,
// session expiry, auto-block with allow and block lists, account
// protection, 2-step set-up and enforcement, users, groups, password
// policies) on a state
// kept in memory and, with Config.DataDir, on disk.
//
// It is an independent oracle for the client in package dsm: it shares no
// code with it (own wire types, own envelope decryption, own TOTP), so a
// bug on one side cannot cancel itself out on the other.
//
// Package dsmtest wraps it for tests; dsmctl serves it with "dsmctl sim".
package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flynn/noise"
)

// Defaults for the zero values of Config.
const (
	DefaultSessionIdleTimeout = 15 * time.Minute
	DefaultAutoBlockAttempts  = 5
	DefaultAutoBlockWithin    = 10 * time.Minute
	DefaultAutoBlockFor       = 30 * time.Minute
	// Account protection: failed logins of one account, from any address.
	DefaultAccountLockAttempts = 10
	DefaultAccountLockWithin   = 10 * time.Minute
	DefaultAccountLockFor      = 30 * time.Minute
	DefaultMaxBodyBytes        = 1 << 20
	// CipherTokenTTL is how long a server_time from SYNO.API.Encryption
	// getinfo stays valid as the token of an encrypted envelope.
	CipherTokenTTL = 10 * time.Minute
)

// RSAKeyBits is the size of the key New makes when Config.RSAKey is nil:
// the envelope's passphrase is 501 characters (as DSM's own web UI and
// N4S4/synology-api synology_api/auth.py draw it), and RSA PKCS#1 v1.5
// encrypts at most the modulus's size less 11 bytes: 501 bytes need a
// 4096-bit modulus.
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
	// Groups the user joins besides users (and administrators when Admin).
	Groups []string
	// Expired is DSM's expired field: "normal" (or ""), "now", or a date
	// "YYYY/M/D" from which the account is disabled. Disabled overrides it.
	Expired              string
	CannotChangePassword bool // cannot_chg_passwd: NormalUser set refuses a new password
	PasswordNeverExpire  bool // passwd_never_expire
}

// Group is a local group to seed the simulator with.
type Group struct {
	Name        string
	Description string
	Members     []string // user names (built-in or of Config.Users)
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
	// AutoBlockAttempts turns auto-block off. These and the
	// AccountLock values below are where a new state starts:
	// SYNO.Core.Security.AutoBlock set and SYNO.Core.SmartBlock set
	// change them, and a state loaded from DataDir keeps its own.
	AutoBlockAttempts int
	AutoBlockWithin   time.Duration
	AutoBlockFor      time.Duration
	// AccountLockAttempts failed logins of one account (from any address)
	// within AccountLockWithin lock that account for AccountLockFor (code
	// 411), even for the right password. Zero values: 10, 10 minutes, 30
	// minutes. A negative AccountLockAttempts turns the lock off.
	AccountLockAttempts int
	AccountLockWithin   time.Duration
	AccountLockFor      time.Duration
	// MaxBodyBytes limits a request body. Zero: 1 MiB.
	MaxBodyBytes int64
	// Groups are created before Users, with gids from 65536 upward.
	Groups []Group
	// JoinDelay is how long a SYNO.Core.User.Group join task takes before
	// the membership changes (sim clock). Zero: 200 ms; negative: the
	// change is done when join answers.
	JoinDelay time.Duration
	// DataDir keeps the state (users, groups, policies) on disk: it is
	// loaded from the database DataDir/StateFile at start (the directory
	// is created 0700 when missing; a LegacyStateFile of an earlier
	// version is migrated) and every change writes the records it changed
	// in one transaction, durable before the change is answered. When a
	// state exists, AdminPassword, Users and Groups are not applied: the
	// accounts are those stored, and AdminPassword is then only what
	// Server.AdminPassword reports. A damaged state makes New fail; one
	// simulator at a time may have the directory open (Server.Close lets
	// it go). Empty: memory only.
	DataDir string
	// Latency delays every answer by this long (real time, outside the
	// state's lock, so calls still overlap), as a real NAS over a network
	// would. Zero: no delay.
	Latency time.Duration
	// Faults are injected from the start (see Fault and
	// Server.InjectFault); an invalid one makes New fail.
	Faults []Fault
	// FaultSeed seeds the random source of the faults' probabilities, so
	// that a run with the same calls in the same order fails the same
	// way. Zero: a random seed.
	FaultSeed uint64
	// DSMVersion is the DSM release to behave as, one of DSMVersions
	// ("7.2", "7.3", "7.4"). They differ in how a user's groups are
	// listed: {name, inherited} objects on 7.2 and 7.3, names on 7.4
	// (versions.go has the evidence). Empty: DefaultDSMVersion. Any other
	// value makes New fail.
	DSMVersion string
	// SecureSignInKey is the NAS's X25519 static private key (32 bytes)
	// of the DSM 7 secure sign-in (see securesignin.go): SYNO.API.Auth.UIConfig
	// get publishes its public half as cookie _SSID and login answers the
	// Noise IK handshake with it. Nil: the key kept in DataDir's state,
	// else a new one (kept there from then on, so _SSID survives a
	// restart, as on a NAS). Given, it replaces the stored one.
	SecureSignInKey []byte
	// LocalNets are the client networks whose sessions have full access
	// without the secure sign-in handshake; a session of any other
	// (remote) client without it is limited: reads work, changes to
	// users, groups and policies answer 105 (N4S4/synology-api issue
	// #239: from a public address, User list works and create answers
	// 105 until the client does the handshake). Nil:
	// DefaultLocalNets; an empty, non-nil slice: no client is local, as
	// for a NAS reached over the internet (see ParseLocalNets).
	LocalNets []netip.Prefix
	// HashErrorCode answers a call of a handshake session whose
	// X-SYNO-HASH is missing, malformed, forged or a replay. Zero:
	// DefaultHashErrorCode (119).
	HashErrorCode int
	// HashReplayAllowed accepts an X-SYNO-HASH again (its tag is still
	// checked). DSM 7.3.2 refuses a replay (N4S4/synology-api issue
	// #448); what earlier DSM 7 versions do is unknown. False: refused.
	HashReplayAllowed bool
	// OTPEnforceOption is the 2-step enforcement policy of a new state
	// (SYNO.Core.OTP.EnforcePolicy otp_enforce_option): "none" (or ""),
	// "admin" (administrators must have 2-step verification) or "user"
	// (everyone). A login of an account it covers that has none answers
	// 406.
	OTPEnforceOption string
	// Logger receives what the simulator cannot tell its clients, such
	// as a change it could not write to DataDir. Nil: nothing is logged.
	Logger *slog.Logger
	// Shares are the shared folders seeded besides homes, with rights by
	// user and group name. Nil: public (rw for the users group) and
	// finance (no rows), a choice (shares.go).
	Shares []Share
	// HomeServiceOff starts with the user home service off and no homes
	// folder. False: on, homes on /volume1.
	HomeServiceOff bool
	// HomeTaskDelay is how long the task of enabling the home service
	// runs (sim clock). Zero: DefaultHomeTaskDelay; negative: no task,
	// as on a virtual DSM.
	HomeTaskDelay time.Duration
	// ShareChangeTime is how long a shared folder create or delete keeps
	// DSM busy (sim clock): another one within it answers 3328, or 3300
	// after a delete (batonogov share.go). Zero: no such contention.
	ShareChangeTime time.Duration
	// WithoutAPIs are APIs of the simulator's table it does not serve, as
	// a NAS without a package or a release would not: discovery does not
	// list them and a call (also inside a compound request) answers 102.
	// SYNO.Core.Share.Quota, for one, is not served on every DSM 7 (the API
	// list synology-community/go-synology keeps, api_info.json). A name
	// the table does not have makes New fail.
	WithoutAPIs []string
}

// Server is the simulator: an http.Handler over an in-memory DSM. It is
// safe for concurrent use.
type Server struct {
	clock         *Clock
	key           *rsa.PrivateKey
	ssid          string // base64url X25519 public key, cookie _SSID
	adminPassword string
	idle          time.Duration
	byAddr        *limiter // auto-block of client addresses (407)
	byAccount     *limiter // account protection (411)
	maxBody       int64
	joinDelay     time.Duration
	dataDir       string
	latency       time.Duration
	log           *slog.Logger // never nil
	logins        atomic.Int64
	faults        *faultSet // injected faults, under their own lock
	release       release   // the DSM release modelled (Config.DSMVersion)

	// absent are the APIs of the table this simulator does not serve
	// (Config.WithoutAPIs).
	absent map[string]bool

	// The secure sign-in (securesignin.go): set by New, then read-only
	// but for the counter.
	ik           noise.DHKey    // secure sign-in static key (responder)
	ikRandom     io.Reader      // source of the responder's ephemeral keys; nil: crypto/rand (tests fix it)
	localNets    []netip.Prefix // clients with full access without the handshake
	hashCode     int            // the answer to a bad X-SYNO-HASH
	hashReplay   bool           // Config.HashReplayAllowed
	secureLogins atomic.Int64

	// unlockedHook, when set (tests), runs where slow work runs with
	// s.mu released.
	unlockedHook func()
	decryptions  chan struct{} // a slot per envelope being decrypted (maxDecryptions)

	started time.Time // the clock at New: SYNO.DSM.Info's uptime counts from it

	homeDelay   time.Duration // Config.HomeTaskDelay, defaulted
	shareChange time.Duration // Config.ShareChangeTime

	mu            sync.Mutex // guards everything below
	st            *store
	dirty         bool          // st changed since the last commit
	disk          *durableStore // the state on disk (DataDir only; boltstore.go)
	sessions      map[string]*session
	swept         time.Time           // when expired sessions were last swept
	sweptSize     int                 // len(sessions) after that sweep
	tokens        map[int64]time.Time // ciphertoken (server_time) -> when issued
	confirmTokens map[string]confirmToken
	// A shared folder change is going on until shareBusyUntil (shares.go);
	// shareBusyDelete: it is a delete.
	shareBusyUntil  time.Time
	shareBusyDelete bool
	// imports are the user imports (userimport.go), oldest first.
	imports []*importTask
}

// session is one logged-in session.
type session struct {
	sid       string
	uid       int
	name      string // the session name of the login (webui, FileStation...)
	synoToken string // "" when the login did not ask for one
	lastUsed  time.Time
	// authVersion is the SYNO.API.Auth version of the login: version 6
	// sessions cannot change users or groups on some releases
	// (release.limitedV6).
	authVersion int
	// ssi is the secure sign-in handshake of the login: nil when the
	// client sent no ik_message; then no X-SYNO-HASH is checked.
	ssi *secureSignIn
	// limited: a remote client's session without the handshake; methods
	// marked change answer 105.
	limited bool
}

// New returns a simulator seeded with admin, guest, the default groups,
// cfg.Groups and cfg.Users, or with the state in cfg.DataDir.
func New(cfg Config) (*Server, error) {
	rel, err := releaseOf(cfg.DSMVersion)
	if err != nil {
		return nil, err
	}
	s := &Server{
		absent:        map[string]bool{},
		release:       rel,
		clock:         NewClock(cfg.Start),
		key:           cfg.RSAKey,
		adminPassword: cfg.AdminPassword,
		idle:          orDefault(cfg.SessionIdleTimeout, DefaultSessionIdleTimeout),
		maxBody:       cfg.MaxBodyBytes,
		joinDelay:     cfg.JoinDelay,
		dataDir:       cfg.DataDir,
		latency:       max(cfg.Latency, 0),
		log:           cfg.Logger,
		faults:        newFaultSet(cfg.FaultSeed),
		st:            newStore(),
		sessions:      map[string]*session{},
		tokens:        map[int64]time.Time{},
		decryptions:   make(chan struct{}, maxDecryptions),
		confirmTokens: map[string]confirmToken{},
	}
	for _, name := range cfg.WithoutAPIs {
		if apiTable[name] == nil {
			return nil, fmt.Errorf("sim: WithoutAPIs: the simulator has no API %q to leave out", name)
		}
		s.absent[name] = true
	}
	for _, f := range cfg.Faults {
		if err := s.InjectFault(f); err != nil {
			return nil, err
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.started = s.clock.Now()
	s.homeDelay, s.shareChange = cfg.HomeTaskDelay, cfg.ShareChangeTime
	if s.homeDelay == 0 {
		s.homeDelay = DefaultHomeTaskDelay
	}
	if s.joinDelay == 0 {
		s.joinDelay = DefaultJoinDelay
	}
	blockAttempts := cfg.AutoBlockAttempts
	if blockAttempts == 0 {
		blockAttempts = DefaultAutoBlockAttempts
	}
	s.byAddr = newLimiter(blockAttempts, DefaultAutoBlockAttempts, orDefault(cfg.AutoBlockWithin, DefaultAutoBlockWithin), orDefault(cfg.AutoBlockFor, DefaultAutoBlockFor))
	lockAttempts := cfg.AccountLockAttempts
	if lockAttempts == 0 {
		lockAttempts = DefaultAccountLockAttempts
	}
	s.byAccount = newLimiter(lockAttempts, DefaultAccountLockAttempts, orDefault(cfg.AccountLockWithin, DefaultAccountLockWithin), orDefault(cfg.AccountLockFor, DefaultAccountLockFor))
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
	s.localNets = cfg.LocalNets
	if s.localNets == nil {
		s.localNets = DefaultLocalNets()
	}
	s.hashCode = cfg.HashErrorCode
	if s.hashCode == 0 {
		s.hashCode = DefaultHashErrorCode
	}
	s.hashReplay = cfg.HashReplayAllowed
	loaded := false
	if s.dataDir != "" {
		disk, st, err := openDurable(s.dataDir)
		if err != nil {
			return nil, err
		}
		s.disk = disk
		if st != nil {
			s.st, loaded = st, true
		}
	}
	if !loaded {
		if s.adminPassword == "" {
			s.adminPassword = "Adm-" + randomToken(12)
		}
		if err := s.seed(cfg); err != nil {
			return nil, err
		}
	}
	if err := s.setupSecureSignIn(cfg.SecureSignInKey); err != nil {
		return nil, err
	}
	if cfg.OTPEnforceOption != "" && !slices.Contains(otpEnforceOptions, cfg.OTPEnforceOption) {
		return nil, fmt.Errorf("sim: OTPEnforceOption %q: want none, admin or user", cfg.OTPEnforceOption)
	}
	s.setupSecurity(cfg.OTPEnforceOption)
	if s.dirty {
		if err := s.awaitDurable(s.commit()); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close closes the state's database (Config.DataDir), so that another
// simulator may open the directory; a memory-only server has nothing to
// close. Call it once no request is being served.
func (s *Server) Close() error {
	if s.disk == nil {
		return nil
	}
	return s.disk.close()
}

// seed fills a fresh state: admin, guest, cfg.Groups, cfg.Users, then the
// groups' members.
func (s *Server) seed(cfg Config) error {
	today := day(s.clock.Now())
	admin := &user{name: "admin", description: "System default user", passwordNeverExpire: true}
	admin.setPassword(s.adminPassword, today)
	s.st.addUser(admin, adminUID)
	s.st.groups[groupAdministrators].members[adminUID] = true
	guest := &user{name: "guest", description: "Guest", expired: "now", passwordNeverExpire: true}
	guest.setPassword("", today) // DSM's guest has an empty password
	s.st.addUser(guest, guestUID)
	for _, g := range cfg.Groups {
		if !validName(g.Name, maxGroupNameLen, groupNameForbidden) {
			return fmt.Errorf("sim: group name %q is not one DSM accepts", g.Name)
		}
		if s.st.groupByName(g.Name) != nil {
			return fmt.Errorf("sim: group %q already exists", g.Name)
		}
		s.st.addGroup(g.Name, g.Description)
	}
	for _, cu := range cfg.Users {
		if err := s.seedUser(cu, today); err != nil {
			return err
		}
	}
	for _, g := range cfg.Groups {
		for _, m := range g.Members {
			u := s.st.userByName(m)
			if u == nil {
				return fmt.Errorf("sim: group %q: no user %q", g.Name, m)
			}
			s.st.groupByName(g.Name).members[u.uid] = true
		}
	}
	if err := s.seedShares(cfg); err != nil {
		return err
	}
	s.dirty = true
	return nil
}

func (s *Server) seedUser(cu User, today int) error {
	if cu.Name == "" {
		return errors.New("sim: user with an empty name")
	}
	if s.st.userByName(cu.Name) != nil {
		return fmt.Errorf("sim: user %q already exists", cu.Name)
	}
	u := &user{
		name:                 cu.Name,
		description:          cu.Description,
		email:                cu.Email,
		otpEnforced:          cu.OTPEnforced,
		cannotChangePassword: cu.CannotChangePassword,
		passwordNeverExpire:  cu.PasswordNeverExpire,
	}
	if cu.OTPSecret != "" {
		key, err := decodeTOTPSecret(cu.OTPSecret)
		if err != nil {
			return fmt.Errorf("sim: user %q: %w", cu.Name, err)
		}
		u.otpKey = key
	}
	if cu.Expired != "" {
		exp, ok := normalizeExpired(cu.Expired)
		if !ok {
			return fmt.Errorf("sim: user %q: expired %q: want normal, now or YYYY/M/D", cu.Name, cu.Expired)
		}
		u.expired = exp
	}
	if cu.Disabled {
		u.expired = "now"
	}
	u.setPassword(cu.Password, today)
	s.st.addUser(u, 0)
	if cu.Admin {
		s.st.groups[groupAdministrators].members[u.uid] = true
	}
	for _, name := range cu.Groups {
		g := s.st.groupByName(name)
		if g == nil {
			return fmt.Errorf("sim: user %q: no group %q", cu.Name, name)
		}
		g.members[u.uid] = true
	}
	return nil
}

// DSMVersion returns the DSM release the simulator behaves as.
func (s *Server) DSMVersion() string { return s.release.name }

// Now returns the simulator's clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Advance moves the simulator's clock forward by d: idle sessions expire,
// TOTP windows move, auto-blocks lapse.
func (s *Server) Advance(d time.Duration) { s.clock.Advance(d) }

// Logins returns how many logins have succeeded so far.
func (s *Server) Logins() int { return int(s.logins.Load()) }

// AdminPassword returns the password the built-in admin account was
// created with: Config.AdminPassword or the random one New chose. When the
// state came from Config.DataDir it is Config.AdminPassword as given
// (possibly ""), whatever the stored account has since.
func (s *Server) AdminPassword() string { return s.adminPassword }

// PublicKey returns the public half of the SYNO.API.Encryption key.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// Sessions returns how many sessions are open (expired ones included until
// they are next looked at or swept, at most a minute of sim clock later;
// bounds.go caps them per account and in all).
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

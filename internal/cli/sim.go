package cli

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/internal/atomicfile"
	"github.com/dsmkit/dsm/internal/sim"
)

// simOptions are the options of dsmctl sim.
type simOptions struct {
	// Listen is the address to serve on; port 0 picks a free port.
	Listen string
	// AdminPassword comes from DSM_SIM_ADMIN_PASSWORD; empty: the
	// simulator makes one up and dsmctl prints it once.
	AdminPassword string
	// DataDir keeps the simulator's state across restarts (--data);
	// empty: the state lives in memory.
	DataDir string
	// Latency delays every answer (--latency), like a NAS across a network.
	Latency time.Duration
	// Faults are injected from the start (--fault SPEC, repeatable), with
	// probabilities drawn from FaultSeed (--fault-seed; 0: random).
	Faults    []sim.Fault
	FaultSeed uint64
	// DSMVersion is the DSM release to behave as (--dsm).
	DSMVersion string
	// LocalNets are the client networks with full access without the
	// secure sign-in handshake (--local-net, repeatable; "none": every
	// client is remote). Nil: sim.DefaultLocalNets.
	LocalNets []netip.Prefix
	// Users are accounts to seed a new state with (--user, repeatable;
	// simUserFlag in twofa.go).
	Users []simUser

	// TLS serves https with a self-signed certificate made at start
	// (--tls), or with CertFile and KeyFile (--cert, --key).
	TLS               bool
	CertFile, KeyFile string

	rsaKey *rsa.PrivateKey  // tests: skip generating a 4096-bit key
	ready  func(url string) // tests: called once the server listens
	debug  *bool            // --debug: each call is logged
}

func newSimCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &simOptions{debug: &g.Debug}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the DSM simulator in the foreground",
		Long: `Run the DSM simulator: a DSM 7 Web API over plain http (discovery,
encrypted login, 2-step codes, sessions, users, groups, join tasks,
password policies).

With --tls it serves https, like a NAS, with a self-signed certificate
made at start (ECDSA P-256, for 127.0.0.1, ::1, localhost and the listen
host), on 127.0.0.1:5001 unless --listen says otherwise; --cert FILE --key
FILE serve your own instead. The certificate's SHA-256 fingerprint is
printed alone on a line: "dsmctl login --fingerprint HEX" trusts it. With
--data DIR the self-signed certificate and its key are kept in
DIR/` + simCertFile + ` and DIR/` + simKeyFile + ` (mode 0600) and served again at the
next start, so the fingerprint clients trust stays the same (a new one is
made when it expires); a key file that group or others can read is
refused.

The state (users, groups, policies; not sessions) lives in memory, or with
--data DIR in DIR/` + sim.StateFile + ` (a database: each change writes only what it
changed, and is answered once it is on disk), read back at the next start:
users created in one run are there in the next. A DIR/` + sim.LegacyStateFile + ` of an earlier
version is migrated and kept as ` + sim.LegacyStateFile + `.migrated. DIR is created 0700;
the file is 0600 (it holds password hashes and 2-step seeds).

The admin password comes from DSM_SIM_ADMIN_PASSWORD; without it the
simulator makes one up and dsmctl prints it once, at start. With --data and
an existing state, the stored accounts and passwords are used and
DSM_SIM_ADMIN_PASSWORD is ignored. Ctrl-C (SIGINT) or SIGTERM stops the
server cleanly.

--dsm 7.2, 7.3 or 7.4 (default: the newest) picks the DSM release whose
differences it models: how a user's groups are listed (as {name,
inherited} objects on 7.2 and 7.3, as names on 7.4), and that sessions of
a version 6 login cannot change users or groups (all three).

--user NAME:PASSWORD (repeatable) adds an account to a new state;
NAME:PASSWORD:otp gives it 2-step verification with a seed made up at
start and printed once, as the admin password is; NAME:PASSWORD:otp=SEED
with that base32 seed. Accounts can also set 2-step up themselves
("dsmctl 2fa setup"), and auto-block, its allow and block lists, account
protection and the 2-step enforcement policy are settings read and
written through the API ("dsmctl security", "dsmctl policy 2fa"), kept
with the state.

--fault SPEC (repeatable) makes the simulator fail like a flaky NAS behind
a proxy; --fault-seed N makes the random faults repeat from run to run.
` + sim.FaultSpecHelp + `

DSM 7's secure sign-in is served: SYNO.API.Auth.UIConfig sets cookie
_SSID to the simulator's X25519 key (kept in --data, so it stays the
same across restarts), a login with ik_message completes the Noise IK
handshake, and every later call of that session must carry a good
X-SYNO-HASH. A client outside the local networks that logs in without
the handshake gets a limited session, as from the internet on a NAS:
reads work, changes to users, groups and policies answer 105. The local
networks are loopback, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16,
169.254.0.0/16, fe80::/10 and fc00::/7 unless --local-net CIDR[,CIDR...]
(repeatable) names others; --local-net none makes every client remote.

Loopback clients can also list, add and clear faults while it runs:
GET, POST {"spec":"SPEC"} and DELETE on /_sim/faults, and end every
session with POST /_sim/sessions/expire.`,
		Example: `  dsmctl sim
  dsmctl sim --listen 127.0.0.1:0
  dsmctl sim --dsm 7.2
  dsmctl sim --tls
  dsmctl sim --cert nas.pem --key nas-key.pem --listen 0.0.0.0:5001
  DSM_SIM_ADMIN_PASSWORD=secret dsmctl sim --data ~/.local/share/dsmsim
  DSM_SIM_ADMIN_PASSWORD=secret dsmctl sim --listen 0.0.0.0:5000
  dsmctl sim --fault '*:*:latency=50ms' --fault '*:*:reset:p=0.05' --fault-seed 1
  dsmctl sim --fault SYNO.Core.User:create:code=117:times=2
  dsmctl sim --local-net none
  dsmctl sim --user alice:Alice-pw-1 --user bob:Bob-pw-1:otp
  dsmctl sim --listen 0.0.0.0:5000 --local-net 127.0.0.0/8,192.168.1.0/24`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.AdminPassword = getenv("DSM_SIM_ADMIN_PASSWORD")
			if (o.CertFile == "") != (o.KeyFile == "") {
				return usagef("--cert and --key go together: the certificate and its private key")
			}
			if o.CertFile != "" {
				o.TLS = true
			}
			switch {
			case o.Listen != "":
			case o.TLS:
				o.Listen = "127.0.0.1:5001"
			default:
				o.Listen = "127.0.0.1:5000"
			}
			if _, port, err := net.SplitHostPort(o.Listen); err != nil || port == "" {
				// A malformed address is a usage error; one the system
				// refuses (in use, not this host's) fails at the listen.
				return usagef("--listen %s: want HOST:PORT, e.g. 127.0.0.1:5000 (port 0: any free port)", o.Listen)
			}
			if !slices.Contains(sim.DSMVersions, o.DSMVersion) {
				return usagef("--dsm %s: use one of %s", o.DSMVersion, strings.Join(sim.DSMVersions, ", "))
			}
			if err := checkSimUsers(o.Users); err != nil {
				return err
			}
			if o.Latency < 0 {
				return usagef("--latency %s: a delay cannot be negative; give 0 for none, or e.g. 50ms", o.Latency)
			}
			return runSim(cmd.Context(), o, s)
		},
	}
	cmd.Flags().StringVar(&o.Listen, "listen", "", "address to listen on (port 0: any free port) (default 127.0.0.1:5000, or 127.0.0.1:5001 with --tls)")
	cmd.Flags().BoolVar(&o.TLS, "tls", false, "serve https with a self-signed certificate made at start, or kept in --data (its fingerprint is printed)")
	cmd.Flags().StringVar(&o.CertFile, "cert", "", "serve https with this certificate (PEM; with --key)")
	cmd.Flags().StringVar(&o.KeyFile, "key", "", "the private key (PEM) of --cert")
	cmd.Flags().StringVar(&o.DataDir, "data", "", "directory that keeps the state across restarts (default: memory only)")
	cmd.Flags().DurationVar(&o.Latency, "latency", 0, "delay every answer by this long, like a NAS across a network (e.g. 50ms)")
	cmd.Flags().Var(faultFlag{&o.Faults}, "fault", "inject a fault, e.g. SYNO.Core.User:create:code=117:times=2 (repeatable; see above)")
	cmd.Flags().Uint64Var(&o.FaultSeed, "fault-seed", 0, "seed of the faults' probabilities, to repeat a run (0: random)")
	cmd.Flags().StringVar(&o.DSMVersion, "dsm", sim.DefaultDSMVersion, "DSM release to behave as: "+strings.Join(sim.DSMVersions, ", "))
	cmd.Flags().Var(simUserFlag{&o.Users}, "user", "add the user NAME:PASSWORD to a new state; NAME:PASSWORD:otp gives it 2-step verification (its seed is printed at start), NAME:PASSWORD:otp=SEED a given seed (repeatable)")
	cmd.Flags().Var(&localNetFlag{nets: &o.LocalNets}, "local-net", "client networks with full access without the secure sign-in, e.g. 192.168.1.0/24,fd00::/8 (repeatable; none: every client is remote; default: see above)")
	return cmd
}

// runSim serves the simulator on o.Listen until ctx is done, then shuts
// the server down and returns nil.
func runSim(ctx context.Context, o *simOptions, s *IOStreams) error {
	// The certificate first: a kept key with open permissions is refused
	// before the slow part.
	var cert tls.Certificate
	made := ""
	if o.TLS {
		var err error
		if cert, made, err = o.certificate(time.Now()); err != nil {
			return err
		}
	}
	fmt.Fprintln(s.Out, "starting the DSM simulator (generating its 4096-bit RSA key)...")
	stored := false
	if o.DataDir != "" {
		_, err := os.Stat(filepath.Join(o.DataDir, sim.StateFile))
		_, lerr := os.Stat(filepath.Join(o.DataDir, sim.LegacyStateFile))
		stored = err == nil || lerr == nil
	}
	srv, err := sim.New(sim.Config{AdminPassword: o.AdminPassword, RSAKey: o.rsaKey, DataDir: o.DataDir, Latency: o.Latency,
		Faults: o.Faults, FaultSeed: o.FaultSeed, DSMVersion: o.DSMVersion, LocalNets: o.LocalNets,
		Logger: o.logger(s.ErrOut), Users: simUsers(o.Users)})
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.Listen, err)
	}
	url := "http://" + reachable(ln.Addr())
	ln = sim.DefaultConnLimits.Listener(ln)
	fingerprint := ""
	if o.TLS {
		fingerprint = dsm.Fingerprint(cert.Leaf)
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		url = "https://" + reachable(ln.Addr())
	}
	hs := sim.DefaultConnLimits.Server(srv, o.Latency) // timeouts; ln has the cap on connections
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	fmt.Fprintf(s.Out, "listening on %s\n", url)
	fmt.Fprintf(s.Out, "behaving as DSM %s\n", srv.DSMVersion())
	if fingerprint != "" {
		// The fingerprint alone on its line, for scripts and for
		// comparing with what dsmctl login shows.
		fmt.Fprintf(s.Out, "certificate (%s), SHA-256 fingerprint:\n%s\n", made, fingerprint)
	}
	if o.DataDir != "" {
		fmt.Fprintf(s.Out, "state kept in %s\n", filepath.Join(o.DataDir, sim.StateFile))
	}
	switch {
	case stored:
		fmt.Fprintln(s.Out, "admin password: as stored in the state from an earlier run")
	case o.AdminPassword == "":
		// The one place a secret is printed: the user asked for a
		// simulator and needs its password to use it.
		fmt.Fprintf(s.Out, "admin password: %s (set DSM_SIM_ADMIN_PASSWORD to choose it)\n", srv.AdminPassword())
	default:
		fmt.Fprintln(s.Out, "admin password: the value of DSM_SIM_ADMIN_PASSWORD")
	}
	printSimUsers(s.Out, o.Users, stored)
	if fingerprint != "" {
		fmt.Fprintf(s.Out, "try: DSM_URL=%s DSM_USER=admin dsmctl login --fingerprint %s\n", url, fingerprint)
	} else {
		fmt.Fprintf(s.Out, "try: DSM_URL=%s DSM_USER=admin dsmctl login\n", url)
	}
	for _, f := range o.Faults {
		fmt.Fprintf(s.Out, "injecting fault %s\n", f)
	}
	fmt.Fprintln(s.Out, localNetsLine(o.LocalNets))
	fmt.Fprintln(s.Out, "press Ctrl-C to stop")
	if o.ready != nil {
		o.ready(url)
	}

	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = hs.Shutdown(shutCtx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("stopping: %w", err)
	}
	fmt.Fprintln(s.Out, "simulator stopped")
	return nil
}

// The files in which sim --tls --data keeps its self-signed certificate
// and private key, in the data directory.
const (
	simCertFile = "tls-cert.pem"
	simKeyFile  = "tls-key.pem"
)

// certificate returns the certificate to serve and where it comes from:
// --cert and --key; with --data, the self-signed one kept in the data
// directory (made there at the first start, or again when it has
// expired); else a self-signed one made now for the names of o.Listen.
func (o *simOptions) certificate(now time.Time) (cert tls.Certificate, made string, err error) {
	if o.CertFile != "" {
		cert, err := loadKeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return tls.Certificate{}, "", fmt.Errorf("--cert %s --key %s: %w", o.CertFile, o.KeyFile, err)
		}
		return cert, "from " + o.CertFile, nil
	}
	if o.DataDir != "" {
		return keptCertificate(o.DataDir, o.Listen, now)
	}
	cert, err = selfSignedCertificate(o.Listen, now)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("making a certificate: %w", err)
	}
	return cert, "made at start", nil
}

// loadKeyPair reads a PEM certificate and its private key, with Leaf set.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return tls.Certificate{}, err
		}
	}
	return cert, nil
}

// keptCertificate returns the self-signed certificate kept in dir, so
// that the fingerprint clients trust survives restarts. The first start
// makes it and writes both files (mode 0600); a key file that group or
// others may access is refused, and so is one file without the other.
// An expired certificate is replaced.
func keptCertificate(dir, listen string, now time.Time) (tls.Certificate, string, error) {
	certPath, keyPath := filepath.Join(dir, simCertFile), filepath.Join(dir, simKeyFile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, "", fmt.Errorf("--data: %w", err)
	}
	atomicfile.RemoveTemps(certPath) // a crash while writing left them
	atomicfile.RemoveTemps(keyPath)
	certExists, err := fileExists(certPath)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	keyExists, err := fileExists(keyPath)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	if certExists != keyExists {
		there, missing := certPath, keyPath
		if keyExists {
			there, missing = keyPath, certPath
		}
		return tls.Certificate{}, "", fmt.Errorf("--data %s: %s is there but %s is not; restore it, or remove %s to make a new certificate (with a new fingerprint)",
			dir, there, missing, there)
	}
	made := "made at start, kept in " + certPath
	if certExists {
		if err := checkPrivateFile(keyPath); err != nil {
			return tls.Certificate{}, "", err
		}
		cert, err := loadKeyPair(certPath, keyPath)
		if err != nil {
			return tls.Certificate{}, "", fmt.Errorf("--data %s: the kept certificate: %w; remove %s and %s to make a new one (with a new fingerprint)",
				dir, err, certPath, keyPath)
		}
		if now.Before(cert.Leaf.NotAfter) {
			return cert, "from " + certPath + ", made at an earlier start", nil
		}
		made = fmt.Sprintf("made at start: the kept one expired on %s; kept in %s", cert.Leaf.NotAfter.UTC().Format(time.DateOnly), certPath)
	}
	cert, err := selfSignedCertificate(listen, now)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("making a certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("making a certificate: %w", err)
	}
	// The key first: a crash between the two leaves a key without a
	// certificate, which the next start reports, never a certificate
	// whose key is lost.
	if err := atomicfile.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return tls.Certificate{}, "", fmt.Errorf("--data %s: keeping the certificate's key: %w", dir, err)
	}
	if err := atomicfile.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}), 0o600); err != nil {
		return tls.Certificate{}, "", fmt.Errorf("--data %s: keeping the certificate: %w", dir, err)
	}
	return cert, made, nil
}

func fileExists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// checkPrivateFile refuses a key file that is not a regular file or that
// group or others may access, with the chmod that fixes it.
func checkPrivateFile(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s holds the private key of the simulator's certificate but is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return fmt.Errorf("%s holds the private key of the simulator's certificate but has mode %04o: group or others can read it; "+
			"run \"chmod 600 %s\" (or remove it and %s to make a new certificate, with a new fingerprint)",
			path, perm, path, filepath.Join(filepath.Dir(path), simCertFile))
	}
	return nil
}

// selfSignedCertificate makes a certificate valid for a year from now
// for 127.0.0.1, ::1, localhost and the host of listen, as a fresh NAS
// has.
func selfSignedCertificate(listen string, now time.Time) (tls.Certificate, error) {
	ips, names := certificateHosts(listen)
	return sim.SelfSignedCertificate(pkix.Name{CommonName: "dsmctl sim", Organization: []string{"dsmctl simulator"}},
		ips, names, now.Add(-time.Hour), now.AddDate(1, 0, 0))
}

// certificateHosts returns the names a certificate for listen holds:
// 127.0.0.1, ::1, localhost and the listen host (when it listens on every
// address: this machine's name).
func certificateHosts(listen string) (ips []net.IP, names []string) {
	ips = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	names = []string{"localhost"}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	ip := net.ParseIP(host)
	switch {
	case host == "" || (ip != nil && ip.IsUnspecified()):
		if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
			names = append(names, h)
		}
	case ip != nil:
		if !ip.IsLoopback() {
			ips = append(ips, ip)
		}
	case host != "localhost":
		names = append(names, host)
	}
	return ips, names
}

// faultFlag is --fault: each spec is parsed as it is given, so a bad one
// is a usage error that names it.
type faultFlag struct{ faults *[]sim.Fault }

func (f faultFlag) String() string {
	if f.faults == nil {
		return ""
	}
	specs := make([]string, len(*f.faults))
	for i, fl := range *f.faults {
		specs[i] = fl.String()
	}
	return strings.Join(specs, ",")
}

func (f faultFlag) Set(spec string) error {
	fl, err := sim.ParseFault(spec)
	if err != nil {
		return err
	}
	*f.faults = append(*f.faults, fl)
	return nil
}

func (f faultFlag) Type() string { return "SPEC" }

// localNetsLine says which clients have full access without the secure
// sign-in (public information: no key is printed).
func localNetsLine(nets []netip.Prefix) string {
	if nets == nil {
		nets = sim.DefaultLocalNets()
	}
	if len(nets) == 0 {
		return "every client is remote (--local-net none): without the secure sign-in, sessions may only read"
	}
	names := make([]string, len(nets))
	for i, p := range nets {
		names[i] = p.String()
	}
	return "local clients (full access without the secure sign-in): " + strings.Join(names, ", ")
}

// localNetFlag is --local-net: CIDR prefixes separated by commas,
// repeatable, or "none" alone.
type localNetFlag struct {
	nets *[]netip.Prefix
	none bool // "none" was given
}

func (f *localNetFlag) String() string {
	if f.nets == nil || *f.nets == nil {
		return ""
	}
	if len(*f.nets) == 0 {
		return "none"
	}
	names := make([]string, len(*f.nets))
	for i, p := range *f.nets {
		names[i] = p.String()
	}
	return strings.Join(names, ",")
}

func (f *localNetFlag) Set(v string) error {
	nets, err := sim.ParseLocalNets(v)
	if err != nil {
		return err
	}
	if (len(nets) == 0 && *f.nets != nil) || f.none {
		return errors.New("none cannot be combined with networks: give --local-net none alone, or only networks")
	}
	f.none = len(nets) == 0
	*f.nets = append(append([]netip.Prefix{}, *f.nets...), nets...)
	return nil
}

func (f *localNetFlag) Type() string { return "CIDR" }

// reachable is the address a client on this machine uses to reach a
// listener at addr: one on every address (0.0.0.0, or [::], which Go
// listens on for both IPv4 and IPv6) is reached on 127.0.0.1.
func reachable(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}

// logger is the simulator's log: what it cannot tell its clients (a
// change it could not save), and with --debug each call (API, method,
// DSM code, duration; never a parameter), to w.
func (o *simOptions) logger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if o.debug != nil && *o.debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

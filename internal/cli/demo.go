package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/internal/audit"
	"github.com/dsmkit/dsm/internal/sim"
	"github.com/dsmkit/dsm/manifest"
)

// demoOptions are the options of dsmctl demo.
type demoOptions struct {
	// Debug also traces each call with the --debug logger.
	Debug bool

	rsaKey        *rsa.PrivateKey // tests: skip generating a 4096-bit key
	adminPassword string          // tests: instead of a generated one
	steps         []tourStep      // tests: instead of tourSteps
	tmpDir        string          // tests: the temporary directory, kept at the end
}

func newDemoCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	o := &demoOptions{}
	return &cobra.Command{
		Use:   "demo",
		Short: "Take a narrated tour of the DSM Web API against an in-process simulator",
		Long: `Start a DSM simulator inside this process on a free loopback port and walk
through what dsmctl does, showing each request and what DSM answered:
discovery, an encrypted login over plain http with DSM 7's secure sign-in,
whoami, a NAS reached over the internet (a session without the secure
sign-in may only read; with it, changes work), a wrong password,
2-step verification with a trusted device, a session that expires and is
renewed, users and groups, users as code (plan, apply, plan again), a
flaky NAS the client rides out, and logout. Nothing outside the process is
touched but a temporary directory, removed at the end.

Secrets (passwords, session ids, tokens, codes) are never shown: parameters
that carry them appear as their size only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Debug = g.Debug
			return runDemo(cmd.Context(), o, s)
		},
	}
}

// tourStep is one stop of the demo. Steps run in order and share the
// tour; a step that fails ends the demo.
type tourStep struct {
	title string
	run   func(t *tour, ctx context.Context) error
}

// tourSteps are the stops of dsmctl demo, in order. To show a new feature,
// add a step here.
var tourSteps = []tourStep{
	{"Discovery: which APIs does this DSM offer?", (*tour).discovery},
	{"Log in over plain http", (*tour).login},
	{"Who am I?", (*tour).whoami},
	{"A NAS reached over the internet: the secure sign-in, or a session that may only read", (*tour).remoteNAS},
	{"A wrong password", (*tour).wrongPassword},
	{"2-step verification and a trusted device", (*tour).twoStep},
	{"A session expires and is renewed without the caller noticing", (*tour).expiry},
	{"Create a user: the password policy decides", (*tour).createUser},
	{"Put the user into a group: DSM runs it as a task", (*tour).joinGroup},
	{"List the users", (*tour).listUsers},
	{"Change one field; nothing else changes", (*tour).updateUser},
	{"Delete the user", (*tour).deleteUser},
	{"Users as code: plan a file, apply it, plan again", (*tour).usersAsCode},
	{"A flaky NAS: busy answers and a lost reply, ridden out", (*tour).flakyNAS},
	{"Audit the accounts: a finding, its fix, and a clean audit", (*tour).audit},
	{"Log out", (*tour).logout},
}

// The demo's 2-step user. Her TOTP seed is the one authenticator apps use
// as an example; nothing here is a real secret, but the demo still
// shows none of it.
const (
	demoUser       = "alice"
	demoPassword   = "Wonderland-2024"
	demoOTPSecret  = "JBSWY3DPEHPK3PXP"
	demoDeviceName = "dsmctl demo"

	// The user the tour creates, changes and deletes, and the group it
	// joins.
	demoNewUser      = "carroll"
	demoWeakPassword = "carroll1"
	demoGoodPassword = "Jabberwocky-1871"
	demoGroup        = "writers"
)

// tour is the state the demo's steps share.
type tour struct {
	out   io.Writer
	srv   *sim.Server
	url   string
	wire  *wireLog
	debug io.Writer // nil unless --debug

	admin *dsm.Client // logged in by the login step
	// rsaKey is the simulators' RSA key (nil: each makes its own).
	rsaKey *rsa.PrivateKey

	tmp       string // the temporary directory of the steps that write files
	removeTmp bool   // tmp was made by tempDir: remove it at the end
}

// tempDir returns the tour's temporary directory, made on first use and
// removed when the tour ends.
func (t *tour) tempDir() (string, error) {
	if t.tmp == "" {
		dir, err := os.MkdirTemp("", "dsmctl-demo-")
		if err != nil {
			return "", err
		}
		t.tmp, t.removeTmp = dir, true
	}
	return t.tmp, nil
}

// runDemo starts the simulator and runs tourSteps.
func runDemo(ctx context.Context, o *demoOptions, s *IOStreams) error {
	fmt.Fprintln(s.Out, "dsmctl demo: a tour of the DSM Web API, against a DSM simulator inside this process")
	// One RSA key for the tour's simulators: making one takes a second.
	key := o.rsaKey
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, sim.RSAKeyBits); err != nil {
			return fmt.Errorf("starting the simulator: %w", err)
		}
	}
	srv, err := sim.New(sim.Config{
		RSAKey:        key,
		AdminPassword: o.adminPassword,
		Users: []sim.User{{
			Name: demoUser, Password: demoPassword, Description: "Alice Liddell",
			Email: "alice@example.com", OTPSecret: demoOTPSecret,
		}},
	})
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	url, stop, err := serveSim(srv)
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	defer stop()

	t := &tour{out: s.Out, srv: srv, url: url, wire: &wireLog{}, tmp: o.tmpDir, rsaKey: key}
	if o.Debug {
		t.debug = s.ErrOut
	}
	defer func() {
		if t.removeTmp {
			os.RemoveAll(t.tmp)
		}
	}()
	fmt.Fprintf(s.Out, "simulator listening on %s (users: admin, %s)\n", t.url, demoUser)
	fmt.Fprintln(s.Out, `"> " is a request the client sent, "< " what DSM answered; secrets show as their size.`)
	steps := tourSteps
	if o.steps != nil {
		steps = o.steps
	}
	for i, step := range steps {
		fmt.Fprintf(s.Out, "\n%d. %s\n", i+1, step.title)
		if err := step.run(t, ctx); err != nil {
			return fmt.Errorf("demo step %d (%s): %w", i+1, step.title, err)
		}
	}
	fmt.Fprintln(s.Out, "\nEnd of the tour. Next: run \"dsmctl sim\" in one terminal and \"dsmctl login\" against it in another.")
	return nil
}

// serveSim serves srv on a free loopback port with the timeouts and the
// connection cap of dsmctl sim, and returns its URL and what stops it
// (waiting at most demoShutdown for the calls under way).
func serveSim(srv *sim.Server) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := sim.DefaultConnLimits.Server(srv, 0)
	go hs.Serve(sim.DefaultConnLimits.Listener(ln))
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), demoShutdown)
		defer cancel()
		hs.Shutdown(ctx)
	}, nil
}

// demoShutdown bounds the wait for the tour's simulators to stop.
const demoShutdown = 5 * time.Second

// demoTransport is the wire log's transport, bounded as the library's own
// is (dsm.DefaultTimeouts).
var demoTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: dsm.DefaultTimeouts.Connect}).DialContext
	t.TLSHandshakeTimeout = dsm.DefaultTimeouts.TLSHandshake
	t.ResponseHeaderTimeout = dsm.DefaultTimeouts.ResponseHeader
	t.IdleConnTimeout = dsm.DefaultTimeouts.IdleConn
	return t
}()

// client returns a client of the simulator that records its requests in
// the tour's wire log.
func (t *tour) client(opts ...dsm.Option) (*dsm.Client, error) {
	return t.clientOf(t.url, opts...)
}

// clientOf returns a client of the DSM at url that records its requests
// in the tour's wire log.
func (t *tour) clientOf(url string, opts ...dsm.Option) (*dsm.Client, error) {
	base := []dsm.Option{dsm.WithHTTPClient(&http.Client{Transport: t.wire}), dsm.WithUserAgent("dsmctl demo")}
	if t.debug != nil {
		base = append(base, dsm.WithLogger(debugLogger(t.debug)))
	}
	return dsm.NewClient(url, append(base, opts...)...)
}

// say prints a line of narration.
func (t *tour) say(format string, args ...any) {
	fmt.Fprintf(t.out, "   "+format+"\n", args...)
}

// showWire prints the requests made since the last call, and forgets them.
// A run of identical calls (a task polled) shows once, with its count.
func (t *tour) showWire() {
	calls := t.wire.take()
	for i := 0; i < len(calls); {
		c := calls[i]
		key := c.withNonce("")
		n := 1
		for i+n < len(calls) && calls[i+n].withNonce("") == key && calls[i+n].answer == c.answer {
			n++
		}
		nonce := c.nonce
		if n > 1 && nonce != "" {
			nonce += "-" + calls[i+n-1].nonce
		}
		fmt.Fprintf(t.out, "   > %s\n", c.withNonce(nonce))
		if n > 1 {
			fmt.Fprintf(t.out, "   < %s (%d times)\n", c.answer, n)
		} else {
			fmt.Fprintf(t.out, "   < %s\n", c.answer)
		}
		i += n
	}
}

func (t *tour) discovery(ctx context.Context) error {
	c, err := t.client()
	if err != nil {
		return err
	}
	var apis map[string]dsm.APIInfo
	if err := c.Call(ctx, "SYNO.API.Info", "query", dsm.Params{"query": "all"}, &apis); err != nil {
		return err
	}
	t.showWire()
	t.say("No session is needed to ask. DSM lists %d APIs, where each is served and its versions:", len(apis))
	names := make([]string, 0, len(apis))
	for name := range apis {
		names = append(names, name)
	}
	slices.Sort(names)
	tw := tabwriter.NewWriter(t.out, 0, 0, 2, ' ', 0)
	for _, name := range names {
		a := apis[name]
		fmt.Fprintf(tw, "     %s\t%s\tv%d-%d\n", name, a.Path, a.MinVersion, a.MaxVersion)
	}
	tw.Flush()
	t.say("The client calls each API with the highest version both sides speak.")
	return nil
}

func (t *tour) login(ctx context.Context) error {
	c, err := t.client()
	if err != nil {
		return err
	}
	t.say("The simulator speaks plain http, so the password must not travel in clear. The client")
	t.say("first asks SYNO.API.Encryption for the server's RSA key, then sends account and passwd")
	t.say("inside the __cIpHeRtExT envelope: AES-256-CBC under a random 501-character passphrase,")
	t.say("the passphrase encrypted with the RSA key. Only DSM can open it.")
	if _, err := c.Auth.Login(ctx, dsm.Credentials{Account: dsm.AccountAdmin, Password: t.srv.AdminPassword()}); err != nil {
		return err
	}
	calls := t.wire.peek()
	t.showWire()
	for _, call := range calls {
		if call.form.Get("method") == "login" && (call.form.Has("passwd") || call.form.Has("account")) {
			return errors.New("the password travelled in clear")
		}
	}
	t.say("Checked: no account or passwd parameter in clear. DSM answered a session id (SID)")
	t.say("and a SynoToken (sent as X-SYNO-TOKEN on later calls); both are secrets.")
	if sess, _ := c.Auth.Session(); sess.SecureSignIn {
		t.say("The login also did DSM 7's secure sign-in: UIConfig gave the NAS's public key (cookie")
		t.say("_SSID), ik_message carried the first message of a Noise IK handshake, DSM answered the")
		t.say("second. Every later request of the session carries X-SYNO-HASH, good for one nonce.")
	}
	t.admin = c
	return nil
}

// remoteNAS shows what the secure sign-in is for: a second simulator that
// counts every client as remote, as a NAS reached over the internet does.
func (t *tour) remoteNAS(ctx context.Context) error {
	srv, err := sim.New(sim.Config{RSAKey: t.rsaKey, AdminPassword: t.srv.AdminPassword(), LocalNets: []netip.Prefix{}})
	if err != nil {
		return err
	}
	url, stop, err := serveSim(srv)
	if err != nil {
		return err
	}
	defer stop()
	admin := dsm.Credentials{Account: dsm.AccountAdmin, Password: t.srv.AdminPassword()}
	t.say("A second simulator, at %s, counts every client as remote (dsmctl sim --local-net none).", url)
	t.say("A client that logs in without the secure sign-in (dsm.SecureSignInOff) may read:")
	plain, err := t.clientOf(url, dsm.WithCredentials(admin), dsm.WithSecureSignIn(dsm.SecureSignInOff))
	if err != nil {
		return err
	}
	defer plain.Close()
	if _, total, err := plain.Users.List(ctx, dsm.ListOptions{}); err != nil {
		return err
	} else {
		t.showWire()
		t.say("%d users listed. But a change:", total)
	}
	_, err = plain.Users.Create(ctx, dsm.UserCreateRequest{Name: demoNewUser, Password: demoGoodPassword})
	t.showWire()
	if !errors.Is(err, dsm.ErrLimitedSession) {
		return fmt.Errorf("want the create refused in a limited session, got %v", err)
	}
	t.say("is refused, and the client says why: %v", err)
	t.say("The default client does the handshake, and the same change works:")
	signed, err := t.clientOf(url, dsm.WithCredentials(admin))
	if err != nil {
		return err
	}
	defer signed.Close()
	if _, err := signed.Users.Create(ctx, dsm.UserCreateRequest{Name: demoNewUser, Password: demoGoodPassword}); err != nil {
		return err
	}
	if err := signed.Users.Delete(ctx, demoNewUser); err != nil {
		return err
	}
	t.showWire()
	t.say("Created and deleted %s there. A replayed X-SYNO-HASH would be refused: each nonce is good once.", demoNewUser)
	return nil
}

func (t *tour) whoami(ctx context.Context) error {
	me, err := t.admin.Auth.Whoami(ctx)
	if err != nil {
		return err
	}
	t.showWire()
	t.say("account %s, full name %q, 2-step verification %s", me.Account, me.Fullname, onOff(me.OTPEnabled))
	return nil
}

func (t *tour) wrongPassword(ctx context.Context) error {
	c, err := t.client()
	if err != nil {
		return err
	}
	_, err = c.Auth.Login(ctx, dsm.Credentials{Account: dsm.AccountAdmin, Password: "not-the-password"})
	t.showWire()
	if !errors.Is(err, dsm.ErrWrongCredentials) {
		return fmt.Errorf("want a wrong-password error, got %v", err)
	}
	t.say("DSM's reason: %v", err)
	t.say("dsmctl exits with code 4 on such an error. Five failures in ten minutes block the address.")
	return nil
}

func (t *tour) twoStep(ctx context.Context) error {
	c, err := t.client()
	if err != nil {
		return err
	}
	cred := dsm.Credentials{Account: demoUser, Password: demoPassword, DeviceName: demoDeviceName}
	t.say("%s has 2-step verification. A login with her password alone:", demoUser)
	_, err = c.Auth.Login(ctx, cred)
	t.showWire()
	var ae *dsm.APIError
	if !errors.Is(err, dsm.ErrOTPRequired) || !errors.As(err, &ae) {
		return fmt.Errorf("want a 2-step code request, got %v", err)
	}
	t.say("DSM wants a 2-step code; it offers these methods: %s.", strings.Join(ae.OTPTypes(), ", "))

	code, err := sim.TOTP(demoOTPSecret, t.srv.Now())
	if err != nil {
		return err
	}
	t.say("Again with the code her authenticator app shows, asking DSM to trust this device:")
	cred.OTPCode = code
	sess, err := c.Auth.Login(ctx, cred)
	if err != nil {
		return err
	}
	t.showWire()
	if sess.DeviceID == "" {
		return errors.New("DSM issued no device token")
	}
	t.say("Code accepted. DSM also issued a device token (%d bytes, a secret); dsmctl login saves it.", len(sess.DeviceID))

	c2, err := t.client()
	if err != nil {
		return err
	}
	t.say("Later, a new login presenting the device token and no code:")
	if _, err := c2.Auth.Login(ctx, dsm.Credentials{Account: demoUser, Password: demoPassword, DeviceID: sess.DeviceID}); err != nil {
		return err
	}
	t.showWire()
	t.say("Accepted without a code: the device is trusted.")
	if err := errors.Join(c.Auth.Logout(ctx), c2.Auth.Logout(ctx)); err != nil {
		return err
	}
	t.wire.take()
	return nil
}

func (t *tour) expiry(ctx context.Context) error {
	before, _ := t.admin.Auth.Session()
	logins := t.srv.Logins()
	idle := sim.DefaultSessionIdleTimeout
	t.srv.Advance(idle + time.Minute)
	t.say("DSM ends sessions idle for %s. The simulator's clock jumps %s ahead; then whoami again:", idle, idle+time.Minute)
	me, err := t.admin.Auth.Whoami(ctx)
	if err != nil {
		return err
	}
	t.showWire()
	after, _ := t.admin.Auth.Session()
	if t.srv.Logins() != logins+1 || after.SID == before.SID {
		return fmt.Errorf("want one new login and a new session, got %d logins", t.srv.Logins()-logins)
	}
	t.say("The client saw the session had expired, logged in again with the credentials it keeps,")
	t.say("and repeated the call: the caller just got the answer (account %s).", me.Account)
	return nil
}

func (t *tour) createUser(ctx context.Context) error {
	p, err := t.admin.Policy.PasswordPolicy(ctx)
	if err != nil {
		return err
	}
	t.wire.take()
	t.say("First with a weak password. The password travels encrypted, like the login's:")
	_, err = t.admin.Users.Create(ctx, dsm.UserCreateRequest{Name: demoNewUser, Password: demoWeakPassword, Description: "Lewis Carroll"})
	t.showWire()
	if !errors.Is(err, dsm.ErrWeakPassword) {
		return fmt.Errorf("want the weak password refused, got %v", err)
	}
	t.say("DSM refuses it: %v", err)
	t.say("The rules it breaks, checked by the client against the NAS's policy (dsmctl shows them too):")
	for _, v := range p.Check(demoNewUser, demoWeakPassword) {
		t.say("  %s: %s", v.Rule, v.Message)
	}
	t.say("Again with a good one (dsmctl user create --generate-password makes one up):")
	created, err := t.admin.Users.Create(ctx, dsm.UserCreateRequest{Name: demoNewUser, Password: demoGoodPassword,
		Description: "Lewis Carroll", Email: "carroll@example.com"})
	if err != nil {
		return err
	}
	t.showWire()
	t.say("Created %s, uid %d.", created.Name, created.UID)
	return nil
}

func (t *tour) joinGroup(ctx context.Context) error {
	if _, err := t.admin.Groups.Create(ctx, dsm.GroupCreateRequest{Name: demoGroup, Description: "People who write"}); err != nil {
		return err
	}
	t.showWire()
	task, err := t.admin.Users.JoinGroups(ctx, demoNewUser, []string{demoGroup}, nil)
	if err != nil {
		return err
	}
	st, err := task.Wait(ctx)
	if err != nil {
		return err
	}
	t.showWire()
	t.say("join only queued the change and answered a task id; the client polled join_status")
	t.say("until the task finished (%d/%d), then read the user's groups back to make sure:", st.Progress, st.Total)
	u, err := t.admin.Users.Get(ctx, demoNewUser, dsm.FieldGroups)
	if err != nil {
		return err
	}
	t.wire.take()
	t.say("%s is in %s.", u.Name, strings.Join(u.Groups, ", "))
	return nil
}

func (t *tour) listUsers(ctx context.Context) error {
	tw := tabwriter.NewWriter(t.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "     NAME\tDESCRIPTION\tEMAIL\tEXPIRED\tGROUPS")
	for u, err := range t.admin.Users.All(ctx, dsm.ListOptions{Fields: []string{dsm.FieldDescription, dsm.FieldEmail, dsm.FieldExpired, dsm.FieldGroups}}) {
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "     %s\t%s\t%s\t%s\t%s\n", u.Name, orDash(u.Description), orDash(u.Email), u.Expired, strings.Join(u.Groups, ","))
	}
	t.showWire()
	tw.Flush()
	t.say("dsmctl user list shows the same; -o json, yaml or csv for scripts.")
	return nil
}

func (t *tour) updateUser(ctx context.Context) error {
	before, err := t.admin.Users.Get(ctx, demoNewUser)
	if err != nil {
		return err
	}
	t.wire.take()
	const email = "lewis@example.org"
	t.say("Change the email only. DSM's set takes every field, so the client reads the user first")
	t.say("and sends the other fields as they are:")
	if _, err := t.admin.Users.Update(ctx, demoNewUser, dsm.UserUpdateRequest{Email: dsm.Ptr(email)}); err != nil {
		return err
	}
	t.showWire()
	after, err := t.admin.Users.Get(ctx, demoNewUser)
	if err != nil {
		return err
	}
	t.wire.take()
	if after.Email != email {
		return fmt.Errorf("email is %q, want %q", after.Email, email)
	}
	want := before
	want.Email = email
	if !reflect.DeepEqual(want, after) {
		return fmt.Errorf("more than the email changed:\n%+v\n%+v", want, after)
	}
	t.say("email: %s -> %s", before.Email, email)
	t.say("Read back: description, expiry, password settings and groups are as they were.")
	return nil
}

func (t *tour) deleteUser(ctx context.Context) error {
	if err := t.admin.Users.Delete(ctx, demoNewUser); err != nil {
		return err
	}
	t.showWire()
	_, err := t.admin.Users.Get(ctx, demoNewUser)
	t.showWire()
	if !errors.Is(err, dsm.ErrNoSuchUser) {
		return fmt.Errorf("want the user gone, got %v", err)
	}
	t.say("Gone: %v", err)
	t.say("dsmctl user delete asks first on a terminal and wants --yes otherwise; it exits 3 for no such user.")
	return nil
}

// The file of the users-as-code step, and the passwords it takes from its
// secrets file. None of them is shown.
const (
	demoManifest = `secrets_file: secrets.yaml
groups:
  - name: teaparty
    description: The Mad Tea-Party
  - name: court
    description: The court of the Queen of Hearts
users:
  - name: hatter
    description: The Hatter
    email: hatter@example.com
    groups: [teaparty]
    password: {from_file: hatter}
  - name: dormouse
    groups: [teaparty]
    password: {from_file: dormouse}
  - name: queen
    description: Queen of Hearts
    groups: [court]
    password: {generate: true}
`
	demoHatterPassword   = "Ten-Past-Six-1865"
	demoDormousePassword = "Twinkle-Little-Bat-7"
	demoSecrets          = "hatter: " + demoHatterPassword + "\ndormouse: " + demoDormousePassword + "\n"
)

func (t *tour) usersAsCode(ctx context.Context) error {
	dir, err := t.tempDir()
	if err != nil {
		return err
	}
	path, secrets, passwords := filepath.Join(dir, "users.yaml"), filepath.Join(dir, "secrets.yaml"), filepath.Join(dir, "first-passwords.tsv")
	if err := os.WriteFile(path, []byte(demoManifest), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(secrets, []byte(demoSecrets), 0o600); err != nil {
		return err
	}
	t.say("A file says which groups and users the NAS should have (%s):", path)
	t.block(demoManifest)
	t.say("The passwords of hatter and dormouse are in %s (mode 0600); queen's is made up.", filepath.Base(secrets))
	f, err := manifest.Load(path)
	if err != nil {
		return err
	}
	t.say("dsmctl plan -f users.yaml reads the NAS, changes nothing, and prints the difference:")
	plan, err := f.Plan(ctx, t.admin, manifest.PlanOptions{})
	if err != nil {
		return err
	}
	t.showWire()
	t.block(plan.String())

	t.say("dsmctl apply makes the changes: groups first, then each user (create, join its groups).")
	t.say("It runs 4 at once; here one at a time, so that the calls read in order:")
	pf, err := openPasswordsOut(passwords)
	if err != nil {
		return err
	}
	defer pf.Close()
	create, update, del := plan.Counts()
	start := time.Now()
	res, err := plan.Apply(ctx, t.admin, manifest.ApplyOptions{Parallel: 1, RecordPassword: pf.record, CreateDone: pf.createDone})
	if err != nil {
		return err
	}
	t.showWire()
	var sum strings.Builder
	summarize(&sum, res, time.Since(start), create, update, del)
	t.block(sum.String())
	if !res.OK() {
		return fmt.Errorf("%d of %d changes failed", len(res.Failures), res.Total)
	}
	if err := pf.Close(); err != nil {
		return err
	}
	fi, err := os.Stat(passwords)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows" {
		return fmt.Errorf("%s has mode %04o, want 0600", passwords, fi.Mode().Perm())
	}
	t.say("queen's generated password is in %s (mode 0600),", passwords)
	t.say("written there before she was created (\"pending\"), then marked \"created\"; it is not shown here.")

	t.say("Plan again:")
	again, err := f.Plan(ctx, t.admin, manifest.PlanOptions{})
	if err != nil {
		return err
	}
	t.wire.take()
	t.block(again.String())
	if !again.Empty() {
		return errors.New("a second plan is not empty")
	}
	t.say("Nothing to do: applying is idempotent, and safe to repeat after an interruption.")
	if t.removeTmp {
		t.say("(%s is removed at the end of the tour.)", dir)
	}
	return nil
}

// The user the flaky-NAS step creates.
const (
	demoFlakyUser     = "rabbit"
	demoFlakyPassword = "Oh-My-Ears-And-Whiskers-9"
)

func (t *tour) flakyNAS(ctx context.Context) error {
	faults := []sim.Fault{
		{API: "SYNO.Core.User", Method: "get", Kind: sim.FaultCode, Code: 117, Times: 2},
		{API: "SYNO.Core.User", Method: "create", Kind: sim.FaultResetAfter, Times: 1},
	}
	t.say("The simulator injects faults (dsmctl sim --fault SPEC does the same):")
	for _, f := range faults {
		if err := t.srv.InjectFault(f); err != nil {
			return err
		}
		t.say("  %s", f)
	}
	defer t.srv.ClearFaults()
	t.say("The first two user reads get DSM's busy code 117; the next user create is applied,")
	t.say("then its connection is closed before the answer is sent.")

	// A client on the admin's session with the default retry policy, whose
	// debug log shows its retry lines here.
	retries := &retryLines{}
	h := &retryLog{kept: retries}
	if t.debug != nil {
		h.next = debugLogger(t.debug).Handler()
	}
	sess, _ := t.admin.Auth.Session()
	c, err := t.client(dsm.WithSession(sess), dsm.WithLogger(slog.New(h)))
	if err != nil {
		return err
	}

	t.say("Read %s:", demoUser)
	u, err := c.Users.Get(ctx, demoUser)
	if err != nil {
		return err
	}
	t.showWire()
	if lines := t.showRetries(retries); len(lines) != 2 {
		return fmt.Errorf("want 2 retries of the read, got %q", lines)
	}
	t.say("Busy means DSM did nothing, so the client waited (exponential backoff with jitter)")
	t.say("and asked again: the caller just got %s (%s), at the third attempt.", u.Name, u.Description)

	t.say("Create %s. The create is not safe to repeat blindly:", demoFlakyUser)
	created, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: demoFlakyUser, Password: demoFlakyPassword,
		Description: "The White Rabbit", Email: "rabbit@example.com"})
	if err != nil {
		return err
	}
	t.showWire()
	lines := t.showRetries(retries)
	if len(lines) != 1 || !strings.Contains(lines[0], "the change happened") {
		return fmt.Errorf("want one log line saying the create happened, got %q", lines)
	}
	t.say("No answer came back, so the client could not know whether DSM created %s. It looked", demoFlakyUser)
	t.say("before trying again, found the user, and returned it (uid %d) without a second create.", created.UID)

	n := 0
	for u, err := range c.Users.All(ctx, dsm.ListOptions{}) {
		if err != nil {
			return err
		}
		if strings.EqualFold(u.Name, demoFlakyUser) {
			n++
		}
	}
	t.showWire()
	if n != 1 {
		return fmt.Errorf("%s is listed %d times, want once", demoFlakyUser, n)
	}
	t.say("%s is listed once. Without the check, a retry would have failed with \"name taken\"", demoFlakyUser)
	t.say("though the create had worked. dsm.WithRetry sets the policy; dsm.NoRetry turns it off.")
	return nil
}

// block prints text, a line at a time, indented under the narration.
func (t *tour) block(text string) {
	for line := range strings.Lines(text) {
		fmt.Fprintf(t.out, "     %s", line)
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		fmt.Fprintln(t.out)
	}
}

// showRetries prints the retry lines logged since the last call, and
// forgets them; it returns them.
func (t *tour) showRetries(r *retryLines) []string {
	lines := r.take()
	if len(lines) > 0 {
		t.say("The client's debug log, its retry lines only:")
	}
	for _, l := range lines {
		fmt.Fprintf(t.out, "   log: %s\n", l)
	}
	return lines
}

// retryLines are the "dsm retry" lines of a client's debug log.
type retryLines struct {
	mu    sync.Mutex
	lines []string
}

// take returns the lines kept so far and forgets them.
func (r *retryLines) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	lines := r.lines
	r.lines = nil
	return lines
}

// retryLog is a slog.Handler that keeps, as text, the client's records
// whose message starts with "dsm retry", and passes every record on to
// next when it is set (--debug).
type retryLog struct {
	kept  *retryLines
	next  slog.Handler
	attrs []slog.Attr
}

// Enabled takes every level: the retry lines are at debug level.
func (h *retryLog) Enabled(context.Context, slog.Level) bool { return true }

// Handle keeps r when it is a retry line.
func (h *retryLog) Handle(ctx context.Context, r slog.Record) error {
	if h.next != nil {
		if err := h.next.Handle(ctx, r); err != nil {
			return err
		}
	}
	if !strings.HasPrefix(r.Message, "dsm retry") {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	each := func(a slog.Attr) bool {
		v := a.Value.Resolve()
		if v.Kind() == slog.KindDuration {
			v = slog.DurationValue(v.Duration().Round(time.Millisecond))
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, v)
		return true
	}
	for _, a := range h.attrs {
		each(a)
	}
	r.Attrs(each)
	h.kept.mu.Lock()
	h.kept.lines = append(h.kept.lines, b.String())
	h.kept.mu.Unlock()
	return nil
}

// WithAttrs returns a handler that adds attrs to each line.
func (h *retryLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append(slices.Clip(h.attrs), attrs...)
	if h.next != nil {
		h2.next = h.next.WithAttrs(attrs)
	}
	return &h2
}

// WithGroup returns h with the group passed on: the client's log uses no
// groups, so the retry lines need none.
func (h *retryLog) WithGroup(name string) slog.Handler {
	h2 := *h
	if h.next != nil {
		h2.next = h.next.WithGroup(name)
	}
	return &h2
}

// audit shows dsmctl audit on a third simulator, tidy but for an enabled
// guest account: the finding, its fix, and the clean audit after it.
func (t *tour) audit(ctx context.Context) error {
	srv, err := sim.New(sim.Config{RSAKey: t.rsaKey, AdminPassword: t.srv.AdminPassword(), OTPEnforceOption: string(dsm.EnforceAdmins),
		Users: []sim.User{{Name: demoUser, Password: demoPassword, OTPSecret: demoOTPSecret, Admin: true}}})
	if err != nil {
		return err
	}
	url, stop, err := serveSim(srv)
	if err != nil {
		return err
	}
	defer stop()
	code, err := sim.TOTP(demoOTPSecret, srv.Now())
	if err != nil {
		return err
	}
	c, err := t.clientOf(url, dsm.WithCredentials(dsm.Credentials{Account: demoUser, Password: demoPassword, OTPCode: code}))
	if err != nil {
		return err
	}
	defer c.Close()
	// The tidy NAS: the default admin off, a password policy at the
	// audit's baseline; then the one risk, guest enabled.
	pol, err := c.Policy.PasswordPolicy(ctx)
	if err != nil {
		return err
	}
	pol.Strong.MinLengthEnabled, pol.Strong.MinLength, pol.Strong.ExcludeCommon = true, audit.BaselineSingleFactorLength, true
	if err := c.Policy.SetPasswordPolicy(ctx, pol); err != nil {
		return err
	}
	for name, e := range map[string]dsm.Expiry{dsm.AccountAdmin: dsm.Disabled, "guest": dsm.Never} {
		if _, err := c.Users.Update(ctx, name, dsm.UserUpdateRequest{Expiry: dsm.Ptr(e)}); err != nil {
			return err
		}
	}
	t.wire.take() // the set-up is not the point
	t.say("A third simulator, at %s, where %s (an administrator with 2-step) signs in.", url, demoUser)
	t.say("dsmctl audit only reads: the users, administrators, policies and sign-in settings.")
	snap, err := audit.Read(ctx, c)
	if err != nil {
		return err
	}
	found := audit.Check(snap)
	t.wire.take()
	if len(found) != 1 || found[0].Check != audit.GuestEnabled {
		return fmt.Errorf("want the one finding %s, got %+v", audit.GuestEnabled, found)
	}
	f := found[0]
	t.say("One finding: [%s] %s (%s): %s.", f.Severity, f.Check, strings.Join(f.Accounts, ", "), f.Summary)
	t.say("Why: %s.", f.Why)
	t.say("Fix: %s. The call it makes:", f.Fix)
	if _, err := c.Users.Update(ctx, "guest", dsm.UserUpdateRequest{Expiry: dsm.Ptr(dsm.Disabled)}); err != nil {
		return err
	}
	t.showWire()
	if snap, err = audit.Read(ctx, c); err != nil {
		return err
	}
	t.wire.take()
	if found = audit.Check(snap); len(found) != 0 {
		return fmt.Errorf("want a clean audit after the fix, got %+v", found)
	}
	t.say("The audit again: no findings. \"dsmctl audit --fail-on high\" makes a CI job fail on a new one.")
	return nil
}

func (t *tour) logout(ctx context.Context) error {
	sess, _ := t.admin.Auth.Session()
	if err := t.admin.Auth.Logout(ctx); err != nil {
		return err
	}
	t.showWire()
	old, err := t.client(dsm.WithSession(sess))
	if err != nil {
		return err
	}
	t.say("The session is over on the server too. A client resuming it:")
	_, err = old.Auth.Whoami(ctx)
	t.showWire()
	if !errors.Is(err, dsm.ErrSessionExpired) {
		return fmt.Errorf("want the old session refused, got %v", err)
	}
	t.say("DSM refuses it: %v", err)
	return nil
}

// wireLog is an http.RoundTripper that records each request's parameters
// and the outcome of the answer, for the demo to show.
type wireLog struct {
	mu    sync.Mutex
	calls []wireCall
}

// wireCall is one recorded request.
type wireCall struct {
	path   string
	form   url.Values
	token  bool   // an X-SYNO-TOKEN header was sent
	nonce  string // the nonce of the X-SYNO-HASH header, "" without one
	answer string // "success" or "error <code>"
}

// RoundTrip sends req with the default transport and records it.
func (w *wireLog) RoundTrip(req *http.Request) (*http.Response, error) {
	call := wireCall{path: req.URL.Path, token: req.Header.Get("X-SYNO-TOKEN") != "", nonce: hashNonce(req.Header.Get("X-SYNO-HASH"))}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		call.form, _ = url.ParseQuery(string(b))
	}
	resp, err := demoTransport.RoundTrip(req)
	if err != nil {
		w.record(call, noAnswer(err))
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		w.record(call, noAnswer(err))
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var env struct {
		Success bool `json:"success"`
		Error   struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		call.answer = resp.Status
	case json.Unmarshal(b, &env) != nil:
		call.answer = "not JSON"
	case env.Success:
		call.answer = "success"
	default:
		call.answer = fmt.Sprintf("error %d: %s", env.Error.Code, dsm.CodeMessage(call.form.Get("api"), env.Error.Code))
	}
	w.record(call, call.answer)
	return resp, nil
}

// record keeps call with its answer.
func (w *wireLog) record(call wireCall, answer string) {
	call.answer = answer
	w.mu.Lock()
	w.calls = append(w.calls, call)
	w.mu.Unlock()
}

// noAnswer describes a request that got no answer, without the addresses
// and ports a transport error names.
func noAnswer(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "no answer: connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "no answer: connection closed"
	}
	return "no answer: " + err.Error()
}

// take returns the calls recorded so far and forgets them.
func (w *wireLog) take() []wireCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	calls := w.calls
	w.calls = nil
	return calls
}

// peek returns the calls recorded so far.
func (w *wireLog) peek() []wireCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.calls)
}

// publicParams are the parameters whose values the demo shows; every
// other parameter may hold a secret and shows as its size.
var publicParams = map[string]bool{
	"session": true, "format": true, "enable_syno_token": true,
	"enable_device_token": true, "device_name": true, "query": true,
	"name": true, "new_name": true, "description": true, "email": true, "expired": true,
	"cannot_chg_passwd": true, "passwd_never_expire": true, "notify_by_email": true, "send_password": true,
	"type": true, "offset": true, "limit": true, "sort_by": true, "sort_direction": true, "additional": true,
	"join_group": true, "leave_group": true, "task_id": true, "group": true, "ingroup": true, "name_only": true,
}

// withNonce renders the call as one line without any secret, with nonce
// as the nonce of its X-SYNO-HASH ("" leaves the nonce out; a call
// without the header shows none).
func (c wireCall) withNonce(nonce string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s  %s v%s %s", c.path, c.form.Get("api"), c.form.Get("version"), c.form.Get("method"))
	keys := make([]string, 0, len(c.form))
	for k := range c.form {
		switch k {
		case "api", "version", "method":
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := c.form.Get(k)
		if n := strings.Count(v, ",") + 1; k == "query" && n > 3 {
			fmt.Fprintf(&b, " %s=%s,...(%d names)", k, strings.Join(strings.SplitN(v, ",", 3)[:2], ","), n)
		} else if publicParams[k] {
			fmt.Fprintf(&b, " %s=%s", k, v)
		} else {
			fmt.Fprintf(&b, " %s=(%d bytes)", k, len(v))
		}
	}
	if c.token {
		b.WriteString(" +X-SYNO-TOKEN")
	}
	if c.nonce != "" {
		b.WriteString(" +X-SYNO-HASH")
		if nonce != "" {
			b.WriteString("(nonce " + nonce + ")")
		}
	}
	return b.String()
}

// hashNonce returns the nonce an X-SYNO-HASH header names (the decimal
// digits, base64url after its "."), or "" for none. The rest of the
// header, a tag good once, is not shown.
func hashNonce(h string) string {
	_, enc, ok := strings.Cut(h, ".")
	if !ok {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "?"
	}
	return string(b)
}

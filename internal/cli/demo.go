package cli

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/internal/sim"
)

// demoOptions are the options of dsmctl demo.
type demoOptions struct {
	// Debug also traces each call with the --debug logger.
	Debug bool

	rsaKey        *rsa.PrivateKey // tests: skip generating a 4096-bit key
	adminPassword string          // tests: instead of a generated one
	steps         []tourStep      // tests: instead of tourSteps
}

func newDemoCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	o := &demoOptions{}
	return &cobra.Command{
		Use:   "demo",
		Short: "Take a narrated tour of the DSM Web API against an in-process simulator",
		Long: `Start a DSM simulator inside this process on a free loopback port and walk
through what dsmctl does, showing each request and what DSM answered:
discovery, an encrypted login over plain http, whoami, a wrong password,
2-step verification with a trusted device, a session that expires and is
renewed, and logout. Nothing outside the process is touched.

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
	{"A wrong password", (*tour).wrongPassword},
	{"2-step verification and a trusted device", (*tour).twoStep},
	{"A session expires and is renewed without the caller noticing", (*tour).expiry},
	{"Create a user: the password policy decides", (*tour).createUser},
	{"Put the user into a group: DSM runs it as a task", (*tour).joinGroup},
	{"List the users", (*tour).listUsers},
	{"Change one field; nothing else changes", (*tour).updateUser},
	{"Delete the user", (*tour).deleteUser},
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
}

// runDemo starts the simulator and runs tourSteps.
func runDemo(ctx context.Context, o *demoOptions, s *IOStreams) error {
	fmt.Fprintln(s.Out, "dsmctl demo: a tour of the DSM Web API, against a DSM simulator inside this process")
	srv, err := sim.New(sim.Config{
		RSAKey:        o.rsaKey,
		AdminPassword: o.adminPassword,
		Users: []sim.User{{
			Name: demoUser, Password: demoPassword, Description: "Alice Liddell",
			Email: "alice@example.com", OTPSecret: demoOTPSecret,
		}},
	})
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Shutdown(context.WithoutCancel(ctx))

	t := &tour{out: s.Out, srv: srv, url: "http://" + ln.Addr().String(), wire: &wireLog{}}
	if o.Debug {
		t.debug = s.ErrOut
	}
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

// client returns a client of the simulator that records its requests in
// the tour's wire log.
func (t *tour) client(opts ...dsm.Option) (*dsm.Client, error) {
	base := []dsm.Option{dsm.WithHTTPClient(&http.Client{Transport: t.wire}), dsm.WithUserAgent("dsmctl demo")}
	if t.debug != nil {
		base = append(base, dsm.WithLogger(debugLogger(t.debug)))
	}
	return dsm.NewClient(t.url, append(base, opts...)...)
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
		req := c.request()
		n := 1
		for i+n < len(calls) && calls[i+n].request() == req && calls[i+n].answer == c.answer {
			n++
		}
		fmt.Fprintf(t.out, "   > %s\n", req)
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
	if _, err := c.Auth.Login(ctx, dsm.Credentials{Account: "admin", Password: t.srv.AdminPassword()}); err != nil {
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
	t.admin = c
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
	_, err = c.Auth.Login(ctx, dsm.Credentials{Account: "admin", Password: "not-the-password"})
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
	answer string // "success" or "error <code>"
}

// RoundTrip sends req with the default transport and records it.
func (w *wireLog) RoundTrip(req *http.Request) (*http.Response, error) {
	call := wireCall{path: req.URL.Path, token: req.Header.Get("X-SYNO-TOKEN") != ""}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		call.form, _ = url.ParseQuery(string(b))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
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
	w.mu.Lock()
	w.calls = append(w.calls, call)
	w.mu.Unlock()
	return resp, nil
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

// request renders the call as one line without any secret.
func (c wireCall) request() string {
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
	return b.String()
}

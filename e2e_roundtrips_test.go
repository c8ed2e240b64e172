package dsm_test

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
	"github.com/dsmkit/dsm/internal/sim"
)

// These tests count the requests a client sends for what it does: each
// request is a round trip to the NAS, and over the internet round trips
// are the cost.

// callLog is an http.RoundTripper that records, in order, the calls a
// client sends ("API method") and their forms.
type callLog struct {
	next http.RoundTripper

	mu    sync.Mutex
	calls []string
	forms []url.Values
}

func (l *callLog) RoundTrip(r *http.Request) (*http.Response, error) {
	form := url.Values{}
	if r.GetBody != nil {
		if body, err := r.GetBody(); err == nil {
			b, _ := io.ReadAll(body)
			body.Close()
			form, _ = url.ParseQuery(string(b))
		}
	}
	l.mu.Lock()
	l.calls = append(l.calls, form.Get("api")+" "+form.Get("method"))
	l.forms = append(l.forms, form)
	l.mu.Unlock()
	return l.next.RoundTrip(r)
}

// take returns the calls recorded since the last take, and forgets them.
func (l *callLog) take() ([]string, []url.Values) {
	l.mu.Lock()
	defer l.mu.Unlock()
	calls, forms := l.calls, l.forms
	l.calls, l.forms = nil, nil
	return calls, forms
}

// loggedClient returns a client of srv whose requests go through a
// callLog, with opts.
func loggedClient(t *testing.T, srv *dsmtest.Server, opts ...dsm.Option) (*dsm.Client, *callLog) {
	t.Helper()
	l := &callLog{next: srv.HTTPClient().Transport}
	if l.next == nil {
		l.next = http.DefaultTransport
	}
	c, err := dsm.NewClient(srv.URL(), append(opts, dsm.WithHTTPClient(&http.Client{Transport: l}))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, l
}

const (
	callInfo    = "SYNO.API.Info query"
	callKey     = "SYNO.API.Encryption getinfo"
	callUI      = "SYNO.API.Auth.UIConfig get"
	callLogin   = "SYNO.API.Auth login"
	callList    = "SYNO.Core.User list"
	callCreate  = "SYNO.Core.User create"
	callGetUser = "SYNO.Core.User get"
)

func adminCred(srv *dsmtest.Server) dsm.Credentials {
	return dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}
}

func checkCalls(t *testing.T, what string, l *callLog, want []string) []url.Values {
	t.Helper()
	got, forms := l.take()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s: requests (-want +got):\n%s", what, d)
	}
	return forms
}

// TestRoundTripsHTTP: over plain http a login is discovery, the secure
// sign-in's UIConfig, the envelope key and the login; a whole user list
// is one request (limit -1); each create after it is one request, the
// login's envelope key being reused.
func TestRoundTripsHTTP(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Pw-alice-1"}))
	c, l := loggedClient(t, srv)
	ctx := t.Context()
	if _, err := c.Auth.Login(ctx, adminCred(srv)); err != nil {
		t.Fatal(err)
	}
	checkCalls(t, "login", l, []string{callInfo, callUI, callKey, callLogin})

	n := 0
	for _, err := range c.Users.All(ctx, dsm.ListOptions{Fields: []string{dsm.FieldEmail, dsm.FieldGroups}}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Errorf("All yielded %d users, want 3 (admin, guest, alice)", n)
	}
	forms := checkCalls(t, "all users", l, []string{callList})
	if len(forms) == 1 && forms[0].Get("limit") != "-1" {
		t.Errorf("the list asked for limit %q, want -1 (all)", forms[0].Get("limit"))
	}

	for _, name := range []string{"bob", "carol"} {
		if _, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: name, Password: "Zq8!mLw3#Vx-9"}); err != nil {
			t.Fatal(err)
		}
		checkCalls(t, "create "+name, l, []string{callCreate})
	}
}

// TestRoundTripsHTTPS: over https there is no envelope, so no key: a
// login is discovery, UIConfig and the login, and with a remembered API
// table only the last two.
func TestRoundTripsHTTPS(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithTLS())
	c, l := loggedClient(t, srv)
	ctx := t.Context()
	if _, err := c.Auth.Login(ctx, adminCred(srv)); err != nil {
		t.Fatal(err)
	}
	checkCalls(t, "login", l, []string{callInfo, callUI, callLogin})
	if _, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "bob", Password: "Zq8!mLw3#Vx-b"}); err != nil {
		t.Fatal(err)
	}
	checkCalls(t, "create", l, []string{callCreate})

	table, ok := c.APITable()
	if !ok {
		t.Fatal("no API table after a login")
	}
	again, l2 := loggedClient(t, srv, dsm.WithAPIInfo(table))
	if _, err := again.Auth.Login(ctx, adminCred(srv)); err != nil {
		t.Fatal(err)
	}
	checkCalls(t, "login with a remembered table", l2, []string{callUI, callLogin})
}

// TestRoundTripsSavedSession: a client given a saved session and API
// table sends only its call: no discovery, no login.
func TestRoundTripsSavedSession(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	first, _ := loggedClient(t, srv)
	sess, err := first.Auth.Login(t.Context(), adminCred(srv))
	if err != nil {
		t.Fatal(err)
	}
	table, ok := first.APITable()
	if !ok {
		t.Fatal("no API table after a login")
	}
	c, l := loggedClient(t, srv, dsm.WithSession(sess), dsm.WithAPIInfo(table))
	if _, _, err := c.Users.List(t.Context(), dsm.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	checkCalls(t, "list in a saved session", l, []string{callList})
	if got, ok := c.APITable(); !ok || !got.Equal(table) {
		t.Errorf("APITable after the call: %v %v, want the table given", got, ok)
	}
}

// TestRoundTripsStaleEnvelopeKey: when DSM refuses the reused envelope
// key (its token went stale on the NAS's clock), the client checks that
// the create was not done, fetches one new key and sends the create once
// more; the next create reuses the new key.
func TestRoundTripsStaleEnvelopeKey(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	c, l := loggedClient(t, srv)
	ctx := t.Context()
	if _, err := c.Auth.Login(ctx, adminCred(srv)); err != nil {
		t.Fatal(err)
	}
	l.take()
	srv.Advance(sim.CipherTokenTTL + time.Second)
	if _, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "bob", Password: "Zq8!mLw3#Vx-b"}); err != nil {
		t.Fatal(err)
	}
	checkCalls(t, "create with a stale key", l, []string{callCreate, callGetUser, callKey, callCreate})
	if _, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "carol", Password: "Zq8!mLw3#Vx-c"}); err != nil {
		t.Fatal(err)
	}
	checkCalls(t, "the next create", l, []string{callCreate})

	// A login (a read) with a stale key is sent again at once.
	srv.Advance(sim.CipherTokenTTL + time.Second)
	if _, err := c.Auth.Login(ctx, adminCred(srv)); err != nil {
		t.Fatal(err)
	}
	checkCalls(t, "login with a stale key", l, []string{callUI, callLogin, callKey, callLogin})
}

// TestRoundTripsRememberedTableRefreshed: a 103 to a call made with a
// remembered API table makes the client read the table again and repeat
// the call, once; with a table it read itself, a 103 is the answer.
func TestRoundTripsRememberedTableRefreshed(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	first, _ := loggedClient(t, srv)
	sess, err := first.Auth.Login(t.Context(), adminCred(srv))
	if err != nil {
		t.Fatal(err)
	}
	table, _ := first.APITable()
	c, l := loggedClient(t, srv, dsm.WithSession(sess), dsm.WithAPIInfo(table))
	fault := dsmtest.Fault{API: "SYNO.Core.User", Method: "list", Kind: sim.FaultCode, Code: 103, Times: 1}
	if err := srv.InjectFault(fault); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Users.List(t.Context(), dsm.ListOptions{}); err != nil {
		t.Fatalf("list after a 103 to a remembered table: %v", err)
	}
	checkCalls(t, "list answered 103", l, []string{callList, callInfo, callList})

	if err := srv.InjectFault(fault); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Users.List(t.Context(), dsm.ListOptions{}); !strings.Contains(errString(err), "103") {
		t.Errorf("list answered 103 with a table read from the NAS: %v, want the 103", err)
	}
	checkCalls(t, "list answered 103 again", l, []string{callList})

	// A table that lists the API in versions this client does not speak.
	odd := dsm.APITable{APIs: maps.Clone(table.APIs)}
	odd.APIs["SYNO.Core.User"] = dsm.APIInfo{Path: "entry.cgi", MinVersion: 5, MaxVersion: 5, RequestFormat: "JSON"}
	c, l = loggedClient(t, srv, dsm.WithSession(sess), dsm.WithAPIInfo(odd))
	if _, _, err := c.Users.List(t.Context(), dsm.ListOptions{}); err != nil {
		t.Fatalf("list with a table of other versions: %v", err)
	}
	checkCalls(t, "list with a table of other versions", l, []string{callInfo, callList})
}

// TestRoundTripsNewBuildRefreshesTable: SYSTEM.Info reporting another
// DSM build than the remembered table's makes the next call read the
// table again.
func TestRoundTripsNewBuildRefreshesTable(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t)
	first, _ := loggedClient(t, srv)
	sess, err := first.Auth.Login(t.Context(), adminCred(srv))
	if err != nil {
		t.Fatal(err)
	}
	table, _ := first.APITable()
	table.Build = 1 // an older DSM
	c, l := loggedClient(t, srv, dsm.WithSession(sess), dsm.WithAPIInfo(table))
	info, err := c.System.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Users.List(t.Context(), dsm.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	checkCalls(t, "info, then a list", l, []string{"SYNO.DSM.Info getinfo", callInfo, callList})
	if got, ok := c.APITable(); !ok || got.Build != info.Version.Build {
		t.Errorf("APITable after a new build: build %d (%v), want %d", got.Build, ok, info.Version.Build)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestWithAPIInfoRefusesBadTables: a table that cannot be one is refused
// when the client is made, with what is wrong.
func TestWithAPIInfoRefusesBadTables(t *testing.T) {
	t.Parallel()
	good := dsm.APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 1}
	for _, tt := range []struct {
		name  string
		table dsm.APITable
		want  string
	}{
		{"empty", dsm.APITable{}, "empty"},
		{"versions", dsm.APITable{APIs: map[string]dsm.APIInfo{"SYNO.Core.User": {Path: "entry.cgi", MinVersion: 2, MaxVersion: 1}}}, "versions 2 to 1"},
		{"path", dsm.APITable{APIs: map[string]dsm.APIInfo{"SYNO.Core.User": {Path: "../x.cgi", MinVersion: 1, MaxVersion: 1}}}, "path"},
		{"name", dsm.APITable{APIs: map[string]dsm.APIInfo{"a&b": good}}, "not an API name"},
		{"build", dsm.APITable{Build: -1, APIs: map[string]dsm.APIInfo{"SYNO.Core.User": good}}, "negative"},
	} {
		_, err := dsm.NewClient("http://nas:5000", dsm.WithAPIInfo(tt.table))
		var ae *dsm.ArgError
		if !errors.As(err, &ae) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "WithAPIInfo") {
			t.Errorf("%s: %v, want an *ArgError naming WithAPIInfo and %q", tt.name, err, tt.want)
		}
	}
}

// TestRoundTripsRememberedTableLacksAPI: an API the remembered table
// lacks is taken as absent, not as a reason to read the table again: a
// table without SYNO.API.Auth.UIConfig (a DSM 6) logs in with one
// request, without the secure sign-in.
func TestRoundTripsRememberedTableLacksAPI(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithTLS())
	first, _ := loggedClient(t, srv)
	if _, err := first.Auth.Login(t.Context(), adminCred(srv)); err != nil {
		t.Fatal(err)
	}
	table, _ := first.APITable()
	delete(table.APIs, "SYNO.API.Auth.UIConfig")
	c, l := loggedClient(t, srv, dsm.WithAPIInfo(table))
	sess, err := c.Auth.Login(t.Context(), adminCred(srv))
	if err != nil {
		t.Fatal(err)
	}
	checkCalls(t, "login with a table without UIConfig", l, []string{callLogin})
	if sess.SecureSignIn {
		t.Error("the session has the secure sign-in; the table said the NAS offers none")
	}
}

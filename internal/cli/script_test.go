package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// TestMain makes the test binary serve as dsmctl for the scripts (and for
// TestSimStopsOnSignal): testscript puts a "dsmctl" that runs Main on PATH.
func TestMain(m *testing.M) {
	// A binary built with -race sleeps a second as it exits, waiting for
	// reports (the race runtime's atexit_sleep_ms, default 1000): a
	// second for each dsmctl a script runs. The scripts' dsmctl runs
	// without it; testscript passes GORACE on to them.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=10")
	}
	testscript.Main(m, map[string]func(){
		"dsmctl": func() { os.Exit(Main()) },
		// coredump-state runs Main's first step and prints what the
		// process then allows (TestCoreDumpsOff).
		"coredump-state": func() { os.Exit(printCoreDumpState()) },
	})
}

// The admin password of the scripts' simulator: fixed, so that a script
// can type it at a terminal prompt (ttyin).
const scriptAdminPassword = "Script-Admin-Pw-3"

// otto, a second account with 2-step verification in the scripts: a code
// is accepted once per account.
const (
	ottoPassword = "otto-Secret-7"
	ottoOTPSeed  = "ORXXI3ZAONSWK3DQORXXI3ZAONSWK3DQ"
)

// simKey is where a script keeps its simulator.
type simKey struct{}

type scriptSim struct {
	srv   *dsmtest.Server
	front *tlsFront // with dsmsim -tls
}

// TestScripts runs testdata/script/*.txtar. A script runs dsmctl as a
// process with "exec dsmctl" (or exitcode), never bare, and no archive
// holds two files of the same name. Besides testscript's commands, the
// scripts have:
//
//	dsmsim [-tls]           start a simulator (admin, alice, bob and otto
//	                        with 2-step) and set DSM_URL, ADMIN_PASSWORD,
//	                        ALICE_PASSWORD, BOB_PASSWORD, OTTO_PASSWORD;
//	                        and SIM_HOST (its host:port);
//	                        with -tls it serves https with a self-signed
//	                        certificate made as dsmctl sim --tls makes it,
//	                        and sets FINGERPRINT (64 hex digits),
//	                        FINGERPRINT_COLONS (AA:BB:...) and writes
//	                        $WORK/sim-cert.pem
//	newcert                 give the https simulator a new certificate on
//	                        the same URL; OLD_FINGERPRINT(_COLONS) is the
//	                        previous one
//	otpcode [SEEDFILE]      set OTP to bob's current 2-step code, or to
//	                        that of the base32 seed in SEEDFILE
//	advance DURATION        move the simulator's clock
//	exitcode N PROG ARGS... run PROG and check that it exits with N
//	mode PERM PATH          check the permission bits of PATH (e.g. 0600)
//
// Every script has its own config directory, $WORK/config, and HOME.
func TestScripts(t *testing.T) {
	t.Parallel()
	runScripts(t, false)
}

// TestScriptsRemote runs every script again against a simulator that
// counts every client as remote, as a NAS reached over the internet does
// (dsmctl sim --local-net none): each dsmctl command must work through
// DSM 7's secure sign-in, whose absence would limit it to reading.
func TestScriptsRemote(t *testing.T) {
	t.Parallel()
	runScripts(t, true)
}

// remoteKey marks a script run whose simulator counts every client as
// remote.
type remoteKey struct{}

func runScripts(t *testing.T, remote bool) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("DSM_CONFIG_DIR", filepath.Join(e.WorkDir, "config"))
			e.Setenv("HOME", filepath.Join(e.WorkDir, "home"))
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, "home", ".config"))
			e.Values[simKey{}] = &scriptSim{}
			e.Values[remoteKey{}] = remote
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"dsmsim":   cmdDSMSim,
			"newcert":  cmdNewCert,
			"otpcode":  cmdOTPCode,
			"advance":  cmdAdvance,
			"exitcode": cmdExitCode,
			"mode":     cmdMode,
		},
	})
}

func scriptServer(ts *testscript.TestScript) *scriptSim {
	return ts.Value(simKey{}).(*scriptSim)
}

func cmdDSMSim(ts *testscript.TestScript, neg bool, args []string) {
	useTLS := len(args) == 1 && args[0] == "-tls"
	if neg || len(args) > 1 || len(args) == 1 && !useTLS {
		ts.Fatalf("usage: dsmsim [-tls]")
	}
	s := scriptServer(ts)
	if s.srv != nil {
		ts.Fatalf("dsmsim: a simulator is already running")
	}
	var opts []dsmtest.Option
	if ts.Value(remoteKey{}).(bool) {
		opts = append(opts, dsmtest.WithRemoteClients())
	}
	srv, err := dsmtest.NewServer(append(opts,
		dsmtest.WithRSAKey(testKey()),
		dsmtest.WithAdminPassword(scriptAdminPassword),
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: alicePassword, Description: "Alice Liddell", Email: "alice@example.com"}),
		dsmtest.WithUser(dsmtest.User{Name: "bob", Password: bobPassword, OTPSecret: bobOTPSecret}),
		dsmtest.WithUser(dsmtest.User{Name: "otto", Password: ottoPassword, OTPSecret: ottoOTPSeed}),
	)...)
	ts.Check(err)
	ts.Defer(srv.Close)
	s.srv = srv
	ts.Setenv("DSM_URL", srv.URL())
	ts.Setenv("SIM_HOST", strings.TrimPrefix(srv.URL(), "http://"))
	ts.Setenv("ADMIN_PASSWORD", srv.AdminPassword())
	ts.Setenv("ALICE_PASSWORD", alicePassword)
	ts.Setenv("BOB_PASSWORD", bobPassword)
	ts.Setenv("OTTO_PASSWORD", ottoPassword)
	if useTLS {
		front, err := newTLSFront(srv.Handler())
		ts.Check(err)
		ts.Defer(front.close)
		s.front = front
		ts.Setenv("DSM_URL", front.url)
		ts.Setenv("SIM_HOST", strings.TrimPrefix(front.url, "https://"))
		setCertificateEnv(ts, front)
	}
}

// setCertificateEnv publishes the https simulator's certificate to the
// script.
func setCertificateEnv(ts *testscript.TestScript, front *tlsFront) {
	fp := front.fingerprint()
	ts.Setenv("FINGERPRINT", fp)
	ts.Setenv("FINGERPRINT_COLONS", dsm.FormatFingerprint(fp))
	ts.Check(os.WriteFile(ts.MkAbs("sim-cert.pem"), front.certPEM(), 0o644))
}

func cmdNewCert(ts *testscript.TestScript, neg bool, args []string) {
	s := scriptServer(ts)
	if neg || len(args) != 0 || s.front == nil {
		ts.Fatalf("usage: newcert (after dsmsim -tls)")
	}
	ts.Setenv("OLD_FINGERPRINT", ts.Getenv("FINGERPRINT"))
	ts.Setenv("OLD_FINGERPRINT_COLONS", ts.Getenv("FINGERPRINT_COLONS"))
	ts.Check(s.front.rotate())
	setCertificateEnv(ts, s.front)
}

func cmdOTPCode(ts *testscript.TestScript, neg bool, args []string) {
	s := scriptServer(ts)
	if neg || len(args) > 1 || s.srv == nil {
		ts.Fatalf("usage: otpcode [SEEDFILE] (after dsmsim)")
	}
	seed := bobOTPSecret
	if len(args) == 1 {
		seed = strings.TrimSpace(ts.ReadFile(args[0]))
	}
	ts.Setenv("OTP", dsmtest.TOTP(seed, s.srv.Now()))
}

func cmdAdvance(ts *testscript.TestScript, neg bool, args []string) {
	s := scriptServer(ts)
	if neg || len(args) != 1 || s.srv == nil {
		ts.Fatalf("usage: advance DURATION (after dsmsim)")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	s.srv.Advance(d)
}

func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode PERM PATH")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	got := fi.Mode().Perm()
	if (got == os.FileMode(want)) == neg {
		ts.Fatalf("%s has mode %04o, want %s%04o", args[1], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

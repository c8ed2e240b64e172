package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/internal/cli"
)

// TestMain lets the test binary be dsmctl: TestDurability runs it as
// "dsmctl sim" in a child process, so the real command serves real HTTP.
func TestMain(m *testing.M) {
	if os.Getenv("LOADTEST_RUN_DSMCTL") == "1" {
		os.Exit(cli.Main())
	}
	os.Exit(m.Run())
}

const (
	durableAdminPW = "Dur4ble-Admin-pw"
	durableGroup   = "durable"
)

// simProcess is "dsmctl sim --data DIR" running in a child process.
type simProcess struct {
	cmd *exec.Cmd
	url string
}

var listening = regexp.MustCompile(`^listening on (http://127\.0\.0\.1:[0-9]+)$`)

func startSimProcess(t *testing.T, dir string) *simProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "sim", "--listen", "127.0.0.1:0", "--data", dir)
	cmd.Env = append(os.Environ(), "LOADTEST_RUN_DSMCTL=1", "DSM_SIM_ADMIN_PASSWORD="+durableAdminPW)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &simProcess{cmd: cmd}
	t.Cleanup(func() { p.kill() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case p.url = <-found:
	case <-time.After(60 * time.Second):
		t.Fatal("dsmctl sim did not start listening within 60s")
	}
	return p
}

// kill sends SIGKILL and waits for the process to end.
func (p *simProcess) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// fate is what the test knows of a change: acknowledged, or sent and
// answered by a failure (the kill), so it may or may not have happened.
type fate int

const (
	present fate = iota + 1 // created (or added), acknowledged
	absent                  // deleted, acknowledged
	unknown                 // the call failed: either may be true
)

// ledger is what the writers were told, per user and per membership.
type ledger struct {
	mu      sync.Mutex
	users   map[string]fate
	members map[string]fate // user -> membership of durableGroup
}

func (l *ledger) set(m map[string]fate, name string, f fate) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m[name] = f
}

// write makes changes as client k of round r until a call fails (the
// kill) or ctx ends, and records each answer in l.
func write(ctx context.Context, c *dsm.Client, r, k int, l *ledger) {
	rng := rand.New(rand.NewPCG(uint64(r), uint64(k)))
	var mine []string
	for n := 0; ctx.Err() == nil; n++ {
		switch x := rng.IntN(10); {
		case x < 2 && len(mine) > 1:
			u := mine[0]
			mine = mine[1:]
			l.set(l.users, u, unknown)
			if err := c.Users.Delete(ctx, u); err != nil {
				return
			}
			l.set(l.users, u, absent)
			l.set(l.members, u, absent)
		case x < 5 && len(mine) > 0:
			u := mine[len(mine)-1]
			l.set(l.members, u, unknown)
			if err := c.Groups.AddMembers(ctx, durableGroup, u); err != nil {
				return
			}
			l.set(l.members, u, present)
		default:
			u := fmt.Sprintf("r%d-c%d-u%d", r, k, n)
			l.set(l.users, u, unknown)
			if _, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: u, Password: password}); err != nil {
				return
			}
			l.set(l.users, u, present)
			mine = append(mine, u)
		}
	}
}

// TestDurability runs "dsmctl sim --data" in a child process, lets four
// clients write to it, SIGKILLs it at a random moment, restarts it on the
// same directory, and checks that every acknowledged change survived and
// that the state hangs together. A few rounds, about 10 seconds.
func TestDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	t.Parallel()
	dir := t.TempDir()
	l := &ledger{users: map[string]fate{}, members: map[string]fate{}}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	const rounds, writers = 4, 4
	start := time.Now()
	for r := range rounds {
		p := startSimProcess(t, dir)
		admin, err := dsm.NewClient(p.url, dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: durableAdminPW}), dsm.WithTimeout(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		if r == 0 {
			if _, err := admin.Groups.Create(ctx, dsm.GroupCreateRequest{Name: durableGroup}); err != nil {
				t.Fatal(err)
			}
		} else {
			checkDurable(t, ctx, admin, l, r)
		}

		wctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for k := range writers {
			c, err := dsm.NewClient(p.url, dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: durableAdminPW}), dsm.WithTimeout(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() { write(wctx, c, r, k, l) })
		}
		time.Sleep(time.Duration(200+rng.IntN(600)) * time.Millisecond)
		p.kill()
		cancel()
		wg.Wait()
	}
	p := startSimProcess(t, dir)
	admin, err := dsm.NewClient(p.url, dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: durableAdminPW}))
	if err != nil {
		t.Fatal(err)
	}
	n := checkDurable(t, t.Context(), admin, l, rounds)
	t.Logf("%d rounds, %d acknowledged users checked, in %v", rounds, n, time.Since(start).Round(time.Millisecond))
}

// checkDurable compares the restarted simulator with the ledger and checks
// the state's own consistency; it returns how many users it checked.
func checkDurable(t *testing.T, ctx context.Context, c *dsm.Client, l *ledger, round int) int {
	t.Helper()
	users, _, err := c.Users.List(ctx, dsm.ListOptions{})
	if err != nil {
		t.Fatalf("round %d: list after restart: %v", round, err)
	}
	members, err := c.Groups.Members(ctx, durableGroup)
	if err != nil {
		t.Fatalf("round %d: members after restart: %v", round, err)
	}
	// Every user is in the group users; its members carry the uids.
	everyone, err := c.Groups.Members(ctx, "users")
	if err != nil {
		t.Fatalf("round %d: members of users after restart: %v", round, err)
	}
	got := map[string]dsm.User{}
	for _, u := range users {
		got[u.Name] = u
	}
	uids := map[int]string{}
	inUsers := map[string]bool{}
	for _, m := range everyone {
		inUsers[m.Name] = true
		if other, dup := uids[m.UID]; dup {
			t.Errorf("round %d: uid %d belongs to %s and %s", round, m.UID, other, m.Name)
		}
		uids[m.UID] = m.Name
		if _, ok := got[m.Name]; !ok {
			t.Errorf("round %d: %s is a member of users but no user", round, m.Name)
		}
	}
	for name := range got {
		if !inUsers[name] {
			t.Errorf("round %d: user %s is not in the group users", round, name)
		}
	}
	inGroup := map[string]bool{}
	for _, m := range members {
		inGroup[m.Name] = true
		if _, ok := got[m.Name]; !ok {
			t.Errorf("round %d: %s is a member of %s but no user", round, m.Name, durableGroup)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	checked := 0
	for name, f := range l.users {
		_, exists := got[name]
		switch {
		case f == present && !exists:
			t.Errorf("round %d: user %s was acknowledged but is gone after the kill", round, name)
		case f == absent && exists:
			t.Errorf("round %d: user %s was deleted (acknowledged) but is back after the kill", round, name)
		}
		if f != unknown {
			checked++
		}
		// What is now on disk is what the next round builds on.
		if f == unknown {
			if exists {
				l.users[name] = present
			} else {
				l.users[name] = absent
			}
		}
	}
	for name, f := range l.members {
		switch {
		case f == present && l.users[name] == present && !inGroup[name]:
			t.Errorf("round %d: %s joined %s (acknowledged) but is no member after the kill", round, name, durableGroup)
		case f == unknown:
			if inGroup[name] {
				l.members[name] = present
			} else {
				l.members[name] = absent
			}
		}
	}
	if len(users) < 2 {
		t.Errorf("round %d: only %d users", round, len(users))
	}
	return checked
}

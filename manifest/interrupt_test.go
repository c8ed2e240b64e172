package manifest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// The child process of TestInterruptedApplyConverges: it applies the file
// of $MANIFEST_CHILD_FILE to the simulator at $MANIFEST_CHILD_URL, as
// dsmctl apply does, until it is killed.
func TestMain(m *testing.M) {
	if file := os.Getenv("MANIFEST_CHILD_FILE"); file != "" {
		if err := childApply(file); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func childApply(file string) error {
	ctx := context.Background()
	c, err := dsm.NewClient(os.Getenv("MANIFEST_CHILD_URL"), dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: os.Getenv("MANIFEST_CHILD_ADMIN")}))
	if err != nil {
		return err
	}
	f, err := Load(file)
	if err != nil {
		return err
	}
	plan, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		return err
	}
	pw, err := os.OpenFile(os.Getenv("MANIFEST_CHILD_PASSWORDS"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, err = plan.Apply(ctx, c, ApplyOptions{Parallel: 4, RecordPassword: func(user, password string) error {
		if _, err := fmt.Fprintf(pw, "%s\t%s\n", user, password); err != nil {
			return err
		}
		return pw.Sync()
	}})
	return err
}

// TestInterruptedApplyConverges kills an apply (SIGKILL, in a child
// process) at random moments, applies again, and checks that the NAS then
// matches the file: every user once, in all its groups, with a working
// first password, and a plan that is empty.
func TestInterruptedApplyConverges(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	const users = 24
	var src strings.Builder
	src.WriteString("groups:\n  - name: team-a\n  - name: team-b\n  - name: staff\n    description: Changed\nusers:\n")
	for i := range users {
		groups := []string{"team-a", "staff"}
		if i%2 == 1 {
			groups = []string{"team-b"}
		}
		fmt.Fprintf(&src, "  - name: kid%02d\n    description: Kid %d\n    groups: [%s]\n    password: {generate: true}\n", i, i, strings.Join(groups, ", "))
	}
	// carol changes too: an update and a join on an existing user.
	src.WriteString("  - name: carol\n    email: carol@example.net\n    groups: [team-b]\n")
	dir := t.TempDir()
	file := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(file, []byte(src.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}

	for iter := range 3 {
		srv := startNAS(t, dsmtest.WithLatency(3*time.Millisecond), dsmtest.WithJoinDelay(60*time.Millisecond))
		passwords := filepath.Join(dir, fmt.Sprintf("passwords-%d.tsv", iter))
		kills := 1 + iter%2
		for k := range kills {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "MANIFEST_CHILD_FILE="+file, "MANIFEST_CHILD_URL="+srv.URL(),
				"MANIFEST_CHILD_ADMIN="+srv.AdminPassword(), "MANIFEST_CHILD_PASSWORDS="+passwords)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			after := time.Duration(50+rand.IntN(900)) * time.Millisecond
			time.Sleep(after)
			cmd.Process.Kill() // SIGKILL
			err := cmd.Wait()
			t.Logf("iteration %d, kill %d after %v: %v %s", iter, k, after, err, stderr.String())
		}

		// Apply again, to the end (in this process), and compare.
		c := srv.Client()
		ctx := t.Context()
		plan, err := f.Plan(ctx, c, PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("iteration %d: %d changes left after the kills", iter, len(plan.Users)+len(plan.Groups))
		pf, err := os.OpenFile(passwords, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		res, err := plan.Apply(ctx, c, ApplyOptions{RecordPassword: func(user, pw string) error {
			_, err := fmt.Fprintf(pf, "%s\t%s\n", user, pw)
			return err
		}})
		pf.Close()
		if err != nil || !res.OK() {
			t.Fatalf("iteration %d: apply after the kills: %v %+v", iter, err, res.Failures)
		}
		again, err := f.Plan(ctx, c, PlanOptions{})
		if err != nil || !again.Empty() {
			t.Fatalf("iteration %d: plan after apply: %v\n%s", iter, err, again)
		}

		// The NAS, read independently of the plan: each user once, in
		// exactly its groups.
		got := nasUsers(t, c)
		seen := map[string]int{}
		for name := range got {
			seen[strings.ToLower(name)]++
		}
		for _, u := range f.Users {
			if seen[strings.ToLower(u.Name)] != 1 {
				t.Errorf("iteration %d: user %s is on the NAS %d times", iter, u.Name, seen[strings.ToLower(u.Name)])
				continue
			}
			want := append(slices.Clone(u.Groups), "users")
			slices.Sort(want)
			if !slices.Equal(got[u.Name].Groups, want) {
				t.Errorf("iteration %d: user %s is in %v, want %v", iter, u.Name, got[u.Name].Groups, want)
			}
		}
		if got["carol"].Email != "carol@example.net" {
			t.Errorf("iteration %d: carol's email is %q", iter, got["carol"].Email)
		}

		// The last password recorded for each generated user works: none
		// was lost.
		last := lastPasswords(t, passwords)
		for _, name := range []string{"kid00", fmt.Sprintf("kid%02d", users-1), fmt.Sprintf("kid%02d", users/2)} {
			uc, _ := dsm.NewClient(srv.URL())
			if _, err := uc.Auth.Login(ctx, dsm.Credentials{Account: name, Password: last[name]}); err != nil {
				t.Errorf("iteration %d: login as %s with its recorded password: %v", iter, name, err)
			}
		}
		srv.Close()
	}
}

// lastPasswords reads a passwords file: the last line of each user wins.
func lastPasswords(t *testing.T, path string) map[string]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if name, pw, ok := strings.Cut(sc.Text(), "\t"); ok {
			out[name] = pw
		}
	}
	return out
}

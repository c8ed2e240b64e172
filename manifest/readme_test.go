package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEExample checks that the complete example of the README's
// "Users as code" section reads and plans.
func TestREADMEExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "## Users as code")
	if !ok {
		t.Fatal("README has no \"Users as code\" section")
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	if !ok {
		t.Fatal("the section has no YAML example")
	}
	block, _, _ = strings.Cut(block, "```")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secrets.yaml"), []byte("backup: Back-Up-Every-Night-7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(filepath.Join(dir, "users.yaml"), []byte(block))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Users) != 3 || len(f.Groups) != 2 || f.PasswordPolicy == nil || f.PasswordExpiry == nil {
		t.Fatalf("the example reads as %s", f)
	}
	srv := startNAS(t)
	c := srv.Client()
	setUpOwnTwoStep(t, srv, c) // its two_step_enforcement covers admin
	plan, err := f.Plan(t.Context(), c, PlanOptions{Getenv: env("ALICE_PW", "Looking-Glass-42")})
	if err != nil {
		t.Fatal(err)
	}
	if c, _, _ := plan.Counts(); c != 4 {
		t.Errorf("the example creates %d users and groups, want 4:\n%s", c, plan)
	}
}

package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteTable(t *testing.T) {
	t.Parallel()
	rows := [][]string{
		{"NAME", "DESCRIPTION", "EMAIL"},
		{"alice", "Alice Liddell", "alice@example.com"},
		{"李小龍", "功夫大師", "bruce@example.com"},
		{"zoë", "Zoë with a combining diaeresis: zoe\u0308", "-"},
	}
	tests := []struct {
		name  string
		width int
		want  string
	}{
		{"a pipe: whole values, aligned by display width", 0,
			"NAME    DESCRIPTION                          EMAIL\n" +
				"alice   Alice Liddell                        alice@example.com\n" +
				"李小龍  功夫大師                             bruce@example.com\n" +
				"zoë     Zoë with a combining diaeresis: zoe\u0308  -\n"},
		{"a terminal of 60 columns: the widest column cut", 60,
			"NAME    DESCRIPTION                        EMAIL\n" +
				"alice   Alice Liddell                      alice@example.com\n" +
				"李小龍  功夫大師                           bruce@example.com\n" +
				"zoë     Zoë with a combining diaeresis: …  -\n"},
		{"a narrow terminal: no column below the minimum", 20,
			"NAME    DESCRIP…  EMAIL\n" +
				"alice   Alice L…  alice@e…\n" +
				"李小龍  功夫大師  bruce@e…\n" +
				"zoë     Zoë wit…  -\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := writeTable(&b, rows, tt.width); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(strings.Split(tt.want, "\n"), strings.Split(b.String(), "\n")); d != "" {
				t.Errorf("table (-want +got):\n%s", d)
			}
			if tt.width > 0 {
				for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
					if w := displayWidth(line); w > max(tt.width, 3*minColumnWidth+2*columnGap) {
						t.Errorf("line %q is %d columns wide, over %d", line, w, tt.width)
					}
				}
			}
		})
	}
}

func TestOutputWidth(t *testing.T) {
	t.Parallel()
	if w := outputWidth(&bytes.Buffer{}); w != 0 {
		t.Errorf("a buffer has width %d, want 0 (no limit)", w)
	}
	if w := outputWidth(terminalOut{Writer: &bytes.Buffer{}, width: 72}); w != 72 {
		t.Errorf("a terminal of 72 columns has width %d", w)
	}
}

// On a terminal of 60 columns, user list fits it, cutting the widest
// column; piped, the same list keeps every value whole.
func TestUserListFitsTheTerminal(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "admin", "DSM_PASSWORD", srv.AdminPassword())
	long := "Head of the department of very long descriptions"
	e.mustRun(t, "user", "create", "kenji", "--generate-password", "--description", long, "--email", "kenji@example.com")
	e.outWidth = 60
	r := e.mustRun(t, "user", "list")
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		if w := displayWidth(line); w > 60 {
			t.Errorf("line of %d columns on a terminal of 60: %q", w, line)
		}
	}
	if !strings.Contains(r.stdout, ellipsis) || strings.Contains(r.stdout, long) {
		t.Errorf("on a terminal the long description is not cut:\n%s", r.stdout)
	}
	e.outWidth = 0
	if r := e.mustRun(t, "user", "list"); !strings.Contains(r.stdout, long) {
		t.Errorf("piped, the description is cut:\n%s", r.stdout)
	}
}

package sim

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
)

// TestFailedWriteIsLogged removes the data directory under a running
// simulator: a change then cannot be written, is answered 100 and undone,
// and the cause goes to Config.Logger.
func TestFailedWriteIsLogged(t *testing.T) {
	dir := t.TempDir()
	var logged bytes.Buffer
	s := newServer(t, Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	login := s.mustLogin(t, "admin", adminPW)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	a := s.callKV(t, login, "SYNO.Core.User", "create", "name", "carol", "password", strongPW)
	if a.code() != codeUnknown {
		t.Errorf("create with the data directory gone: code %d, want %d", a.code(), codeUnknown)
	}
	if s.st.userByName("carol") != nil {
		t.Error("the change that was not saved is still in memory")
	}
	line := logged.String()
	t.Logf("logged: %s", line)
	if !strings.Contains(line, "not saved") || !strings.Contains(line, "SYNO.Core.User") || !strings.Contains(line, dir) {
		t.Errorf("log %q does not say which change was not saved and why", line)
	}
	if strings.Contains(line, strongPW) || strings.Contains(line, login.SID) {
		t.Error("the log holds a secret")
	}
}

package sim

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestFailedWriteIsLogged makes the disk refuse a change's write (as a
// full volume does): the change is answered 100 and undone, and the cause
// goes to Config.Logger.
func TestFailedWriteIsLogged(t *testing.T) {
	dir := t.TempDir()
	var logged bytes.Buffer
	s := newServer(t, Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	login := s.mustLogin(t, "admin", adminPW)
	s.disk.failWrite = func() error { return errors.New("write state.db: no space left on device") }
	a := s.callKV(t, login, "SYNO.Core.User", "create", "name", "carol", "password", strongPW)
	if a.code() != codeUnknown {
		t.Errorf("create with the data directory gone: code %d, want %d", a.code(), codeUnknown)
	}
	if s.st.userByName("carol") != nil {
		t.Error("the change that was not saved is still in memory")
	}
	line := logged.String()
	t.Logf("logged: %s", line)
	if !strings.Contains(line, "not saved") || !strings.Contains(line, "SYNO.Core.User") || !strings.Contains(line, "no space left on device") {
		t.Errorf("log %q does not say which change was not saved and why", line)
	}
	if strings.Contains(line, strongPW) || strings.Contains(line, login.SID) {
		t.Error("the log holds a secret")
	}
}

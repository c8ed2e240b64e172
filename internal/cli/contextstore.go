package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dsmkit/dsm"
)

// The formats of sessions.json and contexts.json this dsmctl writes. A
// sessions.json without a version is the format of before contexts (one
// session per URL, the latest login in logins.json): it is read and
// converted, never lost. A newer version is refused: it was written by a
// newer dsmctl, and rewriting it could drop what it added.
const (
	sessionsVersion = 1
	contextsVersion = 1
)

// savedContexts is the content of contexts.json. It holds no secret.
type savedContexts struct {
	Version int `json:"version"`
	// Current is the name of the context commands use when neither
	// --context, DSM_CONTEXT, --url, DSM_URL, --user nor DSM_USER says
	// otherwise: the latest login, or "dsmctl context use".
	Current  string         `json:"current,omitempty"`
	Contexts []savedContext `json:"contexts"`
}

// savedContext is a context: a name for an account on a DSM. Its session
// is the one saved for that URL and account, its device token the one of
// devices.json, its certificate the one trusted for the URL.
type savedContext struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	Account string `json:"account"`
}

// logins is what the config directory says about logins: the contexts
// and the sessions, read together, changed, and saved with save.
type logins struct {
	contexts savedContexts
	sessions savedSessions
	// dirty says which file save writes; legacy that logins.json goes.
	contextsDirty, sessionsDirty, legacy bool
}

// legacySessions is sessions.json as dsmctl wrote it before contexts.
type legacySessions struct {
	Current  string                 `json:"current"`
	Sessions map[string]dsm.Session `json:"sessions"`
}

// legacyLogins is logins.json, written before contexts: the latest
// login, and the account of the latest login per URL.
type legacyLogins struct {
	Latest   string            `json:"latest"`
	Accounts map[string]string `json:"accounts"`
}

// load reads the contexts and the sessions. A config directory written
// before contexts is converted here: each URL of the old sessions.json
// and logins.json becomes a context (named as login names one), its
// session kept, the latest login the current context; the new files are
// written at once (sessions first) and only then is logins.json removed,
// so a crash at any point loses no session.
func (st store) load() (*logins, error) {
	l := &logins{}
	var raw struct {
		Version  int                     `json:"version"`
		Sessions json.RawMessage         `json:"sessions"`
		APIs     map[string]dsm.APITable `json:"apis"`
	}
	if err := st.read(sessionsFile, &raw); err != nil {
		return nil, err
	}
	var legacy legacySessions
	switch {
	case raw.Version > sessionsVersion:
		return nil, fmt.Errorf("%s has format version %d, newer than this dsmctl knows (%d): use a newer dsmctl", filepath.Join(st.dir, sessionsFile), raw.Version, sessionsVersion)
	case raw.Version == 0 && raw.Sessions != nil:
		if err := st.read(sessionsFile, &legacy); err != nil {
			return nil, err
		}
		for u, sess := range legacy.Sessions {
			l.sessions.Sessions = append(l.sessions.Sessions, savedSession{URL: u, Session: sess})
		}
		l.sortSessions()
		l.sessionsDirty = true
	case raw.Version > 0:
		if err := json.Unmarshal(raw.Sessions, &l.sessions.Sessions); err != nil {
			return nil, fmt.Errorf("%s is not valid: %v; remove it and log in again", filepath.Join(st.dir, sessionsFile), err)
		}
		l.sessions.APIs = raw.APIs
	}
	l.sessions.Version = sessionsVersion

	if err := st.read(contextsFile, &l.contexts); err != nil {
		return nil, err
	}
	if l.contexts.Version > contextsVersion {
		return nil, fmt.Errorf("%s has format version %d, newer than this dsmctl knows (%d): use a newer dsmctl", filepath.Join(st.dir, contextsFile), l.contexts.Version, contextsVersion)
	}
	var old legacyLogins
	if err := st.read(loginsFile, &old); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(filepath.Join(st.dir, loginsFile)); err == nil {
		l.legacy = true
	}
	if l.contexts.Version == 0 && (l.legacy || len(l.sessions.Sessions) > 0) {
		l.convert(legacy.Current, old)
	}
	l.contexts.Version = contextsVersion
	if l.sessionsDirty || l.contextsDirty || l.legacy {
		// Converted: saved at once, whatever the command does next.
		if err := st.save(l); err != nil {
			return nil, fmt.Errorf("converting the config directory to contexts: %w", err)
		}
	}
	return l, nil
}

// convert makes the contexts of a config directory written before
// contexts: one per URL and account that logins.json or sessions.json
// names, the current one that of the latest login.
func (l *logins) convert(current string, old legacyLogins) {
	type login struct{ url, account string }
	var found []login
	add := func(u, account string) {
		if u == "" || account == "" || slices.ContainsFunc(found, func(f login) bool { return f.url == u && strings.EqualFold(f.account, account) }) {
			return
		}
		found = append(found, login{u, account})
	}
	for _, s := range l.sessions.Sessions {
		add(s.URL, s.Session.Account)
	}
	for u, account := range old.Accounts {
		add(u, account)
	}
	slices.SortFunc(found, func(a, b login) int { return strings.Compare(a.url+" "+a.account, b.url+" "+b.account) })
	for _, f := range found {
		l.contexts.Contexts = append(l.contexts.Contexts, savedContext{Name: l.newName(f.url, f.account), URL: f.url, Account: f.account})
	}
	if current == "" {
		current = old.Latest
	}
	if current != "" {
		account := old.Accounts[current]
		if s := l.sessionAt(current, ""); s != nil {
			account = s.Session.Account
		}
		if c := l.contextOf(current, account); c != nil {
			l.contexts.Current = c.Name
		}
	}
	l.contextsDirty = true
}

// save writes what changed: sessions.json (removed when no session is
// left), then contexts.json (removed when no context is left), then
// removes logins.json once converted.
func (st store) save(l *logins) error {
	if l.sessionsDirty {
		if len(l.sessions.Sessions) == 0 {
			if err := st.remove(sessionsFile); err != nil {
				return err
			}
		} else if err := st.write(sessionsFile, l.sessions); err != nil {
			return err
		}
	}
	if l.contextsDirty {
		if len(l.contexts.Contexts) == 0 {
			if err := st.remove(contextsFile); err != nil {
				return err
			}
		} else if err := st.write(contextsFile, l.contexts); err != nil {
			return err
		}
	}
	if l.legacy {
		if err := st.remove(loginsFile); err != nil {
			return err
		}
	}
	l.sessionsDirty, l.contextsDirty, l.legacy = false, false, false
	return nil
}

// remove removes the file name of the config directory; a missing file
// is fine.
func (st store) remove(name string) error {
	err := os.Remove(filepath.Join(st.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (l *logins) sortSessions() {
	slices.SortFunc(l.sessions.Sessions, func(a, b savedSession) int {
		return strings.Compare(a.URL+" "+strings.ToLower(a.Session.Account), b.URL+" "+strings.ToLower(b.Session.Account))
	})
}

// sessionAt returns the session saved for account on u (any account
// when account is ""), or nil. DSM account names are case-insensitive.
func (l *logins) sessionAt(u, account string) *savedSession {
	for i, s := range l.sessions.Sessions {
		if s.URL == u && (account == "" || strings.EqualFold(s.Session.Account, account)) {
			return &l.sessions.Sessions[i]
		}
	}
	return nil
}

// putSession saves sess as the session of its account on u, replacing
// the one saved before.
func (l *logins) putSession(u string, sess dsm.Session) {
	l.sessionsDirty = true
	if s := l.sessionAt(u, sess.Account); s != nil {
		*s = savedSession{URL: u, Session: sess}
		return
	}
	l.sessions.Sessions = append(l.sessions.Sessions, savedSession{URL: u, Session: sess})
	l.sortSessions()
}

// dropSession forgets the session of account on u.
func (l *logins) dropSession(u, account string) {
	n := len(l.sessions.Sessions)
	l.sessions.Sessions = slices.DeleteFunc(l.sessions.Sessions, func(s savedSession) bool {
		return s.URL == u && strings.EqualFold(s.Session.Account, account)
	})
	if len(l.sessions.Sessions) != n {
		l.sessionsDirty = true
	}
}

// context returns the context named name, or nil.
func (l *logins) context(name string) *savedContext {
	for i, c := range l.contexts.Contexts {
		if c.Name == name {
			return &l.contexts.Contexts[i]
		}
	}
	return nil
}

// contextOf returns the context of account on u, or nil.
func (l *logins) contextOf(u, account string) *savedContext {
	for i, c := range l.contexts.Contexts {
		if c.URL == u && strings.EqualFold(c.Account, account) {
			return &l.contexts.Contexts[i]
		}
	}
	return nil
}

// contextsAt returns the contexts on u.
func (l *logins) contextsAt(u string) []savedContext {
	var out []savedContext
	for _, c := range l.contexts.Contexts {
		if c.URL == u {
			out = append(out, c)
		}
	}
	return out
}

// current returns the current context, or nil.
func (l *logins) current() *savedContext { return l.context(l.contexts.Current) }

// putContext adds c, or replaces the context of the same name, and sorts
// the contexts by name.
func (l *logins) putContext(c savedContext) {
	l.contextsDirty = true
	if old := l.context(c.Name); old != nil {
		*old = c
		return
	}
	l.contexts.Contexts = append(l.contexts.Contexts, c)
	slices.SortFunc(l.contexts.Contexts, func(a, b savedContext) int { return strings.Compare(a.Name, b.Name) })
}

// dropContext removes the context named name.
func (l *logins) dropContext(name string) {
	l.contextsDirty = true
	l.contexts.Contexts = slices.DeleteFunc(l.contexts.Contexts, func(c savedContext) bool { return c.Name == name })
	if l.contexts.Current == name {
		l.contexts.Current = ""
	}
}

// setCurrent makes the context named name the current one.
func (l *logins) setCurrent(name string) {
	if l.contexts.Current != name {
		l.contexts.Current = name
		l.contextsDirty = true
	}
}

// newName returns the name login gives a new context of account on u:
// account@host[:port] as the URL writes its host, with a number added
// when another context already has that name.
func (l *logins) newName(u, account string) string {
	base := account
	if pu, err := url.Parse(u); err == nil && pu.Host != "" {
		base = account + "@" + pu.Host
	}
	name := base
	for i := 2; l.context(name) != nil; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	return name
}

// maxContextName bounds the length of a context name.
const maxContextName = 128

// validateContextName refuses a name that a shell or a table would make
// hard to use: empty, too long, with a space or a control character, or
// starting with "-" (it would read as a flag).
func validateContextName(name string) error {
	switch {
	case name == "":
		return usagef("empty context name")
	case len(name) > maxContextName:
		return usagef("context name %.20q... is longer than %d bytes", name, maxContextName)
	case strings.HasPrefix(name, "-"):
		return usagef("context name %q starts with \"-\": it would read as a flag; choose another", name)
	}
	for _, r := range name {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return usagef("context name %q has a space or a control character; use letters, digits and punctuation such as @ . : - _", name)
		}
	}
	return nil
}

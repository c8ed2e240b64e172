package cli

import (
	"github.com/dsmkit/dsm"
)

// saveTestLogin saves sess for url as login does: in its context, made
// current.
func saveTestLogin(st store, url string, sess dsm.Session) error {
	_, err := saveLogin(st, "", url, sess)
	return err
}

// currentSession returns the URL and the saved session of the current
// context.
func currentSession(st store) (string, dsm.Session, bool, error) {
	l, err := st.load()
	if err != nil {
		return "", dsm.Session{}, false, err
	}
	c := l.current()
	if c == nil {
		return "", dsm.Session{}, false, nil
	}
	s := l.sessionAt(c.URL, c.Account)
	if s == nil {
		return c.URL, dsm.Session{}, false, nil
	}
	return c.URL, s.Session, true, nil
}

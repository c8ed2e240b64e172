package sim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Common error codes, as Synology's DSM Login Web API Guide lists them
// (N4S4/synology-api synology_api/error_codes.py copies its table), and
// 120, invalid parameter, as mib1185/py-synologydsm-api
// src/synology_dsm/const.py (ERROR_COMMON) lists it.
const (
	codeUnknown           = 100
	codeBadRequest        = 101
	codeNoSuchAPI         = 102
	codeNoSuchMethod      = 103
	codeBadVersion        = 104
	codePermission        = 105
	codeMissingParameters = 114
	codeInvalidSession    = 119
	codeInvalidParameter  = 120
	codeBadSynoToken      = 403 // DSM 7.3.2 on a mutating call without the SynoToken
)

// apiError is a DSM error answer: {"success":false,"error":{"code":N,"errors":...}}.
type apiError struct {
	code    int
	details any // the "errors" member, nil for none
}

func (e *apiError) Error() string { return "dsm error " + strconv.Itoa(e.code) }

func fail(code int) error { return &apiError{code: code} }

// request is one API call being served.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	params  url.Values
	api     *apiDef
	method  string
	version int
	now     time.Time
	addr    string   // client address (auto-block)
	sess    *session // nil unless the method needs a session
	user    *user    // the session's user
}

// str returns parameter name. For APIs whose requestFormat is JSON, a
// value that is a JSON string is unquoted ("alice" and alice both give
// alice); any other value is taken as written.
func (q *request) str(name string) string {
	v := q.params.Get(name)
	if q.api != nil && q.api.jsonFormat && strings.HasPrefix(v, `"`) {
		var s string
		if json.Unmarshal([]byte(v), &s) == nil {
			return s
		}
	}
	return v
}

// has reports whether parameter name was sent.
func (q *request) has(name string) bool { _, ok := q.params[name]; return ok }

// yes reports whether a flag parameter is on ("yes" or "true").
func (q *request) yes(name string) bool {
	switch strings.ToLower(q.str(name)) {
	case "yes", "true", "1":
		return true
	}
	return false
}

// legacyCGI names the API each legacy CGI serves; entry.cgi serves all.
var legacyCGI = map[string]string{
	"query.cgi":      "SYNO.API.Info",
	"auth.cgi":       "SYNO.API.Auth",
	"encryption.cgi": "SYNO.API.Encryption",
}

// route splits a request path into its CGI and the API name of a
// path-suffixed call (/webapi/entry.cgi/SYNO.API.Auth).
func route(path string) (cgi, suffix string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/webapi/")
	if !ok {
		return "", "", false
	}
	cgi, suffix, _ = strings.Cut(rest, "/")
	if cgi == "entry.cgi" {
		return cgi, suffix, !strings.Contains(suffix, "/")
	}
	if _, legacy := legacyCGI[cgi]; legacy && suffix == "" {
		return cgi, "", true
	}
	return "", "", false
}

// ServeHTTP serves /webapi/entry.cgi (also entry.cgi/<API>), query.cgi,
// auth.cgi and encryption.cgi over GET and POST. API errors are HTTP 200
// envelopes, as on DSM; paths outside /webapi get 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		s.serveControl(w, r)
		return
	}
	cgi, suffix, ok := route(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.latency > 0 {
		t := time.NewTimer(s.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	start := time.Now()
	data, err := s.serve(w, r, cgi, suffix)
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		// The call's names and outcome only: never a parameter.
		code := 0
		if ae, ok := err.(*apiError); ok {
			code = ae.code
		}
		s.log.Debug("sim call", "api", logName(r.Form.Get("api")), "method", logName(r.Form.Get("method")),
			"code", code, "duration", time.Since(start))
	}
	if fa, ok := err.(*faultAction); ok {
		serveFault(w, fa)
		return
	}
	writeEnvelope(w, data, err)
}

// logName bounds a name a client sent, and escapes what is not
// printable in it, before it goes into a log line.
func logName(s string) string {
	const max = 64
	cut := ""
	if len(s) > max {
		s, cut = s[:max], "..."
	}
	q := strconv.Quote(s)
	return q[1:len(q)-1] + cut
}

// envelope is DSM's answer wrapper.
type envelope struct {
	Success bool       `json:"success"`
	Data    any        `json:"data,omitempty"`
	Error   *errorBody `json:"error,omitempty"`
}

type errorBody struct {
	Code   int `json:"code"`
	Errors any `json:"errors,omitempty"`
}

func writeEnvelope(w http.ResponseWriter, data any, err error) {
	env := envelope{Success: err == nil, Data: data}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{code: codeUnknown}
		}
		env = envelope{Error: &errorBody{Code: ae.code, Errors: ae.details}}
	}
	body, merr := json.Marshal(env)
	if merr != nil {
		body = []byte(`{"success":false,"error":{"code":100}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// serve parses and dispatches one call. It never panics: a panic in a
// handler becomes code 100.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, cgi, suffix string) (data any, err error) {
	defer func() {
		if p := recover(); p != nil {
			data, err = nil, fail(codeUnknown)
		}
	}()
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		// An upload (SYNO.Core.User parse_user_list, userimport.go): the
		// file's bound and the form's, all kept in memory.
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody+maxImportFileBytes)
		if err := r.ParseMultipartForm(s.maxBody + maxImportFileBytes); err != nil {
			return nil, fail(codeBadRequest)
		}
		defer r.MultipartForm.RemoveAll()
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
	}
	if err := r.ParseForm(); err != nil {
		return nil, fail(codeBadRequest)
	}
	params := r.Form // body values first, then the query string

	token, sealed, err := s.openEnvelope(r, params)
	if err != nil {
		return nil, err
	}

	q := &request{w: w, r: r, params: params, addr: clientAddr(r.RemoteAddr)}
	apiName := params.Get("api")
	if apiName == "" {
		apiName = suffix
	}
	if apiName == "" {
		return nil, fail(codeBadRequest)
	}
	api := apiTable[apiName]
	if api == nil || s.absent[apiName] {
		return nil, fail(codeNoSuchAPI)
	}
	if only, legacy := legacyCGI[cgi]; legacy && only != apiName {
		return nil, fail(codeNoSuchAPI)
	}
	q.api = api
	q.method = q.str("method")
	vs := q.str("version")
	if q.method == "" || vs == "" {
		return nil, fail(codeBadRequest)
	}
	q.version, err = strconv.Atoi(vs)
	if err != nil || q.version < api.minVersion || q.version > api.maxVersion {
		return nil, fail(codeBadVersion)
	}
	m, ok := api.methods[q.method]
	if !ok {
		return nil, fail(codeNoSuchMethod)
	}
	if m.minVersion != 0 && (q.version < m.minVersion || q.version > m.maxVersion) {
		return nil, fail(codeBadVersion)
	}
	act, err := s.injectFault(r, apiName, q.method)
	if err != nil {
		return nil, err
	}
	if act != nil {
		// The call is applied (and committed) first; then the fault
		// damages its answer.
		defer func() { data, err = nil, &faultAction{fault: act, data: data, err: err} }()
	}

	// Every change is on disk before it is answered; a change that
	// cannot be written is undone and answered 100. The write is waited
	// for after s.mu is released, so reads never wait for the disk.
	var written *pendingWrite
	defer func() {
		if werr := s.awaitDurable(written); werr != nil {
			// What DSM answers when its volume is full or read-only is
			// not known from any capture: 100 (unknown error) is a
			// choice. The cause goes to the log, not to the client.
			s.log.Error("sim: a change was not saved and is undone", "api", apiName, "method", q.method, "err", werr)
			data, err = nil, fail(codeUnknown)
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	q.now = s.clock.Now()
	s.settle(q.now)
	s.sweepSessions(q.now)
	defer func() {
		if s.dirty {
			written = s.commit()
		} else {
			s.st.untouch()
		}
	}()
	if sealed {
		if err := s.checkCipherToken(token, q.now); err != nil {
			return nil, err
		}
	}
	if m.session {
		if err := s.authorize(q, m); err != nil {
			return nil, err
		}
	}
	return m.handle(s, q)
}

// sidOf returns the session id of a call: parameter _sid, else cookie id.
func sidOf(q *request) string {
	if sid := q.params.Get("_sid"); sid != "" {
		return sid
	}
	if c, err := q.r.Cookie("id"); err == nil {
		return c.Value
	}
	return ""
}

// lookupSession returns the live session sid names, dropping it when it
// has been idle too long. Call with s.mu held.
func (s *Server) lookupSession(sid string, now time.Time) *session {
	sess := s.sessions[sid]
	if sess == nil {
		return nil
	}
	if now.Sub(sess.lastUsed) > s.idle {
		delete(s.sessions, sid)
		return nil
	}
	return sess
}

// authorize checks the session (119), the X-SYNO-HASH of a handshake
// session (Config.HashErrorCode), the SynoToken of a mutating call (403),
// a limited session's changes (105) and admin rights (105). Call with
// s.mu held.
func (s *Server) authorize(q *request, m *methodDef) error {
	sess := s.lookupSession(sidOf(q), q.now)
	if sess == nil {
		return fail(codeInvalidSession)
	}
	u := s.st.userByUID(sess.uid)
	if u == nil {
		delete(s.sessions, sess.sid)
		return fail(codeInvalidSession)
	}
	// A call refused for its hash does not count as use of the session.
	if err := s.checkSynoHash(q, sess); err != nil {
		return err
	}
	sess.lastUsed = q.now
	return s.permit(q, m, sess, u)
}

// permit checks what authorize checks once the session is known: the
// SynoToken of a mutating call (403), a limited session's changes (105)
// and admin rights (105). The calls of a compound request (compound.go)
// are checked here, with the session of the request that carries them.
// Call with s.mu held.
func (s *Server) permit(q *request, m *methodDef, sess *session, u *user) error {
	if m.mutates && sess.synoToken != "" {
		tok := q.r.Header.Get("X-SYNO-TOKEN")
		if tok == "" {
			tok = q.params.Get("SynoToken")
		}
		if subtle.ConstantTimeCompare([]byte(tok), []byte(sess.synoToken)) != 1 {
			return fail(codeBadSynoToken)
		}
	}
	// From a public address, a session without the
	// handshake lists users but User create answers 105
	// (N4S4/synology-api issue #239, fixed by PR #282).
	if m.change && sess.limited {
		return fail(codePermission)
	}
	if m.admin && !s.st.isAdmin(u) {
		return fail(codePermission)
	}
	if m.admin && m.mutates && sess.authVersion == 6 && s.release.limitedV6 {
		// A version 6 session reads users and groups but cannot change
		// them (release.limitedV6, math65/dsmaccess on DSM 7.4). The admin writes are
		// the SYNO.Core.User and SYNO.Core.Group families; that the
		// password policy and expiry writes are refused too is a guess.
		return fail(codePermission)
	}
	q.sess, q.user = sess, u
	return nil
}

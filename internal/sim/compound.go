package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
)

// entryRequest answers SYNO.Entry.Request request {compound, mode,
// stop_when_error}: the calls of compound, a JSON list of objects of
// api, method, version and the call's parameters beside them, made one
// after the other with the session of the request, which carries one
// X-SYNO-HASH and one SynoToken for all (DSM 7's web UI library builds it
// so; clients on real NAS boxes send it: see the client's compound.go).
// The answer is {has_fail, result: [{api, method, version, success, data
// | error}]} (N4S4/synology-api documentation of compound answers).
//
// Choices where the sources are silent: a failed call's result has error
// {code, errors} as a plain answer does; stop_when_error true ends the
// list after the first failure, the calls after it have no result; mode
// "parallel" runs the calls in order too; a compound list that is not
// JSON, has more than maxCompoundCalls calls, nests SYNO.Entry.Request or
// holds a call that needs no session (login, discovery) is 120 as a
// whole; each call is checked for its own rights (105), its SynoToken
// (403) and a limited session (105) as a call of its own would be.
func (s *Server) entryRequest(q *request) (any, error) {
	stop, err := q.boolean("stop_when_error", false, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	switch q.str("mode") {
	case "", "sequential", "parallel":
	default:
		return nil, fail(codeInvalidParameter)
	}
	var calls []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(q.params.Get("compound")), &calls); err != nil || len(calls) == 0 || len(calls) > maxCompoundCalls {
		return nil, fail(codeInvalidParameter)
	}
	subs := make([]*request, len(calls))
	for i, c := range calls {
		sub, err := subRequest(q, c)
		if err != nil {
			return nil, err
		}
		subs[i] = sub
	}
	results := []map[string]any{}
	hasFail := false
	for _, sub := range subs {
		data, err := s.runSub(q, sub)
		res := map[string]any{"api": sub.api.name, "method": sub.method, "version": sub.version, "success": err == nil}
		if err != nil {
			hasFail = true
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = &apiError{code: codeUnknown}
			}
			eb := map[string]any{"code": ae.code}
			if ae.details != nil {
				eb["errors"] = ae.details
			}
			res["error"] = eb
		} else if data != nil {
			res["data"] = data
		}
		results = append(results, res)
		if err != nil && stop {
			break
		}
	}
	return map[string]any{"has_fail": hasFail, "result": results}, nil
}

// subRequest makes one call of a compound list a request of its own:
// strings of the JSON object become parameter values as a form would
// carry them JSON-encoded, other values their JSON text, so each handler
// reads them as it reads a form. An unknown API, method or version is
// left for runSub to answer in the call's result.
func subRequest(q *request, c map[string]json.RawMessage) (*request, error) {
	var api, method string
	if json.Unmarshal(c["api"], &api) != nil || json.Unmarshal(c["method"], &method) != nil || api == "" || method == "" {
		return nil, fail(codeInvalidParameter)
	}
	version, err := jsonInt(c["version"])
	if err != nil {
		return nil, fail(codeInvalidParameter)
	}
	def := apiTable[api]
	if api == "SYNO.Entry.Request" {
		return nil, fail(codeInvalidParameter)
	}
	if def != nil {
		if m := def.methods[method]; m != nil && !m.session {
			return nil, fail(codeInvalidParameter)
		}
	}
	params := url.Values{}
	for k, v := range c {
		switch k {
		case "api", "method", "version":
			continue
		}
		params.Set(k, string(bytes.TrimSpace(v)))
	}
	sub := &request{w: q.w, r: q.r, params: params, method: method, version: version, now: q.now, addr: q.addr}
	if def == nil {
		sub.api = &apiDef{name: api}
	} else {
		sub.api = def
	}
	return sub, nil
}

// jsonInt reads a version: a JSON number or a string of one.
func jsonInt(raw json.RawMessage) (int, error) {
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return n, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}

// runSub checks and makes one call of a compound request. Call with
// s.mu held.
func (s *Server) runSub(q *request, sub *request) (any, error) {
	if sub.api.methods == nil || s.absent[sub.api.name] {
		return nil, fail(codeNoSuchAPI)
	}
	if sub.version < sub.api.minVersion || sub.version > sub.api.maxVersion {
		return nil, fail(codeBadVersion)
	}
	m, ok := sub.api.methods[sub.method]
	if !ok {
		return nil, fail(codeNoSuchMethod)
	}
	if m.minVersion != 0 && (sub.version < m.minVersion || sub.version > m.maxVersion) {
		return nil, fail(codeBadVersion)
	}
	if err := s.permit(sub, m, q.sess, q.user); err != nil {
		return nil, err
	}
	return m.handle(s, sub)
}

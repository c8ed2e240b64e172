package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// controlPrefix is where the simulator's control endpoint lives, beside
// /webapi. It lets tests in any language drive the faults:
//
//	GET    /_sim/faults            the injected faults and their counts
//	POST   /_sim/faults            add faults: {"spec":"*:*:reset:p=0.05"},
//	                               {"api":..,"method":..,"kind":"code","code":117,"times":2},
//	                               or a list of these (all or none are added)
//	DELETE /_sim/faults            remove every fault
//	POST   /_sim/sessions/expire   end every session now
//
// Answers are JSON: {"faults":[...]} or {"error":"..."} with HTTP 400,
// 404 or 405. Only loopback clients are served; others get 403.
const controlPrefix = "/_sim/"

// maxControlBody bounds a request to the control endpoint.
const maxControlBody = 64 << 10

// faultJSON is a fault on the control endpoint: either a spec or fields.
type faultJSON struct {
	Spec        string    `json:"spec,omitempty"`
	API         string    `json:"api,omitempty"`
	Method      string    `json:"method,omitempty"`
	Kind        FaultKind `json:"kind,omitempty"`
	Delay       string    `json:"delay,omitempty"`
	Code        int       `json:"code,omitempty"`
	Times       int       `json:"times,omitempty"`
	Probability float64   `json:"p,omitempty"`
	// Fired and Spent are only answered.
	Fired int  `json:"fired"`
	Spent bool `json:"spent"`
}

func (fj faultJSON) fault() (Fault, error) {
	if fj.Spec != "" {
		if fj.API != "" || fj.Method != "" || fj.Kind != 0 || fj.Delay != "" || fj.Code != 0 || fj.Times != 0 || fj.Probability != 0 {
			return Fault{}, errors.New("give either spec or the fields of a fault, not both")
		}
		return ParseFault(fj.Spec)
	}
	f := Fault{API: fj.API, Method: fj.Method, Kind: fj.Kind, Code: fj.Code, Times: fj.Times, Probability: fj.Probability}
	if fj.Delay != "" {
		d, err := time.ParseDuration(fj.Delay)
		if err != nil {
			return Fault{}, fmt.Errorf("delay %q: want a duration such as 50ms", fj.Delay)
		}
		f.Delay = d
	}
	if err := f.Validate(); err != nil {
		return Fault{}, fmt.Errorf("fault %s: %w", f, err)
	}
	return f, nil
}

func statusJSON(st FaultStatus) faultJSON {
	fj := faultJSON{Spec: st.String(), API: orStar(st.API), Method: orStar(st.Method), Kind: st.Kind,
		Code: st.Code, Times: st.Times, Probability: st.Probability, Fired: st.Fired, Spent: st.Spent}
	if st.Delay > 0 {
		fj.Delay = st.Delay.String()
	}
	return fj
}

// serveControl serves /_sim/...: faults and session expiry.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	if !isLoopback(r.RemoteAddr) {
		controlAnswer(w, http.StatusForbidden, map[string]string{"error": "the control endpoint serves loopback clients only"})
		return
	}
	switch r.URL.Path {
	case controlPrefix + "faults":
		switch r.Method {
		case http.MethodGet:
		case http.MethodPost:
			faults, err := readFaults(w, r)
			if err != nil {
				controlAnswer(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			for _, f := range faults {
				s.InjectFault(f) // validated by readFaults
			}
		case http.MethodDelete:
			s.ClearFaults()
		default:
			w.Header().Set("Allow", "GET, POST, DELETE")
			controlAnswer(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET, POST or DELETE"})
			return
		}
		list := []faultJSON{}
		for _, st := range s.Faults() {
			list = append(list, statusJSON(st))
		}
		controlAnswer(w, http.StatusOK, map[string]any{"faults": list})
	case controlPrefix + "sessions/expire":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			controlAnswer(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
			return
		}
		s.mu.Lock()
		n := len(s.sessions)
		clear(s.sessions)
		s.mu.Unlock()
		controlAnswer(w, http.StatusOK, map[string]int{"expired": n})
	default:
		controlAnswer(w, http.StatusNotFound, map[string]string{"error": "no such control endpoint; see /_sim/faults and /_sim/sessions/expire"})
	}
}

// readFaults reads a POST body: one fault object or a list of them. Every
// fault must be valid, or none is returned.
func readFaults(w http.ResponseWriter, r *http.Request) ([]Fault, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxControlBody))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	body = bytes.TrimSpace(body)
	var list []faultJSON
	if bytes.HasPrefix(body, []byte("[")) {
		err = strictJSON(body, &list)
	} else {
		var one faultJSON
		err = strictJSON(body, &one)
		list = []faultJSON{one}
	}
	if err != nil {
		return nil, fmt.Errorf(`want a fault {"spec":"API:METHOD:KIND"} or a list of them: %w`, err)
	}
	if len(list) == 0 {
		return nil, errors.New("an empty list of faults")
	}
	faults := make([]Fault, 0, len(list))
	for i, fj := range list {
		if fj.Fired != 0 || fj.Spent {
			return nil, fmt.Errorf("fault %d: fired and spent are answered, not set", i+1)
		}
		f, err := fj.fault()
		if err != nil {
			return nil, fmt.Errorf("fault %d: %w", i+1, err)
		}
		faults = append(faults, f)
	}
	return faults, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

func controlAnswer(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// isLoopback reports whether a request's remote address is a loopback
// address (127.0.0.0/8, ::1).
func isLoopback(remote string) bool {
	ip := net.ParseIP(clientAddr(remote))
	return ip != nil && ip.IsLoopback()
}

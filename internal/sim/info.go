package sim

import (
	"net/http"
	"strings"
)

// apiInfo is one entry of SYNO.API.Info query.
type apiInfo struct {
	Path          string `json:"path"`
	MinVersion    int    `json:"minVersion"`
	MaxVersion    int    `json:"maxVersion"`
	RequestFormat string `json:"requestFormat,omitempty"`
}

// infoQuery answers SYNO.API.Info query: query=all, or a comma list of
// names (unknown names are left out, as on DSM).
func (s *Server) infoQuery(q *request) (any, error) {
	query := strings.TrimSpace(q.str("query"))
	out := map[string]apiInfo{}
	add := func(d *apiDef) {
		if s.absent[d.name] {
			return
		}
		info := apiInfo{Path: d.path, MinVersion: d.minVersion, MaxVersion: d.maxVersion}
		if d.jsonFormat {
			info.RequestFormat = "JSON"
		}
		out[d.name] = info
	}
	if query == "" || query == "all" {
		for _, d := range apiTable {
			add(d)
		}
		return out, nil
	}
	for name := range strings.SplitSeq(query, ",") {
		name = strings.TrimSpace(name)
		if name == "all" {
			for _, d := range apiTable {
				add(d)
			}
			continue
		}
		if d := apiTable[name]; d != nil {
			add(d)
		}
	}
	return out, nil
}

// uiConfigGet answers SYNO.API.Auth.UIConfig get and sets cookie _SSID to
// the server's X25519 static public key (base64url, no padding), the
// first step of DSM 7's secure sign-in (see securesignin.go): the client writes
// Noise IK message 1 to that key and sends it with its login.
func (s *Server) uiConfigGet(q *request) (any, error) {
	http.SetCookie(q.w, &http.Cookie{Name: "_SSID", Value: s.ssid, Path: "/"})
	return struct{}{}, nil
}

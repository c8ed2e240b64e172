package sim

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"
)

// realDSMInfo is the real DSM 7.0 answer the client is also tested on.
const realDSMInfo = "../../testdata/real/dsm_info_getinfo.json"

// jsonKinds maps each member of a JSON object to its JSON kind.
func jsonKinds(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	out := map[string]string{}
	for k, v := range m {
		switch v.(type) {
		case string:
			out[k] = "string"
		case float64:
			out[k] = "number"
		case bool:
			out[k] = "bool"
		default:
			out[k] = "other"
		}
	}
	return out
}

func TestDSMInfoGetinfo(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: strongPW}}})
	s.Advance(90 * time.Minute)
	admin := s.mustLogin(t, "admin", adminPW)
	alice := s.mustLogin(t, "alice", strongPW)

	for name, d := range map[string]loginData{"admin": admin, "alice": alice} {
		a := s.do(t, authed(d, "api", "SYNO.DSM.Info", "method", "getinfo", "version", "2"))
		if !a.Success {
			t.Fatalf("%s: getinfo: %s", name, a.raw)
		}
		var got dsmInfo
		a.data(t, &got)
		if got.Model != "DS923+" || got.Serial == "" || got.RAM != 4096 || got.Codepage != "enu" || got.TemperatureWarn {
			t.Errorf("%s: getinfo %+v", name, got)
		}
		// 90 minutes on the simulator's clock, plus the real time the
		// test has taken so far (far below a minute).
		if got.Uptime < 5400 || got.Uptime > 5460 {
			t.Errorf("%s: uptime %d s, want 5400 s and a little", name, got.Uptime)
		}
		at, err := time.Parse(time.ANSIC, got.Time)
		if err != nil || s.Now().Sub(at) < 0 || s.Now().Sub(at) > time.Minute {
			t.Errorf("%s: time %q (%v), want the simulator's clock %s in asctime form", name, got.Time, err, s.Now().UTC().Format(time.ANSIC))
		}
		if got.Version != "90075" || got.VersionString != "DSM 7.4-90075" {
			t.Errorf("%s: version %q, %q", name, got.Version, got.VersionString)
		}
	}

	refusals := []struct {
		name string
		c    call
		code int
	}{
		{"no session", call{form: form("api", "SYNO.DSM.Info", "method", "getinfo", "version", "2")}, codeInvalidSession},
		{"version 1 (DSM 5)", authed(admin, "api", "SYNO.DSM.Info", "method", "getinfo", "version", "1"), codeBadVersion},
		{"no such method", authed(admin, "api", "SYNO.DSM.Info", "method", "get", "version", "2"), codeNoSuchMethod},
	}
	for _, tt := range refusals {
		if a := s.do(t, tt.c); a.code() != tt.code {
			t.Errorf("%s: code %d, want %d (%s)", tt.name, a.code(), tt.code, a.raw)
		}
	}
}

// TestDSMInfoShapeOfRealAnswer holds the simulator's answer to the real
// one: the same members with the same JSON kinds.
func TestDSMInfoShapeOfRealAnswer(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(realDSMInfo)
	if err != nil {
		t.Fatal(err)
	}
	var real struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &real); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{})
	a := s.do(t, authed(s.mustLogin(t, "admin", adminPW), "api", "SYNO.DSM.Info", "method", "getinfo", "version", "2"))
	if !a.Success {
		t.Fatal(a.raw)
	}
	want, got := jsonKinds(t, real.Data), jsonKinds(t, a.Data)
	for k, kind := range want {
		if got[k] != kind {
			t.Errorf("member %s: simulator sends %q, real DSM %q", k, got[k], kind)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("member %s: the real answer has no such member", k)
		}
	}
}

func TestDSMReleases(t *testing.T) {
	t.Parallel()
	versionString := regexp.MustCompile(`^DSM (\d+)\.(\d+)(?:\.\d+)?-(\d+)(?: Update \d+)?$`)
	for _, v := range []string{"7.2", "7.3", "7.4", ""} {
		r, err := releaseOf(v)
		if err != nil {
			t.Errorf("releaseOf(%q): %v", v, err)
			continue
		}
		m := versionString.FindStringSubmatch(r.versionString)
		want := v
		if want == "" {
			want = DefaultDSMVersion
		}
		if m == nil || m[1]+"."+m[2] != want || m[3] != strconv.Itoa(r.build) {
			t.Errorf("releaseOf(%q) = %+v: version_string is not of DSM %s with build %d", v, r, want, r.build)
		}
	}
	for _, bad := range []string{"7", "7.1", "6.2", "7.4.1", "latest"} {
		if _, err := releaseOf(bad); err == nil {
			t.Errorf("releaseOf(%q) succeeded", bad)
		}
	}
	keys := make([]string, 0, len(releases))
	for k := range releases {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"7.2", "7.3", "7.4"}) {
		t.Errorf("releases %v", keys)
	}
}

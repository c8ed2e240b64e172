package dsm

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// dsmInfo is where DSM 6 and 7 serve SYNO.DSM.Info (mib1185's API lists).
var dsmInfo = APIInfo{Path: "entry.cgi", MinVersion: 2, MaxVersion: 2, RequestFormat: "JSON"}

// TestSystemInfoRealAnswer decodes a real DSM 7.0 answer
// (testdata/real/dsm_info_getinfo.json, see the README there).
func TestSystemInfoRealAnswer(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/real/dsm_info_getinfo.json")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeDSM(t, func(*http.Request, url.Values) any { return body })
	f.info["SYNO.DSM.Info"] = dsmInfo
	got, err := f.client(t, WithSession(Session{SID: "s"})).System.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := SystemInfo{
		Model: "DS920+", Serial: "serial", VersionString: "DSM 7.0-41890",
		Version: DSMVersion{Major: 7, Minor: 0, Build: 41890}, RAM: 4096, Temperature: 43,
		Uptime: 886389 * time.Second, Codepage: "enu",
		Time: time.Date(2021, time.August, 7, 13, 4, 4, 0, time.UTC),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Info (-want +got):\n%s", d)
	}
	r := f.last("SYNO.DSM.Info")
	if r.path != "/webapi/entry.cgi" || r.form.Get("method") != "getinfo" || r.form.Get("version") != "2" || r.form.Get("_sid") != "s" {
		t.Errorf("request %s %v", r.path, r.form)
	}
}

func TestSystemInfoLooseAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		info APIInfo
		body string
		want SystemInfo
		path string
		ver  string
	}{{
		// mib1185/py-synologydsm-api tests/api_data/dsm_7/dsm/const_7_dsm_info.py:
		// a DSM 6 answer whose version_string was edited, so the two
		// version fields disagree; version_string wins.
		name: "mib1185 DSM 7 fixture",
		info: dsmInfo,
		body: `{"data":{"codepage":"fre","model":"DS918+","ram":4096,"serial":"1920PDN001501","temperature":40,"temperature_warn":false,
			"time":"Sun Mar 29 19:33:41 2020","uptime":155084,"version":"24922","version_string":"DSM 7.0-41222"},"success":true}`,
		want: SystemInfo{Model: "DS918+", Serial: "1920PDN001501", VersionString: "DSM 7.0-41222", Version: DSMVersion{7, 0, 0, 41222, 0},
			RAM: 4096, Temperature: 40, Uptime: 155084 * time.Second, Codepage: "fre", Time: time.Date(2020, 3, 29, 19, 33, 41, 0, time.UTC)},
		path: "/webapi/entry.cgi", ver: "2",
	}, {
		// DSM 5 (mib1185's dsm_5 fixture, DS3615xs): version 1 at
		// dsm/info.cgi, no temperature_warn.
		name: "DSM 5 version 1",
		info: APIInfo{Path: "dsm/info.cgi", MinVersion: 1, MaxVersion: 1},
		body: `{"data":{"codepage":"rus","model":"DS3615xs","ram":6144,"serial":"B3J4N01003","temperature":40,
			"time":"Sat Apr 25 20:21:57 2020","uptime":3897,"version":"5967","version_string":"DSM 5.2-5967 Update 9"},"success":true}`,
		want: SystemInfo{Model: "DS3615xs", Serial: "B3J4N01003", VersionString: "DSM 5.2-5967 Update 9", Version: DSMVersion{5, 2, 0, 5967, 9},
			RAM: 6144, Temperature: 40, Uptime: 3897 * time.Second, Codepage: "rus", Time: time.Date(2020, 4, 25, 20, 21, 57, 0, time.UTC)},
		path: "/webapi/dsm/info.cgi", ver: "1",
	}, {
		name: "numbers as strings, version as a number, no temperature",
		info: dsmInfo,
		body: `{"success":true,"data":{"model":"VirtualDSM","ram":"2048","uptime":"60","temperature_warn":"true",
			"version":69057,"version_string":"DSM 7.2.1-69057 Update 5","time":"2024-03-15 12:00:00"}}`,
		want: SystemInfo{Model: "VirtualDSM", VersionString: "DSM 7.2.1-69057 Update 5", Version: DSMVersion{7, 2, 1, 69057, 5},
			RAM: 2048, TemperatureWarning: true, Uptime: time.Minute, Time: time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)},
		path: "/webapi/entry.cgi", ver: "2",
	}, {
		name: "build only in version, fractional temperature, unknown time",
		info: dsmInfo,
		body: `{"success":true,"data":{"model":"DS923+","temperature":41.6,"version":"72806","version_string":"DSM 7.2.2","time":"yesterday"}}`,
		want: SystemInfo{Model: "DS923+", VersionString: "DSM 7.2.2", Version: DSMVersion{7, 2, 2, 72806, 0}, Temperature: 42},
		path: "/webapi/entry.cgi", ver: "2",
	}, {
		name: "whole version in version, none in version_string",
		info: dsmInfo,
		body: `{"success":true,"data":{"version":"7.2-64570"}}`,
		want: SystemInfo{Version: DSMVersion{7, 2, 0, 64570, 0}},
		path: "/webapi/entry.cgi", ver: "2",
	}, {
		name: "empty data",
		info: dsmInfo,
		body: `{"success":true}`,
		path: "/webapi/entry.cgi", ver: "2",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeDSM(t, func(*http.Request, url.Values) any { return []byte(tt.body) })
			f.info["SYNO.DSM.Info"] = tt.info
			got, err := f.client(t, WithSession(Session{SID: "s"})).System.Info(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Info (-want +got):\n%s", d)
			}
			if r := f.last("SYNO.DSM.Info"); r.path != tt.path || r.form.Get("version") != tt.ver {
				t.Errorf("sent to %s version %s, want %s version %s", r.path, r.form.Get("version"), tt.path, tt.ver)
			}
		})
	}
}

func TestSystemInfoErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		info   *APIInfo // nil: the server does not list SYNO.DSM.Info
		answer any
		want   error
	}{
		{"refused", &dsmInfo, fail(105), ErrPermissionDenied},
		{"not listed", nil, ok(nil), ErrUnsupported},
		{"version 3 only", &APIInfo{Path: "entry.cgi", MinVersion: 3, MaxVersion: 3}, ok(nil), ErrUnsupported},
		{"no such method", &dsmInfo, fail(103), ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeDSM(t, func(*http.Request, url.Values) any { return tt.answer })
			if tt.info != nil {
				f.info["SYNO.DSM.Info"] = *tt.info
			}
			_, err := f.client(t, WithSession(Session{SID: "s"})).System.Info(t.Context())
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSystemInfoMalformed(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"success":true,"data":{"uptime":"forever"}}`,
		`{"success":true,"data":{"uptime":99999999999999}}`,
		`{"success":true,"data":{"temperature":"hot"}}`,
		`{"success":true,"data":{"model":{"name":"DS923+"}}}`,
		`{"success":true,"data":{"ram":1.5}}`,
	} {
		f := newFakeDSM(t, func(*http.Request, url.Values) any { return []byte(body) })
		f.info["SYNO.DSM.Info"] = dsmInfo
		_, err := f.client(t, WithSession(Session{SID: "s"})).System.Info(t.Context())
		var me *MalformedError
		if !errors.As(err, &me) {
			t.Errorf("%s: err = %v, want a *MalformedError", body, err)
		}
	}
}

func TestParseDSMVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want DSMVersion
		str  string
	}{
		{"DSM 7.2.1-69057 Update 5", DSMVersion{7, 2, 1, 69057, 5}, "7.2.1-69057 Update 5"},
		{"DSM 7.0-41890", DSMVersion{7, 0, 0, 41890, 0}, "7.0-41890"},
		{"DSM 6.2.2-24922 Update 4", DSMVersion{6, 2, 2, 24922, 4}, "6.2.2-24922 Update 4"},
		{"7.2.1-69057-5", DSMVersion{7, 2, 1, 69057, 5}, "7.2.1-69057 Update 5"},
		{" dsm 7.4-90075 ", DSMVersion{7, 4, 0, 90075, 0}, "7.4-90075"},
		{"7.2", DSMVersion{7, 2, 0, 0, 0}, "7.2"},
	}
	for _, tt := range tests {
		got, err := ParseDSMVersion(tt.in)
		if err != nil {
			t.Errorf("ParseDSMVersion(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want || got.String() != tt.str {
			t.Errorf("ParseDSMVersion(%q) = %+v (%q), want %+v (%q)", tt.in, got, got.String(), tt.want, tt.str)
		}
	}
	for _, bad := range []string{"", "DSM", "seven", "DSM 7", "7.2.1.4", "DSM 7.2-", "7.2-69057 Update", "DSM 7.2.1-69057 Update 5 beta", "1.2-12345678901"} {
		if v, err := ParseDSMVersion(bad); err == nil {
			t.Errorf("ParseDSMVersion(%q) = %+v, want an error", bad, v)
		}
	}
	if (DSMVersion{}).String() != "" {
		t.Errorf("zero version writes %q", DSMVersion{}.String())
	}
}

package dsm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SystemService reads what DSM says about the NAS itself: model, DSM
// version, serial number, uptime.
type SystemService struct {
	c *Client
}

// SystemInfo is what DSM says about the NAS.
type SystemInfo struct {
	// Model is the model name, such as "DS920+" or "VirtualDSM".
	Model string
	// Serial is the serial number.
	Serial string
	// VersionString is the DSM version as DSM writes it, such as
	// "DSM 7.2.1-69057 Update 5".
	VersionString string
	// Version is VersionString read into numbers; its fields are zero
	// where DSM did not say.
	Version DSMVersion
	// RAM is the installed memory in MB.
	RAM int
	// Temperature is the system temperature in degrees Celsius, 0 when
	// the model does not report one.
	Temperature int
	// TemperatureWarning tells whether DSM warns about the temperature.
	TemperatureWarning bool
	// Uptime is how long the NAS has been running.
	Uptime time.Duration
	// Codepage is DSM's code page for file names, such as "enu".
	Codepage string
	// Time is the NAS's clock when it answered. DSM gives the local time
	// of the NAS without a zone ("Sat Aug  7 13:04:04 2021"), so the
	// fields are that wall-clock reading, carried in UTC. It is the zero
	// Time when DSM sent none or a form this package does not read.
	Time time.Time
}

// DSMVersion is a DSM version: 7.2.1-69057 Update 5 is Major 7, Minor 2,
// Micro 1, Build 69057, Update 5.
type DSMVersion struct {
	Major, Minor, Micro int
	// Build is the build number, the surest way to order two versions.
	Build int
	// Update is the number of the update ("Update 5"), 0 for none.
	Update int
}

// IsZero reports whether v is the zero DSMVersion: nothing is known.
func (v DSMVersion) IsZero() bool { return v == DSMVersion{} }

// String writes v as DSM does, without the "DSM " prefix:
// "7.2.1-69057 Update 5", "7.0-41890". A zero Micro, Build or Update is
// left out.
func (v DSMVersion) String() string {
	if v.IsZero() {
		return ""
	}
	s := fmt.Sprintf("%d.%d", v.Major, v.Minor)
	if v.Micro != 0 {
		s += fmt.Sprintf(".%d", v.Micro)
	}
	if v.Build != 0 {
		s += fmt.Sprintf("-%d", v.Build)
	}
	if v.Update != 0 {
		s += fmt.Sprintf(" Update %d", v.Update)
	}
	return s
}

// dsmVersionPattern matches DSM's version strings: an optional "DSM "
// prefix, major.minor[.micro], an optional -build, and an optional update
// as " Update N" (version_string) or "-N" (how people and release notes
// write it: 7.2.1-69057-5).
var dsmVersionPattern = regexp.MustCompile(`(?i)^(?:DSM\s+)?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?(?:-(\d{1,9}))?(?:(?:\s+Update\s+|-)(\d{1,4}))?$`)

// ParseDSMVersion reads a DSM version such as "DSM 7.2.1-69057 Update 5",
// "7.2.1-69057-5", "DSM 7.0-41890" or "7.2".
func ParseDSMVersion(s string) (DSMVersion, error) {
	m := dsmVersionPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return DSMVersion{}, fmt.Errorf("%q is not a DSM version such as \"DSM 7.2.1-69057 Update 5\"", s)
	}
	n := make([]int, 5)
	for i, part := range m[1:] {
		if part != "" {
			n[i], _ = strconv.Atoi(part) // at most 9 digits: cannot fail
		}
	}
	return DSMVersion{Major: n[0], Minor: n[1], Micro: n[2], Build: n[3], Update: n[4]}, nil
}

// maxUptime bounds a believable uptime; beyond it the answer is malformed.
const maxUptime = 100 * 365 * 24 * time.Hour

// Info returns the NAS's model, DSM version, serial number, uptime,
// memory and temperature. DSM's own table lets administrators and
// ordinary users call it; an account DSM refuses fails with
// ErrPermissionDenied, and a DSM without the API with ErrUnsupported.
//
// A build other than the one of the client's API table (WithAPIInfo)
// makes the client read the table again at its next call.
//
// DSM: SYNO.DSM.Info getinfo (version 2 on DSM 6 and 7, 1 on DSM 5).
func (s *SystemService) Info(ctx context.Context) (SystemInfo, error) {
	var d struct {
		Codepage        flexString `json:"codepage"`
		Model           flexString `json:"model"`
		RAM             flexInt    `json:"ram"`
		Serial          flexString `json:"serial"`
		Temperature     flexFloat  `json:"temperature"`
		TemperatureWarn flexBool   `json:"temperature_warn"`
		Time            flexString `json:"time"`
		Uptime          flexInt    `json:"uptime"`
		Version         flexString `json:"version"`
		VersionString   flexString `json:"version_string"`
	}
	const api, method = "SYNO.DSM.Info", "getinfo"
	if err := s.c.do(ctx, newRead(api, method, nil, &d)); err != nil {
		return SystemInfo{}, err
	}
	uptime := time.Duration(max(d.Uptime, 0))
	if uptime > maxUptime/time.Second {
		return SystemInfo{}, &MalformedError{API: api, Method: method, Reason: fmt.Sprintf("uptime of %d seconds is beyond belief", d.Uptime)}
	}
	version := versionOf(string(d.VersionString), string(d.Version))
	s.c.noteBuild(version.Build)
	return SystemInfo{
		Model:              string(d.Model),
		Serial:             string(d.Serial),
		VersionString:      string(d.VersionString),
		Version:            version,
		RAM:                int(d.RAM),
		Temperature:        int(math.Round(float64(d.Temperature))),
		TemperatureWarning: bool(d.TemperatureWarn),
		Uptime:             uptime * time.Second,
		Codepage:           string(d.Codepage),
		Time:               parseNASTime(string(d.Time)),
	}, nil
}

// versionOf reads the version from version_string, falling back on
// version: DSM puts the build number there ("41890"), and some answers a
// whole version ("7.2-64570"). When both are there, version_string wins:
// a test fixture in the wild pairs a DSM 7 string with a DSM 6 build.
func versionOf(versionString, version string) DSMVersion {
	v, err := ParseDSMVersion(versionString)
	if err != nil {
		v = DSMVersion{}
		if alt, err := ParseDSMVersion(version); err == nil {
			return alt
		}
	}
	if v.Build == 0 {
		if b, err := strconv.Atoi(strings.TrimSpace(version)); err == nil && b > 0 {
			v.Build = b
		}
	}
	return v
}

// nasTimeLayouts are the forms of SYNO.DSM.Info's time: C's asctime, as
// real DSM answers (home-assistant/core #54238), then two more a DSM-like
// server might write.
var nasTimeLayouts = []string{time.ANSIC, "2006-01-02 15:04:05", time.RFC3339}

// parseNASTime reads DSM's time field, or gives the zero Time.
func parseNASTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range nasTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t
		}
	}
	return time.Time{}
}

// flexString decodes a text field that DSM may send as a string or as a
// number (version is "41890" on real DSM, 69057 in some answers).
type flexString string

func (s *flexString) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*s = ""
		return nil
	}
	var str string
	if err := json.Unmarshal(data, &str); err == nil {
		*s = flexString(str)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return errors.New("not a string or a number")
	}
	*s = flexString(n.String())
	return nil
}

// flexFloat decodes a number that DSM may send as 40, 40.5 or "40".
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e6 {
		return errors.New("not a number")
	}
	*f = flexFloat(v)
	return nil
}

package sim

import (
	"fmt"
	"strconv"
	"time"
)

// The NAS the simulator pretends to be. A choice: a current four-bay
// model with its factory memory; the serial is fixed so that outputs are
// reproducible.
const (
	simModel       = "DS923+"
	simSerial      = "2260SIM000001"
	simRAM         = 4096 // MB, the DS923+'s factory memory
	simTemperature = 40   // degrees Celsius, steady
	simCodepage    = "enu"
)

// defaultDSMVersion is the DSM release the simulator speaks unless told
// otherwise.
const defaultDSMVersion = "7.4"

// dsmRelease is one DSM release as SYNO.DSM.Info getinfo describes it.
type dsmRelease struct {
	build         int    // the "version" field, sent as a string
	versionString string // "DSM 7.4-90075"
}

// dsmReleases are the releases the simulator can be, by major.minor. The
// builds are the latest of each line that public sources name: 7.4-90075
// (clients tested on hardware cite it), 7.3.2-86009 and 7.2.2-72806 with
// the update numbers of Synology's security advisory that lists
// "7.3.2-86009-4" and "7.2.2-72806-9" as fixed releases. The choice of
// update is ours.
var dsmReleases = map[string]dsmRelease{
	"7.2": {build: 72806, versionString: "DSM 7.2.2-72806 Update 9"},
	"7.3": {build: 86009, versionString: "DSM 7.3.2-86009 Update 4"},
	"7.4": {build: 90075, versionString: "DSM 7.4-90075"},
}

// releaseOf returns the release of a DSM version "7.2", "7.3" or "7.4";
// "" means defaultDSMVersion.
func releaseOf(version string) (dsmRelease, error) {
	if version == "" {
		version = defaultDSMVersion
	}
	r, ok := dsmReleases[version]
	if !ok {
		return dsmRelease{}, fmt.Errorf("sim: DSM version %q: want 7.2, 7.3 or 7.4", version)
	}
	return r, nil
}

// dsmInfo is the data of SYNO.DSM.Info getinfo. The fields and their
// types are those of a real DSM 7.0 answer (home-assistant/core #54238,
// kept in testdata/real/dsm-info-getinfo.json): numbers for ram,
// temperature and uptime (seconds), the build number as a string in
// version, and the NAS's local time in C's asctime form.
type dsmInfo struct {
	Codepage        string `json:"codepage"`
	Model           string `json:"model"`
	RAM             int    `json:"ram"`
	Serial          string `json:"serial"`
	Temperature     int    `json:"temperature"`
	TemperatureWarn bool   `json:"temperature_warn"`
	Time            string `json:"time"`
	Uptime          int64  `json:"uptime"`
	Version         string `json:"version"`
	VersionString   string `json:"version_string"`
}

// dsmInfoGetinfo answers SYNO.DSM.Info getinfo. DSM's API table lets
// every local, domain and LDAP user call it (kwent/syno
// definitions/7.x/_full.json: allowUser admin.* and normal.*), and Home
// Assistant's client, which reads it right after login, got past it with
// accounts that then failed SYNO.Core.System.Utilization with 105
// (home-assistant/core #81843, #103627). The uptime counts from New on the
// simulator's clock; the time is that clock in UTC (the simulator has no
// time zone).
func (s *Server) dsmInfoGetinfo(q *request) (any, error) {
	return dsmInfo{
		Codepage:      simCodepage,
		Model:         simModel,
		RAM:           simRAM,
		Serial:        simSerial,
		Temperature:   simTemperature,
		Time:          q.now.UTC().Format(time.ANSIC),
		Uptime:        int64(max(q.now.Sub(s.started), 0) / time.Second),
		Version:       strconv.Itoa(s.release.build),
		VersionString: s.release.versionString,
	}, nil
}

package sim

import (
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

// dsmInfo is the data of SYNO.DSM.Info getinfo. The fields and their
// types are those of a real DSM 7.0 answer (home-assistant/core #54238,
// kept in testdata/real/dsm_info_getinfo.json): numbers for ram,
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

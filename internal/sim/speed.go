package sim

import (
	"encoding/json"
	"errors"
	"strings"
)

// Speed limits: SYNO.Core.BandwidthControl get (v1, v2) and set (v1),
// per user or group and protocol (DSM 6.2.3 admin_center.js;
// N4S4/synology-api core_group.py get_speed_limits and set_speed_limit:
// get v2 {name, owner_type} -> bandwidths of {download_limit_1,
// download_limit_2, name, owner_type, policy, protocol, protocol_ui,
// schedule_plan, upload_limit_1, upload_limit_2}, "notexist" for a
// protocol without a row; set v1 {bandwidths} -> {results: [true...]};
// limits in KB/s).

// speedProtocolDef is one protocol DSM limits: its name and the name
// its UI shows.
type speedProtocolDef struct{ name, ui string }

// speedProtocols are the protocols of N4S4's set_speed_limit (FileStation,
// WebDAV, FTP, NetworkBackup for rsync, CloudStation for Synology
// Drive). protocol_ui "FTP" is N4S4's example; the others are choices.
var speedProtocols = []speedProtocolDef{
	{"FTP", "FTP"}, {"FileStation", "File Station"}, {"WebDAV", "WebDAV"},
	{"NetworkBackup", "rsync"}, {"CloudStation", "Synology Drive"},
}

func speedProtocol(name string) *speedProtocolDef {
	for i := range speedProtocols {
		if speedProtocols[i].name == name {
			return &speedProtocols[i]
		}
	}
	return nil
}

// The weekly schedule: 168 characters, one per hour of the week
// (DSM 6.2.3 admin_center.js; N4S4 sends 168 '1'). Its alphabet: '0' no limit, '1'
// the first limits, '2' the second (the row has two pairs; no capture
// shows a '2', so that digit is a choice).
const (
	scheduleLen      = 168
	scheduleAlphabet = "012"
)

// fullSchedule is the schedule of a protocol with no row (N4S4's example
// of a "notexist" row).
var fullSchedule = strings.Repeat("1", scheduleLen)

// speedLimit is one stored limit.
type speedLimit struct {
	Policy    string `json:"policy"` // enabled, disabled or scheduled
	Upload1   int64  `json:"upload_limit_1"`
	Download1 int64  `json:"download_limit_1"`
	Upload2   int64  `json:"upload_limit_2"`
	Download2 int64  `json:"download_limit_2"`
	Schedule  string `json:"schedule_plan"`
}

// check holds a limit to the simulator's rules: a known policy, limits
// from 0 to maxSpeedKBps, a schedule of scheduleLen characters of
// scheduleAlphabet.
func (l speedLimit) check() error {
	switch l.Policy {
	case "enabled", "disabled", "scheduled":
	default:
		return errors.New("bad policy")
	}
	for _, v := range []int64{l.Upload1, l.Download1, l.Upload2, l.Download2} {
		if v < 0 || v > maxSpeedKBps {
			return errors.New("limit out of range")
		}
	}
	if len(l.Schedule) != scheduleLen || strings.Trim(l.Schedule, scheduleAlphabet) != "" {
		return errors.New("bad schedule")
	}
	return nil
}

// speedRecord is one row of get.
type speedRecord struct {
	DownloadLimit1 int64  `json:"download_limit_1"`
	DownloadLimit2 int64  `json:"download_limit_2"`
	Name           string `json:"name"`
	OwnerType      string `json:"owner_type"`
	Policy         string `json:"policy"`
	Protocol       string `json:"protocol"`
	ProtocolUI     string `json:"protocol_ui"`
	SchedulePlan   string `json:"schedule_plan"`
	UploadLimit1   int64  `json:"upload_limit_1"`
	UploadLimit2   int64  `json:"upload_limit_2"`
}

// speedOwner finds the owner of name and owner_type (local_user or
// local_group): 120 for another type, 3106 or 3204 for an unknown name
// (choices).
func (s *Server) speedOwner(typ, name string) (owner, string, error) {
	switch typ {
	case "local_user":
		if u := s.st.userByName(name); u != nil {
			return userOwner(u), u.name, nil
		}
		return owner{}, "", fail(codeNoSuchUser)
	case "local_group":
		if g := s.st.groupByName(name); g != nil {
			return groupOwner(g), g.name, nil
		}
		return owner{}, "", fail(codeNoSuchGroup)
	}
	return owner{}, "", fail(codeInvalidParameter)
}

// speedGet answers SYNO.Core.BandwidthControl get {name, owner_type}:
// {bandwidths}, one row per protocol, "notexist" where the owner has
// none.
func (s *Server) speedGet(q *request) (any, error) {
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	typ := q.str("owner_type")
	if typ == "" {
		typ = "local_user" // a choice: DSM's dialog always sends it
	}
	o, name, err := s.speedOwner(typ, q.str("name"))
	if err != nil {
		return nil, err
	}
	p := s.st.profiles.get(o)
	rows := make([]speedRecord, 0, len(speedProtocols))
	for _, proto := range speedProtocols {
		r := speedRecord{Name: name, OwnerType: typ, Policy: "notexist", Protocol: proto.name, ProtocolUI: proto.ui, SchedulePlan: fullSchedule}
		if p != nil {
			if l, ok := p.speeds[proto.name]; ok {
				r.Policy, r.SchedulePlan = l.Policy, l.Schedule
				r.UploadLimit1, r.DownloadLimit1, r.UploadLimit2, r.DownloadLimit2 = l.Upload1, l.Download1, l.Upload2, l.Download2
			}
		}
		rows = append(rows, r)
	}
	return map[string]any{"bandwidths": rows}, nil
}

// speedSet answers SYNO.Core.BandwidthControl set {bandwidths}: each row
// (with name and owner_type) replaces the owner's limit for its
// protocol; all are checked first, anything out of the rules of check
// or an unknown protocol being 120 (a choice). It answers {results}, one
// true per row (N4S4's example answer).
func (s *Server) speedSet(q *request) (any, error) {
	var rows []struct {
		Name      *string `json:"name"`
		OwnerType *string `json:"owner_type"`
		Protocol  string  `json:"protocol"`
		speedLimit
	}
	if err := json.Unmarshal([]byte(q.params.Get("bandwidths")), &rows); err != nil || len(rows) == 0 || len(rows) > maxRowsPerCall {
		return nil, fail(codeInvalidParameter)
	}
	owners := make([]owner, len(rows))
	for i, r := range rows {
		if r.Name == nil || r.OwnerType == nil {
			return nil, fail(codeMissingParameters)
		}
		o, _, err := s.speedOwner(*r.OwnerType, *r.Name)
		if err != nil {
			return nil, err
		}
		if speedProtocol(r.Protocol) == nil || r.check() != nil {
			return nil, fail(codeInvalidParameter)
		}
		owners[i] = o
	}
	results := make([]bool, len(rows))
	for i, r := range rows {
		s.st.profiles.edit(owners[i]).speeds[r.Protocol] = r.speedLimit
		results[i] = true
	}
	s.dirty = true
	return map[string]any{"results": results}, nil
}

package sim

import (
	"fmt"
	"slices"
	"time"
)

// DefaultHomeTaskDelay is how long the task of enabling the home service
// runs (sim clock) when Config.HomeTaskDelay is zero. A choice: on a
// physical NAS it takes seconds (batonogov user_home.go polls every 3 s).
const DefaultHomeTaskDelay = 200 * time.Millisecond

// homeState is the user home service (SYNO.Core.User.Home), kept in the
// meta record.
type homeState struct {
	Enabled    bool      `json:"enabled"`
	Location   string    `json:"location,omitempty"`
	RecycleBin bool      `json:"recycle_bin,omitempty"`
	TaskID     string    `json:"task_id,omitempty"`
	TaskDue    time.Time `json:"task_due,omitzero"`
	// HomesOn is the volume homes is made on when the task finishes.
	HomesOn string `json:"homes_on,omitempty"`
}

// settleHome finishes the home service's task that is due: the shared
// folder homes appears then. Call with s.mu held (settle does).
func (s *Server) settleHome(now time.Time) {
	h := &s.st.home
	if h.HomesOn == "" || now.Before(h.TaskDue) {
		return
	}
	if s.st.shareByName(homesShare) == nil && len(s.st.shares) < maxShares {
		s.st.addShare(&share{name: homesShare, volume: h.HomesOn, description: "user home", uuid: shareUUID(homesShare, now)})
	}
	h.HomesOn = ""
	s.dirty = true
}

// homeGet answers SYNO.Core.User.Home get -> {enable, location,
// enable_recycle_bin, enable_domain, enable_ldap, encryption} and
// additional.personal_photo_enable when asked (batonogov user_home.go,
// DSM 7.2.2 and 7.3.2 on hardware). The simulator has no directory:
// enable_domain and enable_ldap are false.
func (s *Server) homeGet(q *request) (any, error) {
	h := s.st.home
	d := map[string]any{
		"enable": h.Enabled, "location": h.Location, "enable_recycle_bin": h.RecycleBin,
		"enable_domain": false, "enable_ldap": false, "encryption": 0,
	}
	if slices.Contains(q.list("additional"), "personal_photo_enable") {
		d["additional"] = map[string]any{"personal_photo_enable": false}
	}
	return d, nil
}

// homeSet answers SYNO.Core.User.Home set (batonogov user_home.go, on
// hardware): enabling needs location as a volume path, "/volume1" (a bare
// "volume1" is 3101, none 3103); disabling takes no location or other
// field (3103 when sent). A location that is a path but no volume of the
// NAS is 3101 too, and a missing or non-boolean enable 3103: choices.
//
// Enabling answers {task_id} as a physical NAS does; the task finishes
// after Config.HomeTaskDelay (negative: no task, the answer is {}, as on a
// virtual DSM) and then creates the shared folder homes on the location
// when there is none (the task exists to make it: batonogov). That the
// settings read back at once, before the task is done, is a choice. Disabling keeps homes and its data (a choice: DSM
// does not delete user data when a service is turned off).
func (s *Server) homeSet(q *request) (any, error) {
	if !q.has("enable") {
		return nil, fail(codeInvalidValue)
	}
	enable, err := q.boolean("enable", false, codeInvalidValue)
	if err != nil {
		return nil, err
	}
	if !enable {
		if q.has("location") || q.has("enable_recycle_bin") {
			return nil, fail(codeInvalidValue)
		}
		s.st.home.Enabled = false
		s.dirty = true
		return struct{}{}, nil
	}
	loc := q.str("location")
	switch {
	case loc == "":
		return nil, fail(codeInvalidValue)
	case volumeByPath(loc) == nil:
		return nil, fail(codeBadArgument)
	}
	recycle, err := q.boolean("enable_recycle_bin", s.st.home.RecycleBin, codeInvalidValue)
	if err != nil {
		return nil, err
	}
	if s.st.shareByName(homesShare) == nil && len(s.st.shares) >= maxShares {
		return nil, fail(codeInvalidParameter)
	}
	s.st.home.Enabled, s.st.home.Location, s.st.home.RecycleBin = true, loc, recycle
	s.st.home.HomesOn, s.st.home.TaskDue = loc, q.now.Add(max(s.homeDelay, 0))
	s.dirty = true
	if s.homeDelay < 0 {
		s.settleHome(q.now)
		return struct{}{}, nil
	}
	s.st.nextPID++
	s.st.home.TaskID = fmt.Sprintf("@administrators/userhome%d", s.st.nextPID)
	return map[string]any{"task_id": s.st.home.TaskID}, nil
}

// homeStatus answers status {task_id} -> {finish}: false until the task
// is due. The last task is kept; any other id is 120 (a choice).
func (s *Server) homeStatus(q *request) (any, error) {
	id := q.str("task_id")
	if id == "" {
		return nil, fail(codeMissingParameters)
	}
	if id != s.st.home.TaskID {
		return nil, fail(codeInvalidParameter)
	}
	return map[string]any{"finish": !q.now.Before(s.st.home.TaskDue), "task_id": id}, nil
}

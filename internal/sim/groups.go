package sim

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// DefaultJoinDelay is how long a SYNO.Core.User.Group join task takes on
// the simulator's clock when Config.JoinDelay is zero.
const DefaultJoinDelay = 200 * time.Millisecond

// keptTasks is how many finished join tasks the simulator remembers.
const keptTasks = 200

// groupRecord is one entry of SYNO.Core.Group list and get.
type groupRecord struct {
	Name        string `json:"name"`
	GID         int    `json:"gid"`
	Description string `json:"description"`
}

func recordOf(g *group) groupRecord {
	return groupRecord{Name: g.name, GID: g.gid, Description: g.description}
}

// groupList answers SYNO.Core.Group list: groups sorted by name, paged;
// name_only=true leaves only the names.
func (s *Server) groupList(q *request) (any, error) {
	if err := q.localType(); err != nil {
		return nil, err
	}
	offset, limit, err := q.page()
	if err != nil {
		return nil, err
	}
	nameOnly, err := q.boolean("name_only", false, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	groups := s.st.sortedGroups()
	out := []any{}
	for _, g := range pageOf(groups, offset, limit) {
		if nameOnly {
			out = append(out, map[string]string{"name": g.name})
		} else {
			out = append(out, recordOf(g))
		}
	}
	return map[string]any{"offset": offset, "total": len(groups), "groups": out}, nil
}

// groupNamed reads the required group parameter param: 114 when absent,
// 3204 when no such group.
func (s *Server) groupNamed(q *request, param string) (*group, error) {
	if !q.has(param) {
		return nil, fail(codeMissingParameters)
	}
	g := s.st.groupByName(q.str(param))
	if g == nil {
		return nil, fail(codeNoSuchGroup)
	}
	return g, nil
}

// groupGet answers SYNO.Core.Group get: {groups:[{name,gid,description}]}.
func (s *Server) groupGet(q *request) (any, error) {
	g, err := s.groupNamed(q, "name")
	if err != nil {
		return nil, err
	}
	return map[string]any{"groups": []groupRecord{recordOf(g)}}, nil
}

// groupCreate answers SYNO.Core.Group create -> {name, gid}. gids start
// at 65536 and are never reused. A bad name is 3208, a bad description
// 120, too many groups 3209, a taken name (any case) 3206, a reserved one
// 3207.
func (s *Server) groupCreate(q *request) (any, error) {
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	name, desc := q.str("name"), q.str("description")
	if !validName(name, maxGroupNameLen, groupNameForbidden) {
		return nil, fail(codeBadGroupName)
	}
	if !validDescription(desc) {
		return nil, fail(codeInvalidParameter)
	}
	if len(s.st.groups) >= maxGroups {
		return nil, fail(codeTooManyGroups)
	}
	if s.st.groupByName(name) != nil {
		return nil, fail(codeGroupExists)
	}
	if reserved(reservedGroupNames, name) {
		return nil, fail(codeReservedGroup)
	}
	g := s.st.addGroup(name, desc)
	s.dirty = true
	return map[string]any{"name": g.name, "gid": g.gid}, nil
}

// groupSet answers SYNO.Core.Group set (name, new_name, description) ->
// {name, gid}. Built-in groups keep their names (3207).
func (s *Server) groupSet(q *request) (any, error) {
	g, err := s.groupNamed(q, "name")
	if err != nil {
		return nil, err
	}
	desc := g.description
	if q.has("description") {
		if desc = q.str("description"); !validDescription(desc) {
			return nil, fail(codeInvalidParameter)
		}
	}
	newName := g.name
	if nn := q.str("new_name"); nn != "" && nn != g.name {
		switch {
		case builtinGroup(g.name):
			return nil, fail(codeReservedGroup)
		case !validName(nn, maxGroupNameLen, groupNameForbidden):
			return nil, fail(codeBadGroupName)
		case s.st.groupByName(nn) != nil && s.st.groupByName(nn) != g:
			return nil, fail(codeGroupExists)
		case fold(nn) != fold(g.name) && reserved(reservedGroupNames, nn):
			return nil, fail(codeReservedGroup)
		}
		newName = nn
	}
	g.description = desc
	if newName != g.name {
		delete(s.st.groups, fold(g.name))
		g.name = newName
		s.st.groups[fold(newName)] = g
	}
	s.dirty = true
	return map[string]any{"name": g.name, "gid": g.gid}, nil
}

// groupDelete answers SYNO.Core.Group delete (name: a JSON list, or one
// name). Built-in groups are 3207, unknown ones 3204; the others go.
// Answers as User delete does.
func (s *Server) groupDelete(q *request) (any, error) {
	names, err := q.names("name", true, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	var doomed []*group
	var errs []itemError
	for _, n := range names {
		g := s.st.groupByName(n)
		switch {
		case builtinGroup(n):
			errs = append(errs, itemError{n, codeReservedGroup})
		case g == nil:
			errs = append(errs, itemError{n, codeNoSuchGroup})
		default:
			doomed = append(doomed, g)
		}
	}
	if len(doomed) == 0 {
		return nil, &apiError{code: errs[0].Code, details: errs}
	}
	for _, g := range doomed {
		s.st.dropProfile(true, g.gid)
		delete(s.st.groups, fold(g.name))
		s.st.forgetPrincipal(true, g.gid) // permissions.go: DSM drops the group's rows
	}
	s.dirty = true
	if len(errs) > 0 {
		return map[string]any{"errors": errs}, nil
	}
	return struct{}{}, nil
}

// memberRecord is one entry of SYNO.Core.Group.Member list.
type memberRecord struct {
	Name        string `json:"name"`
	UID         int    `json:"uid"`
	Description string `json:"description"`
}

// groupMemberList answers SYNO.Core.Group.Member list: the users in
// group (ingroup=true, the default) or not in it (ingroup=false), sorted
// by name and paged. An unknown group is 3204.
func (s *Server) groupMemberList(q *request) (any, error) {
	g, err := s.groupNamed(q, "group")
	if err != nil {
		return nil, err
	}
	offset, limit, err := q.page()
	if err != nil {
		return nil, err
	}
	in, err := q.boolean("ingroup", true, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	var users []*user
	for _, u := range s.st.sortedUsers() {
		if g.members[u.uid] == in {
			users = append(users, u)
		}
	}
	out := []memberRecord{}
	for _, u := range pageOf(users, offset, limit) {
		out = append(out, memberRecord{Name: u.name, UID: u.uid, Description: u.description})
	}
	return map[string]any{"offset": offset, "total": len(users), "users": out}, nil
}

func (s *Server) groupMemberAdd(q *request) (any, error) {
	return s.changeMembers(q, "name", "")
}

func (s *Server) groupMemberRemove(q *request) (any, error) {
	return s.changeMembers(q, "", "name")
}

func (s *Server) groupMemberChange(q *request) (any, error) {
	return s.changeMembers(q, "add_member", "remove_member")
}

// changeMembers serves Group.Member add, remove and change: it adds the
// users of list parameter addParam and removes those of removeParam
// ("" for none). As on real DSM the answer is success even when nothing
// changed: unknown user names are skipped, and nobody leaves "users".
// An unknown group is 3204, a malformed list 120, and a change that
// leaves administrators without an enabled member 3210.
func (s *Server) changeMembers(q *request, addParam, removeParam string) (any, error) {
	g, err := s.groupNamed(q, "group")
	if err != nil {
		return nil, err
	}
	var add, remove []string
	if addParam != "" {
		if add, err = q.names(addParam, false, codeInvalidParameter); err != nil {
			return nil, err
		}
	}
	if removeParam != "" {
		if remove, err = q.names(removeParam, false, codeInvalidParameter); err != nil {
			return nil, err
		}
	}
	after := make(map[int]bool, len(g.members))
	for uid := range g.members {
		after[uid] = true
	}
	for _, n := range add {
		if u := s.st.userByName(n); u != nil {
			after[u.uid] = true
		}
	}
	if g.name != groupUsers {
		for _, n := range remove {
			if u := s.st.userByName(n); u != nil {
				delete(after, u.uid)
			}
		}
	}
	if g.name == groupAdministrators && s.st.enabledAdmins(q.now, nil) > 0 && s.st.countEnabled(q.now, after, nil) == 0 {
		return nil, fail(codeLastAdminInGroup)
	}
	g.members = after
	s.dirty = true
	return nil, nil
}

// joinTask is a queued SYNO.Core.User.Group join: the membership changes
// when the simulator's clock reaches due.
type joinTask struct {
	ID      string    `json:"id"`
	Owner   string    `json:"owner"` // the caller, info.group of join_status
	Name    string    `json:"name"`  // the user, as named when queued
	UID     int       `json:"uid"`
	PID     int       `json:"pid"`
	Join    []string  `json:"join"`
	Leave   []string  `json:"leave"`
	Queued  time.Time `json:"queued"`
	Due     time.Time `json:"due"`
	Done    bool      `json:"done"`
	Success bool      `json:"success"`
}

// checkJoin validates a join for u against the current state: every
// group exists (3204), nobody leaves "users" and no group is both joined
// and left (3103), and administrators keeps an enabled member (3210).
func (st *store) checkJoin(now time.Time, u *user, join, leave []string) error {
	for _, n := range append(append([]string{}, join...), leave...) {
		if st.groupByName(n) == nil {
			return fail(codeNoSuchGroup)
		}
	}
	leaving := map[string]bool{}
	for _, n := range leave {
		if fold(n) == groupUsers {
			return fail(codeInvalidValue)
		}
		leaving[fold(n)] = true
	}
	for _, n := range join {
		if leaving[fold(n)] {
			return fail(codeInvalidValue)
		}
	}
	if leaving[groupAdministrators] && st.isAdmin(u) && st.leavesNoAdmin(now, map[int]bool{u.uid: true}) {
		return fail(codeLastAdminInGroup)
	}
	return nil
}

// userGroupJoin answers SYNO.Core.User.Group join (name, join_group,
// leave_group) -> {task_id}. The whole change is validated now and again
// when the task runs; an invalid join changes nothing.
func (s *Server) userGroupJoin(q *request) (any, error) {
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	u := s.st.userByName(q.str("name"))
	if u == nil {
		return nil, fail(codeNoSuchUser)
	}
	join, err := q.names("join_group", false, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	leave, err := q.names("leave_group", false, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	if err := s.st.checkJoin(q.now, u, join, leave); err != nil {
		return nil, err
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	t := &joinTask{
		ID:     "@administrators/groupbatch" + strconv.FormatInt(q.now.Unix(), 10) + strings.ToUpper(hex.EncodeToString(suffix)),
		Owner:  q.user.name,
		Name:   u.name,
		UID:    u.uid,
		PID:    s.st.nextPID,
		Join:   join,
		Leave:  leave,
		Queued: q.now,
		Due:    q.now.Add(s.joinDelay),
	}
	s.st.nextPID++
	s.st.tasks = append(s.st.tasks, t)
	s.dirty = true
	s.settle(q.now)
	return map[string]string{"task_id": t.ID}, nil
}

// settle runs the join tasks that are due at now, oldest first. A task
// that has become invalid (user or group deleted, last administrator)
// finishes with success false and changes nothing. Call with s.mu held.
func (s *Server) settle(now time.Time) {
	s.settleHome(now)    // home.go
	s.settleImports(now) // userimport.go
	for _, t := range s.st.tasks {
		if t.Done || now.Before(t.Due) {
			continue
		}
		t.Done = true
		s.dirty = true
		u := s.st.userByUID(t.UID)
		if u == nil || s.st.checkJoin(now, u, t.Join, t.Leave) != nil {
			continue
		}
		for _, n := range t.Join {
			s.st.groupByName(n).members[u.uid] = true
		}
		for _, n := range t.Leave {
			delete(s.st.groupByName(n).members, u.uid)
		}
		t.Success = true
	}
	if extra := len(s.st.tasks) - keptTasks; extra > 0 {
		kept := s.st.tasks[:0]
		for _, t := range s.st.tasks {
			if extra > 0 && t.Done {
				extra--
				continue
			}
			kept = append(kept, t)
		}
		s.st.tasks = kept
	}
}

// joinStatus is the data of SYNO.Core.User.Group join_status.
type joinStatus struct {
	Finish     bool           `json:"finish"`
	AutoRemove bool           `json:"auto_remove"`
	Success    bool           `json:"success"`
	Data       joinStatusData `json:"data"`
	Info       joinStatusInfo `json:"info"`
}

type joinStatusData struct {
	Name     string `json:"name"`
	UID      int    `json:"uid"`
	PID      int    `json:"pid"`
	Progress int    `json:"progress"`
	Total    int    `json:"total"`
}

type joinStatusInfo struct {
	API     string `json:"api"`
	Group   string `json:"group"`
	Method  string `json:"method"`
	Prefix  string `json:"prefix"`
	Version int    `json:"version"`
}

// userGroupJoinStatus answers SYNO.Core.User.Group join_status (task_id).
// Until the task finishes, finish is false and success true (as in the
// seed's capture); progress counts the groups of the change as the delay
// passes. An unknown task id is 120.
func (s *Server) userGroupJoinStatus(q *request) (any, error) {
	if !q.has("task_id") {
		return nil, fail(codeMissingParameters)
	}
	id := q.str("task_id")
	var t *joinTask
	for _, c := range s.st.tasks {
		if c.ID == id {
			t = c
		}
	}
	if t == nil {
		return nil, fail(codeInvalidParameter)
	}
	return t.status(q.now), nil
}

// status is what join_status says of t at now.
func (t *joinTask) status(now time.Time) joinStatus {
	total := len(t.Join) + len(t.Leave)
	progress := total
	if !t.Done {
		if span := t.Due.Sub(t.Queued); span > 0 {
			progress = min(total, int(int64(total)*int64(now.Sub(t.Queued))/int64(span)))
		}
	}
	return joinStatus{
		Finish:  t.Done,
		Success: !t.Done || t.Success,
		Data:    joinStatusData{Name: t.Name, UID: t.UID, PID: t.PID, Progress: progress, Total: total},
		Info:    joinStatusInfo{API: "SYNO.Core.User.Group", Group: t.Owner, Method: "join", Prefix: "groupbatch", Version: 1},
	}
}

// joinListItem is one task of SYNO.Core.User.Group join_list: its id and
// what join_status says of it.
type joinListItem struct {
	TaskID string `json:"task_id"`
	joinStatus
}

// userGroupJoinList answers SYNO.Core.User.Group join_list (no
// parameters) -> {running, interrupted, finished}, lists of tasks, oldest
// first. DSM's user dialog (DSM 6.2.3 admin_center.js, checkGroupPolling)
// reads those three lists, and of each task task_id and data.name, to
// resume the progress bar of a join still running for the user it opens
// and to clear the others with join_stop. The rest of each item is
// join_status's answer: a guess. So is the split: a task that finished
// without making its change (its user or group went away, or it would
// have left no administrator) is interrupted.
func (s *Server) userGroupJoinList(q *request) (any, error) {
	out := map[string][]joinListItem{"running": {}, "interrupted": {}, "finished": {}}
	for _, t := range s.st.tasks {
		kind := "running"
		switch {
		case t.Done && t.Success:
			kind = "finished"
		case t.Done:
			kind = "interrupted"
		}
		out[kind] = append(out[kind], joinListItem{TaskID: t.ID, joinStatus: t.status(q.now)})
	}
	return out, nil
}

// userGroupJoinStop answers SYNO.Core.User.Group join_stop (task_id: a
// JSON list of ids, or one id) -> {task_id: the ids it stopped}. DSM's
// user dialog sends the ids of finished and interrupted tasks and drops
// from its cache those the answer lists (admin_center.js,
// checkGroupPolling). The simulator forgets each known task; one still
// running is cancelled, its change never made (a guess from the method's
// name). Unknown ids are left out of the answer (a guess).
func (s *Server) userGroupJoinStop(q *request) (any, error) {
	if !q.has("task_id") {
		return nil, fail(codeMissingParameters)
	}
	ids, err := q.names("task_id", true, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	stop := map[string]bool{}
	for _, id := range ids {
		stop[id] = true
	}
	stopped := []string{}
	kept := s.st.tasks[:0]
	for _, t := range s.st.tasks {
		if stop[t.ID] {
			stopped = append(stopped, t.ID)
			continue
		}
		kept = append(kept, t)
	}
	clear(s.st.tasks[len(kept):])
	s.st.tasks = kept
	if len(stopped) > 0 {
		s.dirty = true
	}
	return map[string][]string{"task_id": stopped}, nil
}

// groupAdminCheck answers SYNO.Core.Group admin_check (name: a group) ->
// {groups:[{name, is_admin}]}. DSM's group dialog asks it on opening and
// reads groups[0].name and .is_admin, to lock the quota tab of an
// administrative group (DSM 6.2.3 admin_center.js). A local group is
// administrative when it is administrators (DSM's domain admin groups,
// Group.ExtraAdmin, are not modelled). An unknown group is 3204, a missing
// name 114 (our choice).
func (s *Server) groupAdminCheck(q *request) (any, error) {
	g, err := s.groupNamed(q, "name")
	if err != nil {
		return nil, err
	}
	return map[string]any{"groups": []adminCheck{{Name: g.name, IsAdmin: g.name == groupAdministrators}}}, nil
}

// adminCheck is one entry of the admin_check answers.
type adminCheck struct {
	Name    string `json:"name"`
	IsAdmin bool   `json:"is_admin"`
}

// groupMemberAdminCheck answers SYNO.Core.Group.Member admin_check (name:
// a user) -> {users:[{name, is_admin}]}: whether the user is an
// administrator. DSM's user dialog asks it for directory users and reads
// users[0].is_admin (DSM 6.2.3 admin_center.js); the simulator answers it
// for its local users: a member of administrators. An unknown user is
// 3106, a missing name 114 (our choices).
func (s *Server) groupMemberAdminCheck(q *request) (any, error) {
	if !q.has("name") {
		return nil, fail(codeMissingParameters)
	}
	u := s.st.userByName(q.str("name"))
	if u == nil {
		return nil, fail(codeNoSuchUser)
	}
	return map[string]any{"users": []adminCheck{{Name: u.name, IsAdmin: s.st.isAdmin(u)}}}, nil
}

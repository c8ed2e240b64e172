package sim

import (
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
)

// Application privileges: SYNO.Core.AppPriv.App (the catalogue) and
// SYNO.Core.AppPriv.Rule (rules per user and group).
//
// Sources: math65/dsmaccess DSMPermissionService.swift and
// DSMApplicationPrivilege.swift (DSM 7.4: App list -> applications of
// {app_id, name, grant_by_default}; Rule get {entity_type, entity_name}
// -> rules of {app_id, allow_ip, deny_ip}; "0.0.0.0" means every
// address; set {rules}; reverting to the default is delete {rules of
// app_id, entity_type, entity_name}); N4S4/synology-api
// DSM/ControlPanel/ApplicationPrivileges.py (answer shapes with
// grant_type, isInternal, service_type, supportIP, offset, total); a
// public write-up of DSM 7 Core API shapes recorded on a NAS ("Spike 3 —
// DSM Core API shapes": App list v3 lists SYNO.AFP, SYNO.Desktop,
// SYNO.FTP, SYNO.Rsync, SYNO.SFTP; set and delete answer no data;
// AppPriv.Rule answers 3400 to bad or missing parameters).

// The codes of SYNO.Core.AppPriv.Rule: 3400 is what a NAS answered to
// bad or missing parameters (the write-up above); 3403 and 3405 are DSM's
// app_privilege error_no_such_user_or_group and error_wrong_data_format
// (synology-community/go-synology pkg/api/errors.go, DSM's message
// keys). Which of them DSM answers to which mistake beyond that capture
// is a choice: 3403 for an unknown user or group, 3405 for rules that
// are not a JSON list of rules, 3400 for the rest.
const (
	codeAppPrivBadParameter = 3400
	codeAppPrivNoSuchEntity = 3403
	codeAppPrivBadFormat    = 3405
)

// catalogueEntry is one application of the catalogue.
type catalogueEntry struct {
	id, name       string
	grantByDefault bool
}

// appCatalogue is the catalogue of a NAS with no extra package: DSM's
// built-in applications. The catalogue depends on installed packages
// (dsmaccess); this one is fixed. IDs and names: SYNO.AFP "AFP" and
// SYNO.Desktop "DSM" (N4S4's example answer, grant_by_default true),
// SYNO.FTP "FTP" and SYNO.Finder.Application "Universal Search"
// (dsmaccess's test of a DSM 7.4 answer, DSMPermissionServiceTests.swift:
// true and false), SYNO.SFTP "SFTP" (the NAS write-up: true) and
// SYNO.Rsync (listed by the write-up; its name "rsync" and its default
// are choices), SYNO.SDS.App.FileStation3.Instance "File Station"
// (File Station's application id in DSM; that it is in the catalogue
// and granted by default is a choice). Sorted by id.
var appCatalogue = []catalogueEntry{
	{"SYNO.AFP", "AFP", true},
	{"SYNO.Desktop", "DSM", true},
	{"SYNO.FTP", "FTP", true},
	{"SYNO.Finder.Application", "Universal Search", false},
	{"SYNO.Rsync", "rsync", true},
	{"SYNO.SDS.App.FileStation3.Instance", "File Station", true},
	{"SYNO.SFTP", "SFTP", true},
}

func catalogueApp(id string) *catalogueEntry {
	for i := range appCatalogue {
		if appCatalogue[i].id == id {
			return &appCatalogue[i]
		}
	}
	return nil
}

// appRule is one stored rule: the addresses allowed and denied.
type appRule struct {
	Allow []string `json:"allow_ip"`
	Deny  []string `json:"deny_ip"`
}

// anyAddress is DSM's "every address" in a rule (dsmaccess).
const anyAddress = "0.0.0.0"

// check holds a rule to what the simulator takes: at least one address,
// at most maxRuleAddresses, each "0.0.0.0", an IP address or a masked
// prefix (which forms DSM takes beyond the first two is not known; a
// prefix is a choice).
func (r appRule) check() error {
	n := len(r.Allow) + len(r.Deny)
	if n == 0 || n > maxRuleAddresses {
		return errors.New("no address or too many")
	}
	for _, a := range slices.Concat(r.Allow, r.Deny) {
		if a == anyAddress {
			continue
		}
		if _, err := netip.ParseAddr(a); err == nil {
			continue
		}
		if p, err := netip.ParsePrefix(a); err == nil && p.Masked() == p {
			continue
		}
		return errors.New("bad address")
	}
	return nil
}

// appRecord is one application of SYNO.Core.AppPriv.App list, in the
// shape of N4S4's example answer.
type appRecord struct {
	AppID          string   `json:"app_id"`
	GrantByDefault bool     `json:"grant_by_default"`
	GrantType      []string `json:"grant_type"`
	IsInternal     bool     `json:"isInternal"`
	Name           string   `json:"name"`
	ServiceType    string   `json:"service_type"`
	SupportIP      bool     `json:"supportIP"`
}

// appList answers SYNO.Core.AppPriv.App list {offset, limit}:
// {applications, offset, total}.
func (s *Server) appList(q *request) (any, error) {
	offset, limit, err := q.page()
	if err != nil {
		return nil, err
	}
	apps := make([]appRecord, 0, len(appCatalogue))
	for _, a := range appCatalogue {
		apps = append(apps, appRecord{AppID: a.id, GrantByDefault: a.grantByDefault, GrantType: []string{"local", "domain", "ldap"},
			IsInternal: true, Name: a.name, ServiceType: "modules/LegacyApps", SupportIP: true})
	}
	return map[string]any{"applications": pageOf(apps, offset, limit), "offset": offset, "total": len(apps)}, nil
}

// ruleEntity finds the user or group of entity_type and entity_name:
// 3400 for a missing or unknown type, 3403 for an unknown name.
func (s *Server) ruleEntity(typ, name string) (owner, string, error) {
	switch typ {
	case "user":
		if u := s.st.userByName(name); u != nil {
			return userOwner(u), u.name, nil
		}
		return owner{}, "", fail(codeAppPrivNoSuchEntity)
	case "group":
		if g := s.st.groupByName(name); g != nil {
			return groupOwner(g), g.name, nil
		}
		return owner{}, "", fail(codeAppPrivNoSuchEntity)
	}
	return owner{}, "", fail(codeAppPrivBadParameter)
}

// ruleRecord is one rule of SYNO.Core.AppPriv.Rule get.
type ruleRecord struct {
	AppID      string   `json:"app_id"`
	AllowIP    []string `json:"allow_ip"`
	DenyIP     []string `json:"deny_ip"`
	EntityName string   `json:"entity_name"`
	EntityType string   `json:"entity_type"`
}

// ruleGet answers SYNO.Core.AppPriv.Rule get {entity_type, entity_name}:
// {rules}, the entity's own rules sorted by app id.
func (s *Server) ruleGet(q *request) (any, error) {
	if !q.has("entity_type") || !q.has("entity_name") {
		return nil, fail(codeAppPrivBadParameter)
	}
	typ := q.str("entity_type")
	o, name, err := s.ruleEntity(typ, q.str("entity_name"))
	if err != nil {
		return nil, err
	}
	rules := []ruleRecord{}
	if p := s.st.profiles.get(o); p != nil {
		for _, a := range appCatalogue {
			if r, ok := p.rules[a.id]; ok {
				rules = append(rules, ruleRecord{AppID: a.id, AllowIP: slices.Clone(r.Allow), DenyIP: slices.Clone(r.Deny), EntityName: name, EntityType: typ})
			}
		}
	}
	return map[string]any{"rules": rules}, nil
}

// ruleList answers SYNO.Core.AppPriv.Rule list {app_id}: {rules}, every
// rule of one application, as the NAS write-up above recorded it: the
// rule of everyone first (allow from 0.0.0.0 for an application granted
// by default; none otherwise, a choice), then the users' rules by name,
// then the groups' (the order beyond the first is a choice). An
// application outside the catalogue is 3400.
func (s *Server) ruleList(q *request) (any, error) {
	app := catalogueApp(q.str("app_id"))
	if app == nil {
		return nil, fail(codeAppPrivBadParameter)
	}
	rules := []ruleRecord{}
	if app.grantByDefault {
		rules = append(rules, ruleRecord{AppID: app.id, AllowIP: []string{anyAddress}, DenyIP: []string{}, EntityName: "everyone", EntityType: "everyone"})
	}
	for _, u := range s.st.sortedUsers() {
		if p := s.st.profiles.get(userOwner(u)); p != nil {
			if r, ok := p.rules[app.id]; ok {
				rules = append(rules, ruleRecord{AppID: app.id, AllowIP: slices.Clone(r.Allow), DenyIP: slices.Clone(r.Deny), EntityName: u.name, EntityType: "user"})
			}
		}
	}
	for _, g := range s.st.sortedGroups() {
		if p := s.st.profiles.get(groupOwner(g)); p != nil {
			if r, ok := p.rules[app.id]; ok {
				rules = append(rules, ruleRecord{AppID: app.id, AllowIP: slices.Clone(r.Allow), DenyIP: slices.Clone(r.Deny), EntityName: g.name, EntityType: "group"})
			}
		}
	}
	return map[string]any{"rules": rules}, nil
}

// ruleParam is one rule of set and delete.
type ruleParam struct {
	AppID      string    `json:"app_id"`
	EntityType string    `json:"entity_type"`
	EntityName string    `json:"entity_name"`
	AllowIP    *[]string `json:"allow_ip"`
	DenyIP     *[]string `json:"deny_ip"`
}

// rulesParam reads the rules parameter: 3400 when it is missing, empty,
// too long or names an application outside the catalogue, 3405 when it
// is not a JSON list of rules, 3403 for an unknown entity (choices).
func (s *Server) rulesParam(q *request) ([]ruleParam, []owner, error) {
	if !q.has("rules") {
		return nil, nil, fail(codeAppPrivBadParameter)
	}
	var rules []ruleParam
	if err := json.Unmarshal([]byte(q.params.Get("rules")), &rules); err != nil {
		return nil, nil, fail(codeAppPrivBadFormat)
	}
	if len(rules) == 0 || len(rules) > maxRowsPerCall {
		return nil, nil, fail(codeAppPrivBadParameter)
	}
	owners := make([]owner, len(rules))
	for i, r := range rules {
		if catalogueApp(r.AppID) == nil {
			return nil, nil, fail(codeAppPrivBadParameter)
		}
		o, _, err := s.ruleEntity(r.EntityType, r.EntityName)
		if err != nil {
			return nil, nil, err
		}
		owners[i] = o
	}
	return rules, owners, nil
}

// ruleSet answers SYNO.Core.AppPriv.Rule set {rules}: each rule replaces
// the entity's rule for its application; all are checked first. A rule
// without both address lists, with none or too many addresses, or with
// an address the simulator does not take is 3400 (DSM has no empty
// rule: dsmaccess).
func (s *Server) ruleSet(q *request) (any, error) {
	rules, owners, err := s.rulesParam(q)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if r.AllowIP == nil || r.DenyIP == nil || (appRule{*r.AllowIP, *r.DenyIP}).check() != nil {
			return nil, fail(codeAppPrivBadParameter)
		}
	}
	for i, r := range rules {
		s.st.profiles.edit(owners[i]).rules[r.AppID] = appRule{Allow: slices.Clone(*r.AllowIP), Deny: slices.Clone(*r.DenyIP)}
	}
	s.dirty = true
	return nil, nil
}

// ruleDelete answers SYNO.Core.AppPriv.Rule delete {rules}: the
// entities' rules for those applications go, which returns them to the
// default (dsmaccess). Deleting a rule that does not exist is no error
// (a choice).
func (s *Server) ruleDelete(q *request) (any, error) {
	rules, owners, err := s.rulesParam(q)
	if err != nil {
		return nil, err
	}
	for i, r := range rules {
		if p := s.st.profiles.get(owners[i]); p != nil {
			if _, ok := p.rules[r.AppID]; ok {
				delete(s.st.profiles.edit(owners[i]).rules, r.AppID)
				s.dirty = true
			}
		}
	}
	return nil, nil
}

package dsm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// APIInfo is one entry of SYNO.API.Info: where an API is served and which
// versions the server speaks.
type APIInfo struct {
	Path          string `json:"path"`
	MinVersion    int    `json:"minVersion"`
	MaxVersion    int    `json:"maxVersion"`
	RequestFormat string `json:"requestFormat,omitempty"`
}

// versionRange is the range of versions of an API this client speaks.
type versionRange struct{ min, max int }

// knownAPIs are the APIs this package speaks, with the versions it
// implements. Discovery asks the server for exactly these names.
var knownAPIs = map[string]versionRange{
	"SYNO.API.Auth":                  {6, 7},
	"SYNO.API.Auth.UIConfig":         {1, 1},
	"SYNO.API.Encryption":            {1, 1},
	"SYNO.Core.NormalUser":           {1, 1},
	"SYNO.Core.User":                 {1, 1},
	"SYNO.Core.User.Group":           {1, 1},
	"SYNO.Core.User.PasswordPolicy":  {1, 1},
	"SYNO.Core.User.PasswordExpiry":  {1, 1},
	"SYNO.Core.User.PasswordConfirm": {2, 2},
	"SYNO.Core.User.PasswordMeter":   {1, 1},
	"SYNO.Core.User.UsernamePolicy":  {1, 1},
	"SYNO.Core.Group":                {1, 1},
	"SYNO.Core.Group.Member":         {1, 1},
	"SYNO.Entry.Request":             {1, 2},
	"SYNO.Core.Share":                {1, 1},
	"SYNO.Core.Share.Permission":     {1, 1},
	"SYNO.Core.User.Home":            {1, 1},
	// Quotas, application privileges and speed limits: the versions
	// DSM's own user dialog calls (DSM 6.2.3 admin_center.js, loadDetail
	// and serializeApplyData); BandwidthControl get is
	// called at 2 and set at 1 by the services. AppPriv.App list is
	// called at the highest version offered (3 on DSM 7), as
	// math65/dsmaccess (DSMAPI.swift, DSM 7.4) and N4S4/synology-api do:
	// the shapes on record are of that version.
	"SYNO.Core.Quota":            {1, 1},
	"SYNO.Core.Share.Quota":      {1, 1},
	"SYNO.Core.AppPriv.App":      {1, 3},
	"SYNO.Core.AppPriv.Rule":     {1, 1},
	"SYNO.Core.BandwidthControl": {1, 2},
	// 2-step verification and sign-in protection (twofa.go, security.go):
	// SYNO.Core.OTP version 2 as ApaipaiLtd/dsm_helper calls it.
	"SYNO.Core.OTP":                      {1, 2},
	"SYNO.Core.OTP.Admin":                {1, 1},
	"SYNO.Core.OTP.EnforcePolicy":        {1, 1},
	"SYNO.Core.TrustDevice":              {1, 1},
	"SYNO.Core.Security.AutoBlock":       {1, 1},
	"SYNO.Core.Security.AutoBlock.Rules": {1, 1},
	"SYNO.Core.SmartBlock":               {1, 1},
	"SYNO.Core.SmartBlock.Untrusted":     {1, 1},
	// DSM 5 serves version 1 at dsm/info.cgi, DSM 6 and 7 version 2 only
	// (kwent/syno definitions; mib1185/py-synologydsm-api API lists).
	"SYNO.DSM.Info": {1, 2},
}

// infoAPIName is the API of discovery.
const infoAPIName = "SYNO.API.Info"

// infoAPI is served at a fixed path on every DSM; it needs no discovery.
var infoAPI = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"}

// APITable is what SYNO.API.Info said of the APIs this client knows, and
// the DSM build it was read from. Saved with a session and given back to
// WithAPIInfo, it spares every later client of the same NAS its discovery
// request. It holds no secret.
type APITable struct {
	// Build is the build number of the DSM the table was read from
	// (SystemInfo.Version.Build), 0 when not known.
	Build int `json:"build,omitempty"`
	// APIs maps an API name to where it is served and its versions.
	APIs map[string]APIInfo `json:"apis"`
}

// Equal reports whether t and u say the same.
func (t APITable) Equal(u APITable) bool { return t.Build == u.Build && maps.Equal(t.APIs, u.APIs) }

func (t APITable) validate() error {
	if len(t.APIs) == 0 {
		return errors.New("the table is empty; leave the option out to discover the APIs")
	}
	if t.Build < 0 {
		return fmt.Errorf("build %d is negative", t.Build)
	}
	for name, ai := range t.APIs {
		switch {
		case name == "" || strings.ContainsAny(name, " \t\r\n&=?/"):
			return fmt.Errorf("%q is not an API name", name)
		case ai.MinVersion < 1 || ai.MaxVersion < ai.MinVersion:
			return fmt.Errorf("%s: versions %d to %d are not a range from 1 up", name, ai.MinVersion, ai.MaxVersion)
		case ai.Path != "" && (strings.Contains(ai.Path, "..") || strings.HasPrefix(ai.Path, "/") || strings.ContainsAny(ai.Path, " \t\r\n?#")):
			return fmt.Errorf("%s: path %q is not a CGI under /webapi", name, ai.Path)
		}
	}
	return nil
}

// WithAPIInfo gives the client the API table of an earlier client of the
// same NAS (Client.APITable), so that it makes no SYNO.API.Info request.
// Should the NAS answer a call with 102, 103 or 104 (no such API, method
// or version), or the table list an API in versions this client does not
// speak, the client reads the table again, once, and repeats the call; when SystemService.Info reports
// another DSM build than the table's, the table is read again on the next
// call. Save Client.APITable after the calls, and it stays current.
func WithAPIInfo(t APITable) Option {
	return func(c *clientConfig) error {
		if err := t.validate(); err != nil {
			return fmt.Errorf("WithAPIInfo: %w", err)
		}
		t.APIs = maps.Clone(t.APIs)
		c.apis = &t
		return nil
	}
}

// remember takes t as the API table, as if the known APIs had been asked.
func (c *Client) remember(t APITable) {
	c.infoMu.Lock()
	defer c.infoMu.Unlock()
	maps.Copy(c.info, t.APIs)
	for name := range knownAPIs {
		c.asked[name] = true
	}
	for name := range t.APIs {
		c.asked[name] = true
	}
	c.remembered, c.infoBuild = true, t.Build
}

// forgetRememberedAPIs drops a table given by WithAPIInfo that has not
// been read again yet, and reports whether it did: the next call reads
// the table from the NAS.
func (c *Client) forgetRememberedAPIs() bool {
	c.infoMu.Lock()
	defer c.infoMu.Unlock()
	if !c.remembered {
		return false
	}
	c.forgetAPIsLocked()
	return true
}

func (c *Client) forgetAPIsLocked() {
	clear(c.info)
	clear(c.asked)
	c.remembered = false
}

// noteBuild records the DSM build SystemService.Info reported; a table
// read from another build is dropped, to be read again.
func (c *Client) noteBuild(build int) {
	if build == 0 {
		return
	}
	c.infoMu.Lock()
	defer c.infoMu.Unlock()
	if c.infoBuild != 0 && c.infoBuild != build {
		c.forgetAPIsLocked()
	}
	c.infoBuild = build
}

// APITable returns the API table the client holds, with the DSM build
// when it is known, for WithAPIInfo to give to a later client; false
// when the client has not read it yet (it makes no request).
func (c *Client) APITable() (APITable, bool) {
	c.infoMu.Lock()
	defer c.infoMu.Unlock()
	for name := range knownAPIs {
		if !c.asked[name] {
			return APITable{}, false
		}
	}
	if len(c.info) == 0 {
		return APITable{}, false
	}
	return APITable{Build: c.infoBuild, APIs: maps.Clone(c.info)}, true
}

// APIs returns what the server said of the APIs this client knows, asking
// SYNO.API.Info once per client (not at all with a table from
// WithAPIInfo).
func (c *Client) APIs(ctx context.Context) (map[string]APIInfo, error) {
	if err := c.discover(ctx, "", nil); err != nil {
		return nil, err
	}
	c.infoMu.Lock()
	defer c.infoMu.Unlock()
	out := make(map[string]APIInfo, len(c.info))
	for k, v := range c.info {
		out[k] = v
	}
	return out, nil
}

// discover fills the cache with the known APIs, plus extra when it is an
// API the cache has not asked about. One discovery runs at a time; the
// lock also makes concurrent first calls share one request. The request
// carries s, the session of the call it is for (nil for none).
func (c *Client) discover(ctx context.Context, extra string, s *session) error {
	c.infoMu.Lock()
	defer c.infoMu.Unlock()
	var names []string
	full := len(c.asked) == 0
	if full {
		for name := range knownAPIs {
			names = append(names, name)
		}
	}
	if extra != "" && !c.asked[extra] {
		if _, known := knownAPIs[extra]; !known || len(names) == 0 {
			names = append(names, extra)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	got := map[string]APIInfo{}
	if err := c.exchange(ctx, infoRequest(names, &got), s); err != nil {
		return err
	}
	for _, n := range names {
		c.asked[n] = true
	}
	for k, v := range got {
		c.info[k] = v
	}
	if full {
		c.remembered = false
	}
	return nil
}

// resolve returns where api is served and the version to call: want when
// non-zero, otherwise the highest version both sides speak. A discovery
// it needs carries s.
func (c *Client) resolve(ctx context.Context, api string, want int, s *session) (APIInfo, int, error) {
	if api == infoAPIName {
		return infoAPI, 1, nil
	}
	if api == "" || strings.ContainsAny(api, " \t\r\n&=?/") {
		return APIInfo{}, 0, argErrorf("call", "%q is not an API name", api)
	}
	c.infoMu.Lock()
	ai, ok := c.info[api]
	asked := c.asked[api]
	c.infoMu.Unlock()
	if !ok && !asked {
		if err := c.discover(ctx, api, s); err != nil {
			return APIInfo{}, 0, err
		}
		c.infoMu.Lock()
		ai, ok = c.info[api]
		c.infoMu.Unlock()
	}
	cr, known := knownAPIs[api]
	if !known {
		cr = versionRange{1, 1}
	}
	if want != 0 {
		cr = versionRange{want, want}
	}
	if !ok {
		return APIInfo{}, 0, &VersionError{API: api, ClientMin: cr.min, ClientMax: cr.max}
	}
	v := min(cr.max, ai.MaxVersion)
	if v < max(cr.min, ai.MinVersion) {
		return APIInfo{}, 0, &VersionError{API: api, ClientMin: cr.min, ClientMax: cr.max, ServerMin: ai.MinVersion, ServerMax: ai.MaxVersion}
	}
	if ai.Path == "" {
		ai.Path = "entry.cgi"
	}
	return ai, v, nil
}

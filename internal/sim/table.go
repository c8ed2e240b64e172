package sim

// apiDef is one API as SYNO.API.Info describes it, with its methods.
type apiDef struct {
	name       string
	path       string
	minVersion int
	maxVersion int
	jsonFormat bool // requestFormat "JSON": values are read as JSON, falling back to the raw string
	methods    map[string]*methodDef
}

// methodDef is one (API, method) handler and what it requires.
type methodDef struct {
	minVersion, maxVersion int  // 0: the API's range
	session                bool // needs a live session (119 without)
	mutates                bool // changes state: needs the SynoToken when the session has one (403)
	admin                  bool // administrators only (105)
	change                 bool // changes users, groups or policies: refused (105) to a limited session (a remote client without the secure sign-in, N4S4/synology-api issue #239)
	handle                 func(*Server, *request) (any, error)
}

// apiTable is every API the simulator serves, keyed by name. It is built
// in init because handlers (Info) read it.
var apiTable map[string]*apiDef

func init() {
	const entry = "entry.cgi"
	public := func(h func(*Server, *request) (any, error)) *methodDef {
		return &methodDef{handle: h}
	}
	anyUser := func(h func(*Server, *request) (any, error)) *methodDef {
		return &methodDef{session: true, handle: h}
	}
	adminRead := func(h func(*Server, *request) (any, error)) *methodDef {
		return &methodDef{session: true, admin: true, handle: h}
	}
	adminWrite := func(h func(*Server, *request) (any, error)) *methodDef {
		return &methodDef{session: true, admin: true, mutates: true, change: true, handle: h}
	}
	userWrite := func(h func(*Server, *request) (any, error)) *methodDef {
		return &methodDef{session: true, mutates: true, handle: h}
	}

	defs := []*apiDef{
		{name: "SYNO.API.Info", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"query": public((*Server).infoQuery),
		}},
		{name: "SYNO.API.Auth", path: entry, minVersion: 1, maxVersion: 7, methods: map[string]*methodDef{
			"login":  public((*Server).login),
			"logout": public((*Server).logout),
		}},
		{name: "SYNO.API.Auth.Type", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get": public((*Server).authTypeGet),
		}},
		{name: "SYNO.API.Auth.UIConfig", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get": public((*Server).uiConfigGet),
		}},
		{name: "SYNO.API.Encryption", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"getinfo": public((*Server).encryptionGetinfo),
		}},
		{name: "SYNO.DSM.Info", path: entry, minVersion: 2, maxVersion: 2, jsonFormat: true, methods: map[string]*methodDef{
			"getinfo": anyUser((*Server).dsmInfoGetinfo),
		}},
		{name: "SYNO.Entry.Request", path: entry, minVersion: 1, maxVersion: 2, jsonFormat: true, methods: map[string]*methodDef{
			"request": anyUser((*Server).entryRequest),
		}},
		{name: "SYNO.Core.Share", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"list":   adminRead((*Server).shareList),
			"get":    adminRead((*Server).shareGet),
			"create": adminWrite((*Server).shareCreate),
			"delete": adminWrite((*Server).shareDelete),
		}},
		{name: "SYNO.Core.Share.Permission", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"list":              adminRead((*Server).permissionList),
			"list_by_user":      adminRead((*Server).permissionListByUser),
			"list_by_group":     adminRead((*Server).permissionListByGroup),
			"set":               adminWrite((*Server).permissionSet),
			"set_by_user_group": adminWrite((*Server).permissionSetByUserGroup),
		}},
		{name: "SYNO.Core.Storage.Volume", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"list": adminRead((*Server).volumeList),
		}},
		{name: "SYNO.Core.User.Home", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get":    adminRead((*Server).homeGet),
			"set":    adminWrite((*Server).homeSet),
			"status": adminRead((*Server).homeStatus),
		}},
		{name: "SYNO.Core.User", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"list":   adminRead((*Server).userList),
			"get":    adminRead((*Server).userGet),
			"create": adminWrite((*Server).userCreate),
			"set":    adminWrite((*Server).userSet),
			"delete": adminWrite((*Server).userDelete),
			// DSM's own import (userimport.go). DSM 7's table: v1, admin
			// only, parse_user_list with allowUpload (kwent/syno
			// definitions/7.x/_full.json).
			"parse_user_list": adminRead((*Server).userParseList),
			"import":          adminWrite((*Server).userImport),
			"import_status":   adminRead((*Server).userImportStatus),
			"import_stop":     adminWrite((*Server).userImportStop),
		}},
		{name: "SYNO.Core.User.Group", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"join":        adminWrite((*Server).userGroupJoin),
			"join_status": adminRead((*Server).userGroupJoinStatus),
			"join_list":   adminRead((*Server).userGroupJoinList),
			"join_stop":   adminWrite((*Server).userGroupJoinStop),
		}},
		{name: "SYNO.Core.User.PasswordPolicy", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get": adminRead((*Server).passwordPolicyGet),
			"set": adminWrite((*Server).passwordPolicySet),
			// DSM's table opens check to every user (kwent/syno definitions/7.x).
			"check": anyUser((*Server).passwordPolicyCheck),
		}},
		{name: "SYNO.Core.User.PasswordExpiry", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get": adminRead((*Server).passwordExpiryGet),
			"set": adminWrite((*Server).passwordExpirySet),
		}},
		{name: "SYNO.Core.User.PasswordConfirm", path: entry, minVersion: 1, maxVersion: 2, jsonFormat: true, methods: map[string]*methodDef{
			"auth": userWrite((*Server).passwordConfirmAuth),
		}},
		{name: "SYNO.Core.User.PasswordMeter", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"evaluate": anyUser((*Server).passwordMeterEvaluate),
		}},
		{name: "SYNO.Core.User.UsernamePolicy", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get":  adminRead((*Server).usernamePolicy),
			"list": adminRead((*Server).usernamePolicy),
		}},
		{name: "SYNO.Core.Group", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"list":   adminRead((*Server).groupList),
			"get":    adminRead((*Server).groupGet),
			"create": adminWrite((*Server).groupCreate),
			"set":    adminWrite((*Server).groupSet),
			"delete": adminWrite((*Server).groupDelete),

			"admin_check": adminRead((*Server).groupAdminCheck),
		}},
		{name: "SYNO.Core.Group.Member", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"list":   adminRead((*Server).groupMemberList),
			"add":    adminWrite((*Server).groupMemberAdd),
			"remove": adminWrite((*Server).groupMemberRemove),
			"change": adminWrite((*Server).groupMemberChange),

			"admin_check": adminRead((*Server).groupMemberAdminCheck),
		}},
		// Quotas, application privileges, speed limits (quotas.go,
		// apps.go, speed.go). Versions: DSM 7's table (kwent/syno
		// definitions/7.x/_full.json: AppPriv.App v1-3,
		// BandwidthControl v1 list/get/set and v2 get).
		{name: "SYNO.Core.Quota", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get": adminRead((*Server).quotaGet),
			"set": adminWrite((*Server).quotaSet),
		}},
		{name: "SYNO.Core.Share.Quota", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"list": adminRead((*Server).shareQuotaList),
			"set":  adminWrite((*Server).shareQuotaSet),
		}},
		{name: "SYNO.Core.AppPriv.App", path: entry, minVersion: 1, maxVersion: 3, jsonFormat: true, methods: map[string]*methodDef{
			"list": adminRead((*Server).appList),
		}},
		{name: "SYNO.Core.AppPriv.Rule", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get":    adminRead((*Server).ruleGet),
			"set":    adminWrite((*Server).ruleSet),
			"delete": adminWrite((*Server).ruleDelete),
			"list":   adminRead((*Server).ruleList),
		}},
		{name: "SYNO.Core.BandwidthControl", path: entry, minVersion: 1, maxVersion: 2, jsonFormat: true, methods: map[string]*methodDef{
			"get": adminRead((*Server).speedGet),
			"set": {session: true, admin: true, mutates: true, change: true, minVersion: 1, maxVersion: 1, handle: (*Server).speedSet},
		}},
		// 2-step verification and sign-in protection (otp.go, security.go).
		{name: "SYNO.Core.OTP", path: entry, minVersion: 1, maxVersion: 2, jsonFormat: true, methods: map[string]*methodDef{
			"get_qrcode":    anyUser((*Server).otpGetQRCode),
			"auth_tmp_code": userWrite((*Server).otpAuthTmpCode),
			"get_one":       anyUser((*Server).otpGetOne),
			"disable":       userWrite((*Server).otpDisable),
		}},
		{name: "SYNO.Core.OTP.Admin", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get":   adminRead((*Server).otpAdminGet),
			"reset": adminWrite((*Server).otpAdminReset),
		}},
		{name: "SYNO.Core.OTP.EnforcePolicy", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get": adminRead((*Server).enforcePolicyGet),
			"set": adminWrite((*Server).enforcePolicySet),
		}},
		{name: "SYNO.Core.TrustDevice", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get":    anyUser((*Server).trustDeviceGet),
			"delete": userWrite((*Server).trustDeviceDelete),
		}},
		{name: "SYNO.Core.Security.AutoBlock", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get": adminRead((*Server).autoBlockGet),
			"set": adminWrite((*Server).autoBlockSet),
		}},
		{name: "SYNO.Core.Security.AutoBlock.Rules", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"list":   adminRead((*Server).autoBlockRulesList),
			"create": adminWrite((*Server).autoBlockRulesCreate),
			"delete": adminWrite((*Server).autoBlockRulesDelete),
		}},
		{name: "SYNO.Core.SmartBlock", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"get": adminRead((*Server).smartBlockGet),
			"set": adminWrite((*Server).smartBlockSet),
		}},
		{name: "SYNO.Core.SmartBlock.Untrusted", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"list":   adminRead((*Server).smartBlockUntrustedList),
			"pardon": adminWrite((*Server).smartBlockUntrustedPardon),
		}},
		{name: "SYNO.Core.SmartBlock.Trusted", path: entry, minVersion: 1, maxVersion: 1, jsonFormat: true, methods: map[string]*methodDef{
			"list":   adminRead((*Server).smartBlockTrustedList),
			"pardon": adminWrite((*Server).smartBlockTrustedPardon),
		}},
		{name: "SYNO.Core.NormalUser", path: entry, minVersion: 1, maxVersion: 2, jsonFormat: true, methods: map[string]*methodDef{
			"get": anyUser((*Server).normalUserGet),
			"set": userWrite((*Server).normalUserSet),
		}},
	}
	apiTable = make(map[string]*apiDef, len(defs))
	for _, d := range defs {
		apiTable[d.name] = d
	}
}

package dsm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors for the DSM codes a caller usually acts on. Every
// *APIError matches the sentinel of its code with errors.Is:
//
//	if errors.Is(err, dsm.ErrOTPRequired) { ... ask for a code ... }
var (
	// ErrWrongCredentials: no such account or incorrect password (400).
	ErrWrongCredentials = errors.New("dsm: no such account or incorrect password")
	// ErrAccountDisabled: the account is disabled (401).
	ErrAccountDisabled = errors.New("dsm: account disabled")
	// ErrOTPRequired: the account has 2-step verification and the login
	// needs a code (403). APIError.OTPTypes lists the offered methods.
	ErrOTPRequired = errors.New("dsm: 2-step verification code required")
	// ErrOTPRejected: the 2-step code was wrong or already used (404).
	ErrOTPRejected = errors.New("dsm: 2-step verification code rejected")
	// ErrOTPEnforced: 2-step verification must be set up first (406).
	ErrOTPEnforced = errors.New("dsm: 2-step verification must be set up first")
	// ErrIPBlocked: the client's address is blocked after too many failed
	// logins (407).
	ErrIPBlocked = errors.New("dsm: address blocked after too many failed logins")
	// ErrPasswordExpired: the password has expired or must be changed
	// (408, 409, 410).
	ErrPasswordExpired = errors.New("dsm: password expired")
	// ErrAccountLocked: the account is locked after failed logins (411).
	ErrAccountLocked = errors.New("dsm: account locked")
	// ErrPermissionDenied: the session lacks permission (105). It is not a
	// session problem and never triggers a new login.
	ErrPermissionDenied = errors.New("dsm: permission denied")
	// ErrSessionExpired: the session timed out, was ended by another login,
	// or is unknown (106, 107, 119).
	ErrSessionExpired = errors.New("dsm: session expired")
	// ErrUnsupported: the API, method or version does not exist on this
	// DSM (102, 103, 104), or no version is common to client and server.
	ErrUnsupported = errors.New("dsm: not supported by this DSM")
	// ErrBusy: the network is unstable or the system is busy; the call may
	// be retried (109, 110, 111, 117, 118).
	ErrBusy = errors.New("dsm: system busy")

	// ErrNoSuchUser: the user does not exist (3106).
	ErrNoSuchUser = errors.New("dsm: no such user")
	// ErrNameTaken: the user name exists already or is reserved (3107,
	// 3108, 3114).
	ErrNameTaken = errors.New("dsm: user name exists or is reserved")
	// ErrWeakPassword: the password fails the password policy (3121-3124,
	// 2723).
	ErrWeakPassword = errors.New("dsm: password rejected by the password policy")
	// ErrLastAdmin: the change would leave no enabled administrator (3109,
	// 3210).
	ErrLastAdmin = errors.New("dsm: would leave no enabled administrator")
	// ErrSystemAccount: default and system accounts cannot be deleted
	// (3115).
	ErrSystemAccount = errors.New("dsm: system or default account")
	// ErrNoSuchGroup: the group does not exist (3204, 3205: DSM fails to
	// load its data).
	ErrNoSuchGroup = errors.New("dsm: no such group")
	// ErrGroupNameTaken: the group name exists already or is reserved
	// (3206, 3207).
	ErrGroupNameTaken = errors.New("dsm: group name exists or is reserved")
	// ErrShareExists: a shared folder of that name exists already (3301
	// from SYNO.Core.Share).
	ErrShareExists = errors.New("dsm: shared folder exists")
	// ErrQuotaTooLarge: DSM could not set a quota (3117, DSM's
	// user_quota_set_fail), as when it exceeds the free space of its
	// volume (DSM 6.2.3 admin_center.js: the import dialog stops on 3117,
	// "quota exceeds free space").
	ErrQuotaTooLarge = errors.New("dsm: quota not set: more than the volume's free space")

	// The refusals of DSM's own import (SYNO.Core.User parse_user_list,
	// import_status; codes from DSM 6.2.3's import dialog, admin_center.js
	// of the firmware tree tbc0309/DSM_DS120j_25426).

	// ErrImportSyntax: the user list breaks DSM's quoting or field rules
	// (3130, 3131, 3132); APIError.InvalidField names the field.
	ErrImportSyntax = errors.New("dsm: syntax error in the user list")
	// ErrImportUnreadable: DSM could not open the uploaded list (3191).
	ErrImportUnreadable = errors.New("dsm: the user list could not be opened")
	// ErrImportEmpty: the uploaded list has no user (3192).
	ErrImportEmpty = errors.New("dsm: the user list is empty")
	// ErrImportNotUTF8: the uploaded list is not UTF-8 (3193).
	ErrImportNotUTF8 = errors.New("dsm: the user list is not UTF-8")
	// ErrImportNoVolume: the NAS has no volume to import users onto (3194).
	ErrImportNoVolume = errors.New("dsm: no volume")
	// ErrUserSetupFailed: DSM failed to set up a user (3116), as an
	// import does when a row cannot be applied.
	ErrUserSetupFailed = errors.New("dsm: user setup failed")
)

// securityMessages are the codes of the 2-step and sign-in protection
// APIs (SYNO.Core.OTP*, SYNO.Core.Security.*, SYNO.Core.SmartBlock*).
var securityMessages = map[int]string{
	// math65/dsmaccess (DSM 7.4): AutoBlock.Rules list without action
	// "load" and a type.
	5100: "the request lacks its action or type",
	// SYNO.Core.OTP auth_tmp_code: a code that is not the new seed's.
	404: "2-step verification code rejected",
}

// isSecurityAPI reports whether api is one of securityMessages' APIs.
func isSecurityAPI(api string) bool {
	return strings.HasPrefix(api, "SYNO.Core.OTP") || strings.HasPrefix(api, "SYNO.Core.Security.") || strings.HasPrefix(api, "SYNO.Core.SmartBlock")
}

// APIError is an error answer of the DSM Web API: an HTTP 200 envelope
// with "success": false.
type APIError struct {
	// Code is DSM's error code.
	Code int
	// API and Method name the call that failed.
	API, Method string
	// Details holds the "errors" member of the answer, if any, as DSM
	// sent it.
	Details json.RawMessage
}

// Error returns a message naming the call, the code and DSM's meaning of it.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("dsm: ")
	if e.API != "" {
		b.WriteString(e.API)
		if e.Method != "" {
			b.WriteString(" ")
			b.WriteString(e.Method)
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "code %d: %s", e.Code, CodeMessage(e.API, e.Code))
	if types := e.OTPTypes(); len(types) > 0 {
		fmt.Fprintf(&b, " (offered: %s)", strings.Join(types, ", "))
	}
	return b.String()
}

// Is reports whether target is the sentinel error of e's code.
func (e *APIError) Is(target error) bool {
	s := sentinelFor(e.API, e.Code)
	return s != nil && s == target
}

// OTPTypes returns the 2-step verification methods DSM offered with a 403
// answer ("authenticator", "fido", "otp", ...), or nil.
func (e *APIError) OTPTypes() []string {
	if e.Code != 403 || len(e.Details) == 0 {
		return nil
	}
	var d struct {
		Types []struct {
			Type string `json:"type"`
		} `json:"types"`
	}
	if json.Unmarshal(e.Details, &d) != nil {
		return nil
	}
	var out []string
	for _, t := range d.Types {
		// Only short plain words: the list ends up in messages.
		if t.Type != "" && len(t.Type) <= 32 && strings.Trim(t.Type, "abcdefghijklmnopqrstuvwxyz0123456789_-") == "" && len(out) < 8 {
			out = append(out, t.Type)
		}
	}
	return out
}

// commonMessages are the codes every API shares, as Synology's Web API
// guides (DSM Login Web API Guide, File Station API guide) list them.
var commonMessages = map[int]string{
	100: "unknown error",
	101: "missing api, method or version, or malformed request",
	102: "the requested API does not exist",
	103: "the requested method does not exist",
	104: "the requested version does not support this function",
	105: "this session does not have permission",
	106: "session timed out",
	107: "session interrupted by a duplicate login",
	108: "failed to upload the file",
	109: "the network connection is unstable or the system is busy",
	110: "the network connection is unstable or the system is busy",
	111: "the network connection is unstable or the system is busy",
	114: "missing required parameters",
	115: "not allowed to upload a file",
	116: "not allowed to perform this on a demo site",
	117: "the network connection is unstable or the system is busy",
	118: "the network connection is unstable or the system is busy",
	119: "invalid session",
	120: "invalid parameter",
	150: "request source IP does not match the login IP",
	160: "insufficient application privilege",
}

// authMessages are the codes of SYNO.API.Auth.
var authMessages = map[int]string{
	400: "no such account or incorrect password",
	401: "account disabled",
	402: "permission denied",
	403: "2-step verification code required",
	404: "failed to authenticate 2-step verification code",
	405: "app portal incorrect",
	406: "2-step verification must be set up first",
	407: "source IP blocked after too many failed logins",
	408: "password expired and cannot be changed",
	409: "password expired",
	410: "password must be changed",
	411: "account locked",
}

// userMessages are the codes of SYNO.Core.User and SYNO.Core.Group and
// their sub-APIs.
var userMessages = map[int]string{
	2723: "password too short, weak, common or used before",
	3101: "invalid argument",
	3102: "some items failed",
	3103: "invalid value",
	3106: "no such user",
	3107: "user name exists",
	3108: "user name exists",
	3109: "would leave no active administrator",
	3110: "too many users",
	3114: "user name is reserved",
	3115: "default or system account cannot be deleted",
	3116: "user setup failed",
	// 3117 and 3118: DSM's message keys user_quota_set_fail and
	// error_no_enough_space (synology-community/go-synology
	// pkg/api/errors.go).
	3117: "failed to set the quota (more than the volume's free space)",
	3118: "not enough free space",
	3121: "password does not meet the password policy",
	3122: "password was used before",
	3123: "password not strong enough or too common",
	3124: "invalid password",
	// 3130-3132 and 3191-3194: DSM 6.2.3's import dialog (admin_center.js,
	// tbc0309/DSM_DS120j_25426); which syntax error each of 3130-3132 is,
	// is not known.
	3130: "syntax error in the user list",
	3131: "syntax error in the user list",
	3132: "syntax error in the user list",
	3191: "the user list could not be opened",
	3192: "the user list has no user",
	3193: "the user list is not UTF-8",
	3194: "no volume",
	3202: "another administrator is editing",
	3204: "failed to load the group data (no such group)",
	3205: "failed to load the group data (no such group)",
	3206: "group name exists",
	3207: "group name is reserved",
	3208: "invalid group name",
	3209: "too many groups",
	3210: "would remove the last administrator",
}

// shareMessages are the codes of SYNO.Core.Share and its sub-APIs, as
// batonogov/terraform-provider-synology-dsm (errors.go, share.go) saw
// them on DSM 7.4. Both 3300 and 3328 clear on their own: they match
// ErrBusy, and are retried.
var shareMessages = map[int]string{
	3300: "an earlier shared-folder change is still settling; try again in a few seconds",
	3301: "a shared folder of that name exists",
	3328: "another shared-folder change is in progress; try again",
	// Without user_group_type (math65/dsmaccess, DSM 7.4); also the
	// answer to a change without the SynoToken.
	403: "request refused: user_group_type missing, or missing or wrong SynoToken",
}

// homeMessages are the codes of SYNO.Core.User.Home (batonogov
// user_home.go, DSM 7.2.2 and 7.3.2).
var homeMessages = map[int]string{
	3101: "invalid home location: give a volume path such as /volume1, not a bare volume name",
	3103: "the location is missing (it is needed to enable the service) or a parameter is extra (disable takes none)",
}

// appPrivMessages are the codes of SYNO.Core.AppPriv and its sub-APIs, as
// DSM's message keys name them (synology-community/go-synology
// pkg/api/errors.go); a NAS answered 3400 to bad or missing parameters of
// SYNO.Core.AppPriv.Rule (internal/sim/apps.go cites the capture).
var appPrivMessages = map[int]string{
	3400: "system error (bad or missing parameters)",
	3401: "system error",
	3402: "system error",
	3403: "no such user or group",
	3404: "privilege not enough",
	3405: "wrong data format",
}

// CodeMessage returns DSM's meaning of code for api (the code tables of
// Synology's Web API guides and the codes clients tested on real NAS
// boxes report), or "unknown error code" when the code is not known.
func CodeMessage(api string, code int) string {
	if m, ok := commonMessages[code]; ok {
		return m
	}
	if m, ok := authMessages[code]; ok && (api == "" || strings.HasPrefix(api, "SYNO.API.Auth")) {
		return m
	}
	if m, ok := shareMessages[code]; ok && strings.HasPrefix(api, "SYNO.Core.Share") {
		return m
	}
	if m, ok := homeMessages[code]; ok && api == "SYNO.Core.User.Home" {
		return m
	}
	if m, ok := appPrivMessages[code]; ok && strings.HasPrefix(api, "SYNO.Core.AppPriv") {
		return m
	}
	if m, ok := securityMessages[code]; ok && isSecurityAPI(api) {
		return m
	}
	if m, ok := userMessages[code]; ok {
		return m
	}
	if code == 403 {
		// Outside SYNO.API.Auth, DSM 7.3.2 answers 403 to a mutating
		// call that lacks the SynoToken.
		return "request refused: missing or wrong SynoToken"
	}
	return "unknown error code"
}

func sentinelFor(api string, code int) error {
	if strings.HasPrefix(api, "SYNO.Core.Share") {
		switch code {
		case 3300, 3328:
			return ErrBusy
		case 3301:
			return ErrShareExists
		}
	}
	switch code {
	case 102, 103, 104:
		return ErrUnsupported
	case 105:
		return ErrPermissionDenied
	case 106, 107, 119:
		return ErrSessionExpired
	case 109, 110, 111, 117, 118:
		return ErrBusy
	case 3106:
		return ErrNoSuchUser
	case 3107, 3108, 3114:
		return ErrNameTaken
	case 3121, 3122, 3123, 3124, 2723:
		return ErrWeakPassword
	case 3109, 3210:
		return ErrLastAdmin
	case 3115:
		return ErrSystemAccount
	case 3204, 3205:
		return ErrNoSuchGroup
	case 3206, 3207:
		return ErrGroupNameTaken
	case 3117:
		return ErrQuotaTooLarge
	case 3116:
		return ErrUserSetupFailed
	case 3130, 3131, 3132:
		return ErrImportSyntax
	case 3191:
		return ErrImportUnreadable
	case 3192:
		return ErrImportEmpty
	case 3193:
		return ErrImportNotUTF8
	case 3194:
		return ErrImportNoVolume
	}
	if code == 404 && strings.HasPrefix(api, "SYNO.Core.OTP") {
		return ErrOTPRejected
	}
	if api != "" && !strings.HasPrefix(api, "SYNO.API.Auth") {
		return nil
	}
	switch code {
	case 400:
		return ErrWrongCredentials
	case 401:
		return ErrAccountDisabled
	case 403:
		return ErrOTPRequired
	case 404:
		return ErrOTPRejected
	case 406:
		return ErrOTPEnforced
	case 407:
		return ErrIPBlocked
	case 408, 409, 410:
		return ErrPasswordExpired
	case 411:
		return ErrAccountLocked
	}
	return nil
}

// VersionError reports that the client and the server share no version of
// an API, or that the server does not have the API at all. It matches
// ErrUnsupported with errors.Is.
type VersionError struct {
	API string
	// ClientMin and ClientMax are the versions this client speaks.
	ClientMin, ClientMax int
	// ServerMin and ServerMax are the versions the server offers; both are
	// 0 when the server does not list the API.
	ServerMin, ServerMax int
}

// Error says what failed and why.
func (e *VersionError) Error() string {
	if e.ServerMax == 0 {
		return fmt.Sprintf("dsm: the server does not offer %s (client speaks versions %d-%d)", e.API, e.ClientMin, e.ClientMax)
	}
	return fmt.Sprintf("dsm: no common version of %s: client speaks %d-%d, server offers %d-%d", e.API, e.ClientMin, e.ClientMax, e.ServerMin, e.ServerMax)
}

// Is makes a *VersionError match ErrUnsupported.
func (e *VersionError) Is(target error) bool { return target == ErrUnsupported }

// ErrInvalidArgument matches every *ArgError: the library refused an
// argument before making any call.
var ErrInvalidArgument = errors.New("dsm: invalid argument")

// ArgError reports an argument the library refused before sending
// anything to the NAS: a name DSM would refuse, a value out of DSM's
// range, an option that makes no sense. Nothing was sent and nothing
// changed. It matches ErrInvalidArgument with errors.Is, so a program can
// tell a mistake of its own from a refusal of the NAS:
//
//	var ae *dsm.ArgError
//	if errors.As(err, &ae) { ... fix the input, do not retry ... }
type ArgError struct {
	// Op names what was refused, such as "create user"; it is empty for
	// the errors of the Validate functions, which check one value.
	Op string
	// Reason says what is wrong and what to do.
	Reason string
}

// Error returns "dsm: Op: Reason", or just Reason when Op is empty.
func (e *ArgError) Error() string {
	if e.Op == "" {
		return e.Reason
	}
	return "dsm: " + e.Op + ": " + e.Reason
}

// Is makes an *ArgError match ErrInvalidArgument.
func (e *ArgError) Is(target error) bool { return target == ErrInvalidArgument }

// argError returns err, the failed check of a value, as the *ArgError of
// operation op.
func argError(op string, err error) error {
	var ae *ArgError
	if errors.As(err, &ae) && ae.Op == "" {
		return &ArgError{Op: op, Reason: ae.Reason}
	}
	return &ArgError{Op: op, Reason: err.Error()}
}

// argErrorf returns the *ArgError of operation op with a formatted reason.
func argErrorf(op, format string, args ...any) error {
	return &ArgError{Op: op, Reason: fmt.Sprintf(format, args...)}
}

// invalid returns the *ArgError of a Validate function: a reason without
// an operation.
func invalid(format string, args ...any) error {
	return &ArgError{Reason: fmt.Sprintf(format, args...)}
}

// ErrSecureSignInUnavailable matches every *SecureSignInError: DSM 7's
// secure sign-in (the Noise handshake of the login, see
// WithSecureSignIn) could not be done.
var ErrSecureSignInUnavailable = errors.New("dsm: DSM 7 secure sign-in unavailable")

// SecureSignInError reports why a login could not use DSM 7's secure
// sign-in. With SecureSignInRequired it is the login's error; with
// SecureSignInAuto the login goes on without the handshake and the
// reason is only traced at debug level. It matches
// ErrSecureSignInUnavailable with errors.Is, and, through Err, the DSM
// error that refused a login carrying the handshake. It never holds a key.
type SecureSignInError struct {
	// Reason says what was missing or wrong.
	Reason string
	// Err is the underlying failure, if any.
	Err error
}

// Error says why the handshake could not be done.
func (e *SecureSignInError) Error() string {
	return "dsm: DSM 7 secure sign-in unavailable: " + e.detail()
}

// detail is the reason and the underlying failure.
func (e *SecureSignInError) detail() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

// Unwrap returns the underlying failure.
func (e *SecureSignInError) Unwrap() error { return e.Err }

// Is makes a *SecureSignInError match ErrSecureSignInUnavailable.
func (e *SecureSignInError) Is(target error) bool { return target == ErrSecureSignInUnavailable }

// ErrLimitedSession matches every *LimitedSessionError: DSM refused a
// change (code 105) to a session opened without DSM 7's secure sign-in.
var ErrLimitedSession = errors.New("dsm: limited session")

// LimitedSessionError reports a change that DSM refused with code 105 in
// a session opened without DSM 7's secure sign-in. That is most probably
// the limited session DSM gives to such a sign-in from an address it
// counts as remote: reads work, changes are refused
// (N4S4/synology-api issue #239, fixed by the handshake in PR #282). It
// matches ErrLimitedSession and, as every 105, ErrPermissionDenied.
type LimitedSessionError struct {
	// Err is DSM's answer, code 105.
	Err *APIError
	// Reason says why the session has no secure sign-in.
	Reason string
}

// Error says what DSM refused, why that probably happened and what to do.
func (e *LimitedSessionError) Error() string {
	why := ""
	if e.Reason != "" {
		why = " (" + e.Reason + ")"
	}
	return fmt.Sprintf("%v: the session was opened without DSM 7's secure sign-in%s, and DSM gives such a session "+
		"limited rights when it comes from an address DSM counts as remote: reads work, changes are refused; "+
		"connect from the NAS's LAN, or use a network path (or a client) where the handshake works, "+
		"or make the client WithSecureSignIn(dsm.SecureSignInRequired) to learn why the handshake was not done "+
		"(if the account itself lacks the right, this is a plain permission denial)", e.Err, why)
}

// Unwrap returns DSM's answer, which matches ErrPermissionDenied.
func (e *LimitedSessionError) Unwrap() error { return e.Err }

// Is makes a *LimitedSessionError match ErrLimitedSession.
func (e *LimitedSessionError) Is(target error) bool { return target == ErrLimitedSession }

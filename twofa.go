package dsm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// TwoStepService sets up 2-step verification for the signed-in account,
// administers that of others, reads and sets the policy that enforces it,
// and manages the account's trusted devices.
type TwoStepService struct {
	c *Client
}

// TwoStepSetup is a new 2-step seed DSM made for the signed-in account, to
// put in an authenticator app and confirm with Confirm. Its fields are
// secrets: its String, GoString and JSON forms hide them.
type TwoStepSetup struct {
	// Account is the account name DSM puts in the authenticator app
	// ("alice@DiskStation").
	Account string
	secret  string
	// QRCode is DSM's image of the QR code of URI (PNG), or nil when DSM
	// sent none that decodes.
	QRCode []byte
}

// Secret returns the base32 seed: whoever has it can make codes.
func (t *TwoStepSetup) Secret() string { return t.secret }

// URI returns the otpauth://totp/ URI of the seed, as authenticator apps
// read it from a QR code: issuer "DSM" unless Account names a host.
func (t *TwoStepSetup) URI() string {
	issuer := "DSM"
	if i := strings.LastIndex(t.Account, "@"); i >= 0 && i < len(t.Account)-1 {
		issuer = t.Account[i+1:]
	}
	return "otpauth://totp/" + url.PathEscape(issuer+":"+t.Account) + "?secret=" + t.secret + "&issuer=" + url.QueryEscape(issuer)
}

// Key returns the seed as a code generator.
func (t *TwoStepSetup) Key() (*TOTPKey, error) { return TOTP(t.secret) }

// String hides the seed.
func (t TwoStepSetup) String() string {
	return fmt.Sprintf("dsm.TwoStepSetup{Account: %q, [secret redacted]}", t.Account)
}

// GoString hides the seed.
func (t TwoStepSetup) GoString() string { return t.String() }

// MarshalJSON hides the seed.
func (t TwoStepSetup) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"account": t.Account})
}

// Setup asks DSM for a new 2-step seed for the signed-in account. It is
// not in force until Confirm accepts a code of it; until then the
// account signs in as before.
//
// DSM: SYNO.Core.OTP get_qrcode.
func (s *TwoStepService) Setup(ctx context.Context) (*TwoStepSetup, error) {
	sess, ok := s.c.Auth.Session()
	if !ok {
		// Sign in first (with a call that changes nothing), to know the
		// account the seed is for.
		if _, err := s.Enabled(ctx); err != nil {
			return nil, err
		}
		sess, _ = s.c.Auth.Session()
	}
	account := sess.Account
	p := Params{}
	if account != "" {
		p["account"] = account
	}
	var d struct {
		AppAccount string `json:"appAccount"`
		Img        string `json:"img"`
		Key        string `json:"key"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.OTP", "get_qrcode", p, &d)); err != nil {
		return nil, err
	}
	secret := strings.ToUpper(strings.Join(strings.Fields(d.Key), ""))
	if _, err := TOTP(secret); err != nil {
		return nil, &MalformedError{API: "SYNO.Core.OTP", Method: "get_qrcode", Reason: "the answer's key is not a base32 seed"}
	}
	t := &TwoStepSetup{Account: d.AppAccount, secret: secret}
	if t.Account == "" {
		t.Account = account
	}
	img := d.Img
	if i := strings.Index(img, "base64,"); i >= 0 { // a data: URL
		img = img[i+len("base64,"):]
	}
	if b, err := base64.StdEncoding.DecodeString(img); err == nil && len(b) > 0 {
		t.QRCode = b
	}
	return t, nil
}

// Confirm turns on 2-step verification with the seed of the last Setup,
// given a current code of it. A wrong code is ErrOTPRejected.
//
// DSM: SYNO.Core.OTP auth_tmp_code.
func (s *TwoStepService) Confirm(ctx context.Context, code string) error {
	code = strings.TrimSpace(code)
	if !validOTPCode(code) {
		return argErrorf("confirm 2-step verification", "the code must be the 6 digits the authenticator app shows")
	}
	return s.c.do(ctx, newCheckedChange("SYNO.Core.OTP", "auth_tmp_code", nil, nil, s.enabledSelf).withSecret(Params{"code": code}))
}

// Enabled reports whether the signed-in account has 2-step verification.
//
// DSM: SYNO.Core.OTP get_one.
func (s *TwoStepService) Enabled(ctx context.Context) (bool, error) {
	var d struct {
		Set flexBool `json:"otp_set"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.OTP", "get_one", nil, &d)); err != nil {
		return false, err
	}
	return bool(d.Set), nil
}

func (s *TwoStepService) enabledSelf(ctx context.Context) (bool, error) { return s.Enabled(ctx) }

// Disable turns off 2-step verification of the signed-in account. DSM
// refuses (ErrPermissionDenied) when the enforcement policy requires it.
//
// DSM: SYNO.Core.OTP disable.
func (s *TwoStepService) Disable(ctx context.Context) error {
	return s.c.do(ctx, newSafeChange("SYNO.Core.OTP", "disable", nil, nil))
}

// Status reports whether user name has 2-step verification.
//
// DSM: SYNO.Core.OTP.Admin get.
func (s *TwoStepService) Status(ctx context.Context, name string) (bool, error) {
	if err := ValidateUserName(name); err != nil {
		return false, argError("2-step status", err)
	}
	var d struct {
		Users []struct {
			EnableOTP flexBool `json:"enable_otp"`
		} `json:"users"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.OTP.Admin", "get", Params{"name": name}, &d)); err != nil {
		return false, err
	}
	if len(d.Users) == 0 {
		return false, &MalformedError{API: "SYNO.Core.OTP.Admin", Method: "get", Reason: "the answer lists no user"}
	}
	return bool(d.Users[0].EnableOTP), nil
}

// Reset turns off 2-step verification of user name, so that the user can
// sign in with the password alone and set it up again (DSM's "reset
// 2-step verification" of the user editor).
//
// DSM: SYNO.Core.OTP.Admin reset.
func (s *TwoStepService) Reset(ctx context.Context, name string) error {
	if err := ValidateUserName(name); err != nil {
		return argError("reset 2-step verification", err)
	}
	return s.c.do(ctx, newSafeChange("SYNO.Core.OTP.Admin", "reset", Params{"name": name}, nil))
}

// TwoStepEnforcement says whose accounts must have 2-step verification:
// their logins fail with ErrOTPEnforced until they set it up.
type TwoStepEnforcement string

// The values of TwoStepEnforcement DSM's policy takes.
const (
	EnforceNone   TwoStepEnforcement = "none"
	EnforceAdmins TwoStepEnforcement = "admin" // members of administrators
	EnforceAll    TwoStepEnforcement = "user"  // every user
	// EnforceCustom is DSM 7's choice of users and groups, set in DSM;
	// this package reads it but does not set it.
	EnforceCustom TwoStepEnforcement = "custom"
)

// Enforcement returns whose accounts must have 2-step verification. An
// answer without enable_otp_enforcement is read from otp_enforce_option
// alone (DSM 7.3 answers that field only, per ychiu1211/dsmctl).
//
// DSM: SYNO.Core.OTP.EnforcePolicy get.
func (s *TwoStepService) Enforcement(ctx context.Context) (TwoStepEnforcement, error) {
	var d struct {
		Enable *flexBool `json:"enable_otp_enforcement"`
		Option string    `json:"otp_enforce_option"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.OTP.EnforcePolicy", "get", nil, &d)); err != nil {
		return "", err
	}
	opt := TwoStepEnforcement(strings.ToLower(strings.TrimSpace(d.Option)))
	if opt == "" || d.Enable != nil && !bool(*d.Enable) {
		opt = EnforceNone
	}
	return opt, nil
}

// SetEnforcement sets whose accounts must have 2-step verification:
// EnforceNone, EnforceAdmins or EnforceAll. Accounts it covers that have
// none cannot sign in (ErrOTPEnforced) until they set it up: make sure
// your own account has it first.
//
// DSM: SYNO.Core.OTP.EnforcePolicy set.
func (s *TwoStepService) SetEnforcement(ctx context.Context, e TwoStepEnforcement) error {
	if err := e.Validate(); err != nil {
		return argError("set 2-step enforcement", err)
	}
	return s.c.do(ctx, newSafeChange("SYNO.Core.OTP.EnforcePolicy", "set", Params{
		"enable_otp_enforcement": e != EnforceNone, "otp_enforce_option": string(e),
	}, nil))
}

// Validate reports whether SetEnforcement can set e.
func (e TwoStepEnforcement) Validate() error {
	switch e {
	case EnforceNone, EnforceAdmins, EnforceAll:
		return nil
	case EnforceCustom:
		return invalid("the custom policy (chosen users and groups) is set in DSM; use none, admin or user")
	}
	return invalid("unknown 2-step enforcement %.16q: use none, admin or user", string(e))
}

// TrustedDevice is a device of the signed-in account whose token skips
// the 2-step code at login.
type TrustedDevice struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Devices lists the trusted devices of the signed-in account.
//
// DSM: SYNO.Core.TrustDevice get.
func (s *TwoStepService) Devices(ctx context.Context) ([]TrustedDevice, error) {
	var d struct {
		Devices []struct {
			ID   json.RawMessage `json:"id"`
			Name string          `json:"name"`
		} `json:"devices"`
	}
	if err := s.c.do(ctx, newRead("SYNO.Core.TrustDevice", "get", nil, &d)); err != nil {
		return nil, err
	}
	out := make([]TrustedDevice, 0, len(d.Devices))
	for _, dev := range d.Devices {
		out = append(out, TrustedDevice{ID: strings.Trim(string(dev.ID), `"`), Name: dev.Name})
	}
	return out, nil
}

// ForgetDevice stops trusting the device id of the signed-in account: its
// next login needs a code.
//
// DSM: SYNO.Core.TrustDevice delete.
func (s *TwoStepService) ForgetDevice(ctx context.Context, id string) error {
	if id == "" || len(id) > 128 {
		return argErrorf("forget trusted device", "the device id must be 1 to 128 characters, as Devices lists it")
	}
	return s.c.do(ctx, newSafeChange("SYNO.Core.TrustDevice", "delete", Params{"id": []string{id}}, nil))
}

// validOTPCode reports whether code is six ASCII digits.
func validOTPCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

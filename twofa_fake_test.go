package dsm

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEnforcementAnswers reads the enforcement policy from the answers
// DSM releases give: both fields (DSM 6.2.3's UI), the option alone
// (DSM 7.3), and DSM 7's custom policy.
func TestEnforcementAnswers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		data map[string]any
		want TwoStepEnforcement
	}{
		{map[string]any{"enable_otp_enforcement": true, "otp_enforce_option": "admin"}, EnforceAdmins},
		{map[string]any{"enable_otp_enforcement": false, "otp_enforce_option": "admin"}, EnforceNone},
		{map[string]any{"otp_enforce_option": "user"}, EnforceAll},
		{map[string]any{"otp_enforce_option": "custom"}, EnforceCustom},
		{map[string]any{"enable_otp_enforcement": "true", "otp_enforce_option": " Admin "}, EnforceAdmins},
		{map[string]any{}, EnforceNone},
	} {
		f := newFakeDSM(t, func(_ *http.Request, form url.Values) any { return ok(tt.data) })
		f.info["SYNO.Core.OTP.EnforcePolicy"] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"}
		got, err := f.client(t, WithSession(Session{SID: "s"})).TwoStep.Enforcement(t.Context())
		if err != nil || got != tt.want {
			t.Errorf("%v: %q, %v, want %q", tt.data, got, err, tt.want)
		}
	}
}

// TestSetupAnswers: the seed's spaces and case and a data: URL image are
// read; a key that is no base32 seed is a MalformedError that does not
// quote it; the account sent is the session's.
func TestSetupAnswers(t *testing.T) {
	t.Parallel()
	png := []byte("\x89PNG fake")
	answer := map[string]any{"appAccount": "alice@nas", "img": "data:image/png;base64," + base64.StdEncoding.EncodeToString(png), "key": "jbsw y3dp ehpk 3pxp"}
	f := newFakeDSM(t, func(_ *http.Request, form url.Values) any { return ok(answer) })
	f.info["SYNO.Core.OTP"] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 3, RequestFormat: "JSON"}
	c := f.client(t, WithSession(Session{SID: "s", Account: "alice"}))
	setup, err := c.TwoStep.Setup(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if setup.Secret() != "JBSWY3DPEHPK3PXP" || setup.Account != "alice@nas" || string(setup.QRCode) != string(png) {
		t.Errorf("setup %q %q %q", setup.Secret(), setup.Account, setup.QRCode)
	}
	r := f.last("SYNO.Core.OTP")
	if diff := cmp.Diff(map[string]string{"method": "get_qrcode", "version": "2", "account": `"alice"`},
		map[string]string{"method": r.form.Get("method"), "version": r.form.Get("version"), "account": r.form.Get("account")}); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	answer["key"] = "not-base32-secret!"
	_, err = c.TwoStep.Setup(t.Context())
	var me *MalformedError
	if !errors.As(err, &me) || strings.Contains(err.Error(), "not-base32-secret") {
		t.Errorf("a bad key: %v, want a MalformedError without the key", err)
	}
}

// TestRulesPaging reads a list longer than one answer.
func TestRulesPaging(t *testing.T) {
	t.Parallel()
	all := []map[string]any{{"ip": "192.0.2.1"}, {"ip": "192.0.2.2", "record_time": 1700000000}, {"ip": "10.0.0.0/8", "expire_time": 1800000000}}
	f := newFakeDSM(t, func(_ *http.Request, form url.Values) any {
		if form.Get("action") != `"load"` || form.Get("type") != `"deny"` {
			return fail(5100)
		}
		off := 0
		if form.Get("offset") == "2" {
			off = 2
		}
		return ok(map[string]any{"ip_info": all[off:min(off+2, 3)], "offset": off, "total": 3})
	})
	f.info["SYNO.Core.Security.AutoBlock.Rules"] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"}
	got, err := f.client(t, WithSession(Session{SID: "s"})).Security.BlockedAddresses(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Address != "10.0.0.0/8" || got[1].Since.Unix() != 1700000000 || got[2].Expires.Unix() != 1800000000 || !got[0].Since.IsZero() {
		t.Errorf("rules %+v", got)
	}
}

package dsm

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fuzzSecret stands for a secret inside an answer (a password echoed in
// a field, a token): "$" in a fuzzed body becomes it, and no error may
// repeat it.
const fuzzSecret = "S3cr3t-hunter2"

// envelopeSeeds are answers as DSM sends them, and damaged ones.
var envelopeSeeds = []string{
	`{"success":true}`,
	`{"success":true,"data":{"users":[{"name":"alice","uid":1026,"description":"$","email":"a@b","expired":"normal","passwd_never_expire":true,"password_last_change":20054,"is_password_pending":"yes","2fa_status":"1"}],"offset":0,"total":1}}`,
	`{"success":true,"data":{"users":[{"name":"bob","expired":"2026/3/1","password_last_change":"20054","cannot_chg_passwd":0}]}}`,
	`{"success":true,"data":{"users":[{"name":"$","expired":"now","password_last_change":-1}]}}`,
	`{"success":false,"error":{"code":400}}`,
	`{"success":false,"error":{"code":403,"errors":{"token":"$","types":[{"type":"authenticator"}]}}}`,
	`{"success":false,"error":{"code":3106,"errors":{"name":"$","reason":"$"}}}`,
	`{"success":false,"error":{"code":"$"}}`,
	`{"success":false}`,
	`{"success":"$"}`,
	`{"data":{"sid":"$"}}`,
	`{"success":true,"data":{"sid":"$","synotoken":"$"`,
	`<html><head><title>$</title></head></html>`,
	`$`,
	``,
	`null`,
	`[{"success":true}]`,
	`{"success":true,"data":"$"}`,
	`{"success":true,"data":{"total":"$","offset":1e400}}`,
}

// fuzzAnswer holds every kind of field the services decode.
type fuzzAnswer struct {
	Users []struct {
		Name     string   `json:"name"`
		UID      flexInt  `json:"uid"`
		Never    flexBool `json:"passwd_never_expire"`
		Pending  flexBool `json:"is_password_pending"`
		Changed  daysDate `json:"password_last_change"`
		Expired  Expiry   `json:"expired"`
		Since    Date     `json:"since"`
		OTP      flexBool `json:"2fa_status"`
		Cannot   flexBool `json:"cannot_chg_passwd"`
		Whatever any      `json:"whatever"`
	} `json:"users"`
	Total  flexInt `json:"total"`
	Offset flexInt `json:"offset"`
}

// FuzzDecodeEnvelope: any answer decodes or fails with a typed error
// naming the API and method, never a panic, and no error repeats what
// the answer held.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add([]byte(s), 200)
	}
	f.Add([]byte(`{"success":true}`), 502)
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		body = bytes.ReplaceAll(body, []byte("$"), []byte(fuzzSecret))
		for _, out := range []any{nil, &fuzzAnswer{}, &map[string]any{}, &json.RawMessage{}} {
			code, err := decodeEnvelope("SYNO.Core.User", "list", status, body, out)
			if err == nil {
				if code != 0 {
					t.Fatalf("no error but code %d", code)
				}
				continue
			}
			var (
				ae *APIError
				me *MalformedError
				se *StatusError
			)
			switch {
			case errors.As(err, &ae):
				if ae.Code != code {
					t.Fatalf("APIError code %d, returned code %d", ae.Code, code)
				}
			case errors.As(err, &me), errors.As(err, &se):
			default:
				t.Fatalf("untyped error %T: %v", err, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "SYNO.Core.User list") {
				t.Fatalf("error %q does not name the API and method", msg)
			}
			if strings.Contains(msg, fuzzSecret) {
				t.Fatalf("error repeats the answer: %q", msg)
			}
		}
	})
}

// FuzzFlexValues feeds every JSON value to the lenient decoders DSM's
// answers need: never a panic, and what they accept agrees with the
// plain reading where there is one.
func FuzzFlexValues(f *testing.F) {
	for _, s := range []string{`true`, `"yes"`, `"no"`, `0`, `1`, `"1"`, `2.5`, `"on"`, `null`, `""`, `12`, `"12"`, `-3`,
		`1e3`, `1e400`, `9223372036854775807`, `"9223372036854775808"`, `-9223372036854775808`, `1.5`, `"abc"`, `[]`, `{}`,
		`"normal"`, `"now"`, `"2026/3/1"`, `"2026-03-01"`, `"2026/13/40"`, `"0/0/0"`, `20054`, `106751991167300`, `"\u0000"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b flexBool
		var n flexInt
		var d daysDate
		var e Expiry
		var day Date
		berr := b.UnmarshalJSON(data)
		nerr := n.UnmarshalJSON(data)
		d.UnmarshalJSON(data)
		e.UnmarshalJSON(data)
		day.UnmarshalJSON(data)
		// An integer JSON number reads as itself.
		if i, err := strconv.ParseInt(string(data), 10, 64); err == nil {
			if nerr != nil || int64(n) != i {
				t.Fatalf("flexInt(%s) = %d, %v", data, n, nerr)
			}
			if berr != nil || bool(b) != (i != 0) {
				t.Fatalf("flexBool(%s) = %v, %v", data, b, berr)
			}
		}
		// What a value reads as does not depend on the decoder being
		// called on its own or inside an answer.
		var wrapped struct {
			B *flexBool `json:"b"`
			N *flexInt  `json:"n"`
		}
		doc := append(append([]byte(`{"b":`), data...), '}')
		if json.Valid(doc) {
			if err := json.Unmarshal(doc, &wrapped); err == nil && berr == nil && wrapped.B != nil && *wrapped.B != b {
				t.Fatalf("flexBool(%s): %v alone, %v in an object", data, b, *wrapped.B)
			}
		}
		// An Expiry that decodes prints as something ParseExpiry reads
		// back to the same value.
		if err := e.UnmarshalJSON(data); err == nil {
			again, err := ParseExpiry(e.String())
			if err != nil || again != e {
				t.Fatalf("Expiry(%s) = %v, reads back as %v, %v", data, e, again, err)
			}
		}
	})
}

// FuzzUserPageStream: the user list decoded from the stream, item by
// item, reads what decoding the whole data at once reads, and fails as a
// typed error where that fails.
func FuzzUserPageStream(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"data":{"offset":0,"total":2,"users":[{"name":"a","groups":[{"name":"users","inherited":true}]},{"name":"b","groups":["x"]}]},"success":true}`))
	f.Add([]byte(`{"data":{"total":1,"users":[{"name":"a","groups":3},{"name":"b"}]},"success":true}`))
	f.Add([]byte(`{"data":{"users":{"name":"a"}},"success":true}`))
	f.Add([]byte(`{"data":{"users":null,"total":"7"},"success":true} `))
	f.Fuzz(func(t *testing.T, body []byte) {
		page := userPage()
		_, serr := decodeEnvelope("SYNO.Core.User", "list", 200, body, page)
		var whole struct {
			Total flexInt    `json:"total"`
			Users []userWire `json:"users"`
		}
		_, werr := decodeEnvelope("SYNO.Core.User", "list", 200, body, &whole)
		if werr != nil {
			if serr == nil {
				t.Fatalf("the stream read what the whole refused (%v)", werr)
			}
			var me *MalformedError
			var ae *APIError
			if !errors.As(serr, &me) && !errors.As(serr, &ae) {
				t.Fatalf("untyped error %T: %v", serr, serr)
			}
			return
		}
		if serr != nil {
			t.Fatalf("the stream refused what the whole read: %v", serr)
		}
		var want []User
		for _, w := range whole.Users {
			want = append(want, w.user())
		}
		if d := cmp.Diff(want, page.items); d != "" || int(whole.Total) != page.total {
			t.Fatalf("stream (-whole +stream) total %d vs %d:\n%s", whole.Total, page.total, d)
		}
	})
}

// FuzzPlainNames: the quick reading of a groups list agrees with
// encoding/json wherever it answers.
func FuzzPlainNames(f *testing.F) {
	for _, s := range []string{`["users"]`, `[ "a" , "b" ]`, `[]`, `["a\"b"]`, `["é","x y"]`, `[1]`, `[{"name":"users"}]`, `null`, `"users"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return // the decoder hands UnmarshalJSON checked values only
		}
		names, ok := plainNames(data)
		if !ok {
			return
		}
		var want []string
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("plainNames read %q, encoding/json refuses it: %v", data, err)
		}
		if d := cmp.Diff(want, names, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("%q (-json +plain):\n%s", data, d)
		}
	})
}

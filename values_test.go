package dsm

import (
	"strings"
	"testing"
)

func TestLooseValuesRefuseNonsense(t *testing.T) {
	var b flexBool
	for _, in := range []string{`"NaN"`, `"Inf"`, `"-Inf"`, `"maybe"`, `[]`} {
		if err := b.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("flexBool accepted %s", in)
		} else if strings.Contains(err.Error(), strings.Trim(in, `"`)) && in != `[]` {
			t.Errorf("flexBool error quotes its input: %v", err)
		}
	}
	var n flexInt
	for _, in := range []string{`"1.5"`, `1e300`, `"x"`} {
		if err := n.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("flexInt accepted %s as %d", in, n)
		}
	}
	var d daysDate
	if err := d.UnmarshalJSON([]byte(`1000000000000000000`)); err == nil {
		t.Errorf("daysDate accepted 1e18 days as %v", Date(d))
	}
	if err := d.UnmarshalJSON([]byte(`2932896`)); err != nil || Date(d) != (Date{9999, 12, 31}) {
		t.Errorf("the last day: %v %v", Date(d), err)
	}
	e := &APIError{Code: 403, API: "SYNO.API.Auth", Details: []byte(`{"types":[{"type":"otp"},{"type":"evil\nline"},{"type":"UPPER"}]}`)}
	if got := e.OTPTypes(); len(got) != 1 || got[0] != "otp" {
		t.Errorf("OTPTypes kept %q", got)
	}
}

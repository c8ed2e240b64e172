package audit

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
)

var today = dsm.Date{Year: 2024, Month: 3, Day: 15}

// clean is a snapshot with no finding: a disabled default admin, one
// named administrator with 2-step, enforcement, a policy at the baseline,
// auto-block and account protection on.
func clean() *Snapshot {
	return &Snapshot{
		Users: []dsm.User{
			{Name: "admin", UID: 1024, Expired: dsm.Disabled},
			{Name: "guest", UID: 1025, Expired: dsm.Disabled},
			{Name: "ops", UID: 1026, TwoFactor: true, PasswordLastChange: today},
		},
		Admins:      []string{"admin", "ops"},
		Policy:      dsm.PasswordPolicy{Strong: dsm.StrongPassword{MinLengthEnabled: true, MinLength: 15, ExcludeCommon: true}},
		Expiry:      dsm.PasswordExpiry{Enabled: true, MaxAge: 90},
		Enforcement: dsm.EnforceAdmins,
		AutoBlock:   dsm.AutoBlock{Enabled: true, Attempts: 5, WithinMinutes: 10},
		Protection:  dsm.AccountProtection{Enabled: true},
		Me:          "ops",
		Today:       today,
	}
}

func keys(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Key())
	}
	return out
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*Snapshot)
		want   []string
	}{
		{"clean", func(*Snapshot) {}, []string{}},
		// DSM's advice is to disable admin, which stays in administrators.
		{"disabled default admin in administrators", func(s *Snapshot) {}, []string{}},
		{"a disabled administrator", func(s *Snapshot) {
			s.Users = append(s.Users, dsm.User{Name: "old", UID: 1027, Expired: dsm.ExpiresOn(dsm.Date{Year: 2024, Month: 1, Day: 1})})
			s.Admins = append(s.Admins, "old")
		}, []string{"account-expired:old", "disabled-admin:old"}},
		{"expiry on the day is expired", func(s *Snapshot) {
			s.Users = append(s.Users, dsm.User{Name: "eve", Expired: dsm.ExpiresOn(today), PasswordLastChange: today})
		}, []string{"account-expired:eve"}},
		{"expiry tomorrow is not", func(s *Snapshot) {
			s.Users = append(s.Users, dsm.User{Name: "eve", Expired: dsm.ExpiresOn(dsm.Date{Year: 2024, Month: 3, Day: 16}), PasswordLastChange: today})
		}, []string{}},
		{"never-expiring password while expiry is off", func(s *Snapshot) {
			s.Expiry.Enabled = false
			s.Users[2].PasswordNeverExpires = true
		}, []string{}},
		{"a password of exactly the maximum age", func(s *Snapshot) {
			s.Users[2].PasswordLastChange = dsm.Date{Year: 2023, Month: 12, Day: 16} // 90 days
		}, []string{}},
		{"a password a day older", func(s *Snapshot) {
			s.Users[2].PasswordLastChange = dsm.Date{Year: 2023, Month: 12, Day: 15}
		}, []string{"password-too-old:ops"}},
		{"8 characters suffice when 2-step is enforced for all", func(s *Snapshot) {
			s.Enforcement = dsm.EnforceAll
			s.Policy.Strong.MinLength = 8
		}, []string{}},
		{"not when it is enforced for administrators only", func(s *Snapshot) {
			s.Policy.Strong.MinLength = 8
		}, []string{"weak-password-policy"}},
		{"custom enforcement is not enforcement for administrators", func(s *Snapshot) {
			s.Enforcement = dsm.EnforceCustom
		}, []string{"2fa-not-enforced"}},
		{"severity then check order", func(s *Snapshot) {
			s.AutoBlock.Enabled = false
			s.Users[2].TwoFactor = false
			s.Users[1].Expired = dsm.Never
		}, []string{"admin-no-2fa:ops", "autoblock-off", "guest-enabled"}},
		{"devices of an account that is not an administrator", func(s *Snapshot) {
			s.Me, s.Devices = "alice", []dsm.TrustedDevice{{ID: "1", Name: "x"}}
		}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := clean()
			tc.change(s)
			got := Check(s)
			if diff := cmp.Diff(tc.want, keys(got)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range got {
				if f.Accounts == nil || f.Fix == "" || f.Why == "" || !strings.HasPrefix(f.Fix, "dsmctl ") {
					t.Errorf("incomplete finding %+v", f)
				}
			}
		})
	}
}

func TestManyAdminsNewestFirst(t *testing.T) {
	t.Parallel()
	s := clean()
	for i, n := range []string{"zed", "amy"} {
		s.Users = append(s.Users, dsm.User{Name: n, UID: 1030 + i, TwoFactor: true, PasswordLastChange: today})
		s.Admins = append(s.Admins, n)
	}
	fs := Check(s)
	if len(fs) != 1 || fs[0].Check != ManyAdmins {
		t.Fatalf("findings %v, want many-admins alone", keys(fs))
	}
	if !strings.Contains(fs[0].Summary, "newest accounts first: amy, zed, ops, admin") || fs[0].Fix != "dsmctl user leave amy administrators" {
		t.Errorf("many-admins: %+v", fs[0])
	}
	if diff := cmp.Diff([]string{"admin", "amy", "ops", "zed"}, fs[0].Accounts); diff != "" {
		t.Errorf("accounts (-want +got):\n%s", diff)
	}
}

func TestIgnore(t *testing.T) {
	t.Parallel()
	ig := Ignore{}
	for _, tc := range []struct{ entry, want string }{
		{"no-such", "unknown check"},
		{"autoblock-off:ops", "not about one account"},
		{"admin-no-2fa:a:b", "contains ':'"},
	} {
		if err := ig.Add(tc.entry); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Add(%q): %v, want %q", tc.entry, err, tc.want)
		}
	}
	s := clean()
	s.Users[1].Expired = dsm.Never
	s.Users[2].TwoFactor = false
	s.Users = append(s.Users, dsm.User{Name: "bob", UID: 1027, PasswordLastChange: today})
	s.Admins = append(s.Admins, "bob")
	ig = Ignore{}
	for _, e := range []string{"guest-enabled", "admin-no-2fa:OPS"} {
		if err := ig.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	left, n := ig.Filter(Check(s))
	if diff := cmp.Diff([]string{"admin-no-2fa:bob"}, keys(left)); diff != "" || n != 2 {
		t.Errorf("left (-want +got):\n%s, %d ignored", diff, n)
	}
}

func TestParseSeverity(t *testing.T) {
	t.Parallel()
	if s, err := ParseSeverity(" HIGH "); err != nil || s != High {
		t.Errorf("ParseSeverity: %v %v", s, err)
	}
	if _, err := ParseSeverity("critical"); err == nil {
		t.Error("critical accepted")
	}
}

package dsm_test

import (
	"testing"
	"time"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// TestE2ESystemInfo reads SYNO.DSM.Info from the simulator, as an
// administrator and as an ordinary user: DSM's table allows both.
func TestE2ESystemInfo(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, time.June, 1, 8, 0, 0, 0, time.UTC)
	srv := dsmtest.Start(t, dsmtest.WithTime(start),
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw-123"}))
	srv.Advance(3 * time.Hour)
	for _, cred := range []dsm.Credentials{
		{Account: "admin", Password: srv.AdminPassword()},
		{Account: "alice", Password: "Alice-pw-123"},
	} {
		c := newClient(t, srv, dsm.WithCredentials(cred))
		info, err := c.System.Info(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", cred.Account, err)
		}
		if info.Model != "DS923+" || info.Serial == "" || info.RAM <= 0 || info.Codepage == "" {
			t.Errorf("%s: %+v", cred.Account, info)
		}
		if want := (dsm.DSMVersion{Major: 7, Minor: 4, Build: 90075}); info.Version != want || info.VersionString != "DSM 7.4-90075" {
			t.Errorf("%s: version %+v (%q), want %+v", cred.Account, info.Version, info.VersionString, want)
		}
		// Three hours on the simulator's clock, and the little real time
		// the test has taken.
		if info.Uptime < 3*time.Hour || info.Uptime > 3*time.Hour+time.Minute {
			t.Errorf("%s: uptime %s", cred.Account, info.Uptime)
		}
		if d := info.Time.Sub(srv.Now()); d > time.Second || d < -time.Minute {
			t.Errorf("%s: NAS time %s, simulator clock %s", cred.Account, info.Time, srv.Now())
		}
	}
}

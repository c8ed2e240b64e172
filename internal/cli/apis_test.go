package cli

import (
	"testing"
)

// TestSavedAPITableFollowsTheBuild: the API table dsmctl login saves is
// dropped when a command learns (from SYNO.DSM.Info, as whoami reads
// it) that the NAS runs another DSM build, and the next command saves
// the table it reads again, with that build.
func TestSavedAPITableFollowsTheBuild(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	e := newEnv(t, srv, "DSM_USER", "alice", "DSM_PASSWORD", alicePassword)
	e.mustRun(t, "login")
	st := store{dir: e.configDir()}
	table, ok, err := st.apiTable(srv.URL())
	if err != nil || !ok {
		t.Fatalf("no API table saved at login (%v)", err)
	}
	table.Build = 1 // read from an older DSM
	if err := st.saveAPITable(srv.URL(), table); err != nil {
		t.Fatal(err)
	}
	e = e.with("DSM_PASSWORD", "")

	e.mustRun(t, "whoami")
	if _, ok, err := st.apiTable(srv.URL()); err != nil || ok {
		t.Fatalf("the table of another build is still saved after whoami (%v)", err)
	}
	e.mustRun(t, "whoami")
	got, ok, err := st.apiTable(srv.URL())
	if err != nil || !ok {
		t.Fatalf("no table saved after whoami read it again (%v)", err)
	}
	if got.Build != 90075 {
		t.Errorf("saved table of build %d, want 90075 (DSM 7.4-90075)", got.Build)
	}
}

package dsmtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dsmkit/dsm/dsmtest"
)

// TestFaults drives faults through the options, the Server methods and
// the control endpoint over the real listener.
func TestFaults(t *testing.T) {
	t.Parallel()
	f, err := dsmtest.ParseFault("SYNO.API.Info:query:code=117:times=1")
	if err != nil {
		t.Fatal(err)
	}
	srv := dsmtest.Start(t, dsmtest.WithAdminPassword("Adm1n!"), dsmtest.WithFault(f), dsmtest.WithFaultSeed(1))
	hc := srv.HTTPClient()
	info := []string{"api", "SYNO.API.Info", "version", "1", "method", "query"}
	if c := code(post(t, hc, srv, info...)); c != 117 {
		t.Errorf("first Info query: code %d, want 117 from WithFault", c)
	}
	if c := code(post(t, hc, srv, info...)); c != 0 {
		t.Errorf("second Info query: code %d, want 0 (times=1)", c)
	}

	if err := srv.InjectFault(dsmtest.Fault{API: "SYNO.API.Info", Kind: dsmtest.FaultBadGateway}); err != nil {
		t.Fatal(err)
	}
	form := strings.NewReader("api=SYNO.API.Info&version=1&method=query")
	resp, err := hc.Post(srv.URL()+"/webapi/entry.cgi", "application/x-www-form-urlencoded", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("with a 502 fault: HTTP %d", resp.StatusCode)
	}
	if st := srv.Faults(); len(st) != 2 || st[1].Fired != 1 {
		t.Errorf("Faults() = %+v, want the 502 fault fired once", st)
	}
	srv.ClearFaults()
	if c := code(post(t, hc, srv, info...)); c != 0 {
		t.Errorf("after ClearFaults: code %d", c)
	}

	if err := srv.InjectFault(dsmtest.Fault{Kind: dsmtest.FaultLatency}); err == nil {
		t.Error("InjectFault accepted a latency fault without a delay")
	}
	if _, err := dsmtest.NewServer(dsmtest.WithFault(dsmtest.Fault{API: "SYNO.Nope", Kind: dsmtest.FaultReset})); err == nil {
		t.Error("NewServer accepted a fault of an unknown API")
	}

	// The control endpoint, as a test in another language would use it.
	resp, err = hc.Post(srv.URL()+"/_sim/faults", "application/json", strings.NewReader(`{"spec":"SYNO.Core.NormalUser:get:code=105"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var list struct {
		Faults []struct{ Spec string } `json:"faults"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &list) != nil || len(list.Faults) != 1 || list.Faults[0].Spec != "SYNO.Core.NormalUser:get:code=105" {
		t.Errorf("POST /_sim/faults: %d %s", resp.StatusCode, b)
	}
	sid := func() string {
		var d struct{ SID string }
		a := post(t, hc, srv, login("admin", "Adm1n!")...)
		json.Unmarshal(a.Data, &d)
		return d.SID
	}()
	whoami := []string{"api", "SYNO.Core.NormalUser", "version", "1", "method", "get", "_sid", sid}
	if c := code(post(t, hc, srv, whoami...)); c != 105 {
		t.Errorf("whoami with a fault posted to /_sim/faults: code %d, want 105", c)
	}
	req, _ := http.NewRequest("DELETE", srv.URL()+"/_sim/faults", nil)
	if resp, err := hc.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("DELETE /_sim/faults: %v %v", resp, err)
	}
	if c := code(post(t, hc, srv, whoami...)); c != 0 {
		t.Errorf("whoami after DELETE: code %d", c)
	}
	srv.ExpireSessions()
	if c := code(post(t, hc, srv, whoami...)); c != 119 {
		t.Errorf("whoami after ExpireSessions: code %d, want 119", c)
	}
}

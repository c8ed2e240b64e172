package sim

import (
	"strings"
	"testing"
)

func TestSpeedLimits(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{Users: []User{{Name: "alice", Password: "x"}}, Groups: []Group{{Name: "staff"}}})
	admin := s.mustLogin(t, "admin", adminPW)
	plan := strings.Repeat("0", 24) + strings.Repeat("12", 72)
	row := func(name, typ, proto, policy, plan string) string {
		return `{"name":"` + name + `","owner_type":"` + typ + `","protocol":"` + proto + `","policy":"` + policy +
			`","upload_limit_1":100,"download_limit_1":200,"upload_limit_2":10,"download_limit_2":20,"schedule_plan":"` + plan + `"}`
	}
	a := s.callV(t, admin, "1", "SYNO.Core.BandwidthControl", "set", "bandwidths", "["+row("alice", "local_user", "FTP", "scheduled", plan)+","+row("alice", "local_user", "WebDAV", "disabled", fullSchedule)+"]")
	if string(a.Data) != `{"results":[true,true]}` {
		t.Fatalf("set: %s", a.raw)
	}
	a = s.callV(t, admin, "2", "SYNO.Core.BandwidthControl", "get", "name", "alice", "owner_type", "local_user")
	var d struct {
		Bandwidths []map[string]any `json:"bandwidths"`
	}
	a.data(t, &d)
	if len(d.Bandwidths) != 5 {
		t.Fatalf("get: %d rows, want one per protocol: %s", len(d.Bandwidths), a.Data)
	}
	ftp, webdav, fs := d.Bandwidths[0], d.Bandwidths[2], d.Bandwidths[1]
	if ftp["protocol"] != "FTP" || ftp["policy"] != "scheduled" || ftp["schedule_plan"] != plan || ftp["upload_limit_2"] != 10.0 || ftp["name"] != "alice" || ftp["owner_type"] != "local_user" {
		t.Errorf("FTP row: %v", ftp)
	}
	if webdav["policy"] != "disabled" || fs["policy"] != "notexist" || fs["schedule_plan"] != fullSchedule || fs["protocol_ui"] != "File Station" {
		t.Errorf("WebDAV row %v, File Station row %v", webdav, fs)
	}
	set := func(r string) []string {
		return []string{"SYNO.Core.BandwidthControl", "set", "bandwidths", "[" + r + "]"}
	}
	checkRefusals(t, s, admin, []refusal{
		{"get: no name", []string{"SYNO.Core.BandwidthControl", "get"}, 114},
		{"get: no such group", []string{"SYNO.Core.BandwidthControl", "get", "name", "alice", "owner_type", "local_group"}, 3204},
		{"get: domain user", []string{"SYNO.Core.BandwidthControl", "get", "name", "alice", "owner_type", "domain_user"}, 120},
		{"set: short schedule", set(row("alice", "local_user", "FTP", "enabled", fullSchedule[1:])), 120},
		{"set: schedule of 3", set(row("alice", "local_user", "FTP", "enabled", "3"+fullSchedule[1:])), 120},
		{"set: bad policy", set(row("alice", "local_user", "FTP", "notexist", fullSchedule)), 120},
		{"set: unknown protocol", set(row("alice", "local_user", "SMB", "enabled", fullSchedule)), 120},
		{"set: no such user", set(row("bob", "local_user", "FTP", "enabled", fullSchedule)), 3106},
		{"set: no name", set(`{"owner_type":"local_user","protocol":"FTP","policy":"enabled","schedule_plan":"` + fullSchedule + `"}`), 114},
		{"set: negative limit", set(strings.Replace(row("alice", "local_user", "FTP", "enabled", fullSchedule), `"upload_limit_1":100`, `"upload_limit_1":-1`, 1)), 120},
		{"set: above the bound", set(strings.Replace(row("alice", "local_user", "FTP", "enabled", fullSchedule), `"upload_limit_1":100`, `"upload_limit_1":1000001`, 1)), 120},
		{"set: all or nothing", []string{"SYNO.Core.BandwidthControl", "set", "bandwidths", "[" + row("staff", "local_group", "FTP", "enabled", fullSchedule) + "," + row("alice", "local_user", "FTP", "on", fullSchedule) + "]"}, 120},
	})
	if a := s.callV(t, admin, "2", "SYNO.Core.BandwidthControl", "set", "bandwidths", "["+row("alice", "local_user", "FTP", "enabled", fullSchedule)+"]"); a.code() != 104 {
		t.Errorf("set at version 2: %s, want 104", a.raw)
	}
}

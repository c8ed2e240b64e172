package dsm

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateSchedule(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{AlwaysLimited, strings.Repeat("0", 168), strings.Repeat("012", 56)} {
		if err := ValidateSchedule(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", AlwaysLimited[1:], AlwaysLimited + "1", "3" + AlwaysLimited[1:], AlwaysLimited[:167] + "x", strings.Repeat("١", 84)} {
		if err := ValidateSchedule(bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q: %v, want an *ArgError", bad, err)
		}
	}
	err := ValidateSchedule(AlwaysLimited[:30] + "x" + AlwaysLimited[31:])
	if want := `schedule: character 30 (day 1, hour 6) is 'x', want 0 (no limit), 1 (first limits) or 2 (second limits)`; err == nil || err.Error() != want {
		t.Errorf("message %v, want %s", err, want)
	}
}

// TestSpeedWire: get at version 2 and set at version 1, as DSM's dialog
// calls them, with N4S4/synology-api core_group.py's row.
func TestSpeedWire(t *testing.T) {
	t.Parallel()
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		if form.Get("method") == "get" {
			return []byte(`{"success":true,"data":{"bandwidths":[{"download_limit_1":0,"download_limit_2":0,"name":"group_name","owner_type":"local_group","policy":"notexist","protocol":"FTP","protocol_ui":"FTP","schedule_plan":"` + AlwaysLimited + `","upload_limit_1":0,"upload_limit_2":0}]}}`)
		}
		return []byte(`{"success":true,"data":{"results":[true]}}`)
	})
	f.info["SYNO.Core.BandwidthControl"] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 2, RequestFormat: "JSON"}
	c := f.client(t, WithSession(Session{SID: "s"}))
	ctx := t.Context()
	got, err := c.Speed.Get(ctx, GroupPrincipal("group_name"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]SpeedLimit{{Protocol: "FTP", Policy: SpeedNotSet, Schedule: AlwaysLimited}}, got); d != "" {
		t.Errorf("Get (-want +got):\n%s", d)
	}
	if r := f.last("SYNO.Core.BandwidthControl"); r.form.Get("version") != "2" || r.form.Get("owner_type") != `"local_group"` {
		t.Errorf("get %v", r.form)
	}
	if err := c.Speed.Set(ctx, UserPrincipal("alice"), SpeedLimit{Protocol: "ftp", Policy: SpeedEnabled, Upload: 100, Download: 200}); err != nil {
		t.Fatal(err)
	}
	r := f.last("SYNO.Core.BandwidthControl")
	want := `[{"name":"alice","owner_type":"local_user","protocol":"FTP","policy":"enabled","upload_limit_1":100,"download_limit_1":200,"upload_limit_2":0,"download_limit_2":0,"schedule_plan":"` + AlwaysLimited + `"}]`
	if r.form.Get("version") != "1" || r.form.Get("bandwidths") != want {
		t.Errorf("set version %s bandwidths %s\nwant %s", r.form.Get("version"), r.form.Get("bandwidths"), want)
	}
	sent := len(f.requests)
	for name, err := range map[string]error{
		"protocol":  c.Speed.Set(ctx, UserPrincipal("alice"), SpeedLimit{Protocol: "SMB", Policy: SpeedEnabled}),
		"policy":    c.Speed.Set(ctx, UserPrincipal("alice"), SpeedLimit{Protocol: "FTP", Policy: SpeedNotSet}),
		"negative":  c.Speed.Set(ctx, UserPrincipal("alice"), SpeedLimit{Protocol: "FTP", Policy: SpeedEnabled, Upload: -1}),
		"too fast":  c.Speed.Set(ctx, UserPrincipal("alice"), SpeedLimit{Protocol: "FTP", Policy: SpeedEnabled, Download2: MaxSpeedLimit + 1}),
		"schedule":  c.Speed.Set(ctx, UserPrincipal("alice"), SpeedLimit{Protocol: "FTP", Policy: SpeedScheduled, Schedule: "01"}),
		"no limits": c.Speed.Set(ctx, UserPrincipal("alice")),
	} {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want an *ArgError", name, err)
		}
	}
	if len(f.requests) != sent {
		t.Errorf("refused limits sent %d requests", len(f.requests)-sent)
	}
}

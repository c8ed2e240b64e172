package dsm

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Bytes
		out  string // Bytes.String of want
	}{
		{"0", 0, "0"},
		{"20GiB", 20 * GiB, "20GiB"},
		{"20 gb", 20 * GiB, "20GiB"},
		{"500MB", 500 * MiB, "500MiB"},
		{"1536M", 1536 * MiB, "1536MiB"},
		{"1024KiB", MiB, "1MiB"},
		{"3T", 3 * TiB, "3TiB"},
		{"1PiB", PiB, "1PiB"},
		{"1000", 1000, "1000B"},
		{"1000B", 1000, "1000B"},
		{" 7 kib ", 7 * KiB, "7KiB"},
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			continue
		}
		if s := got.String(); s != tt.out {
			t.Errorf("String(%d) = %q, want %q", got, s, tt.out)
		}
		if back, err := ParseBytes(got.String()); err != nil || back != got {
			t.Errorf("ParseBytes(%q) = %d, %v: String does not read back", got.String(), back, err)
		}
	}
	for _, bad := range []string{"", "GiB", "-1GiB", "+1GiB", "1.5GiB", "20GiBs", "20 XB", "9999999PiB", "0x10", "1e3"} {
		if _, err := ParseBytes(bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ParseBytes(%q): %v, want an *ArgError", bad, err)
		}
	}
}

// TestQuotaUnits: SYNO.Core.Quota takes MB, SYNO.Core.Share.Quota bytes;
// a quota that does not convert exactly, or is out of range, is refused
// before anything is sent.
func TestQuotaUnits(t *testing.T) {
	t.Parallel()
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		if form.Get("api") == "SYNO.Core.Share.Quota" && form.Get("method") == "list" {
			return map[string]any{"success": true, "data": map[string]any{"items": []any{
				map[string]any{"username": "bob", "quota_size": 1000, "quota_used": 10},
			}, "total": 1}}
		}
		return map[string]any{"success": true, "data": map[string]any{}}
	})
	for _, api := range []string{"SYNO.Core.Quota", "SYNO.Core.Share.Quota"} {
		f.info[api] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"}
	}
	c := f.client(t, WithSession(Session{SID: "s"}))
	ctx := t.Context()
	if err := c.Quotas.Set(ctx, UserPrincipal("alice"), Quota{Share: "public", Limit: 20 * GiB}, Quota{Volume: "/volume2", Limit: 500 * MiB}, Quota{Volume: "/volume3"}); err != nil {
		t.Fatal(err)
	}
	r := f.last("SYNO.Core.Quota")
	if got, want := r.form.Get("user_quota"), `[{"share":"public","quota":20480},{"volume":"/volume2","quota":500},{"volume":"/volume3","quota":0}]`; got != want {
		t.Errorf("user_quota %s, want %s", got, want)
	}
	if err := c.Quotas.Set(ctx, GroupPrincipal("staff"), Quota{Share: "public", Limit: MiB}); err != nil {
		t.Fatal(err)
	}
	if r := f.last("SYNO.Core.Quota"); r.form.Get("group_quota") != `[{"share":"public","quota":1}]` || r.form.Get("name") != `"staff"` {
		t.Errorf("group set %v", r.form)
	}
	if err := c.Quotas.SetShare(ctx, "public", "alice", 1500); err != nil {
		t.Fatal(err)
	}
	if got, want := f.last("SYNO.Core.Share.Quota").form.Get("quotas"), `[{"username":"bob","quota_size":1000},{"username":"alice","quota_size":1500}]`; got != want {
		t.Errorf("quotas %s, want %s (the whole list, bytes)", got, want)
	}
	sent := len(f.requests)
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"not whole MiB", c.Quotas.Set(ctx, UserPrincipal("alice"), Quota{Share: "public", Limit: 1500})},
		{"negative", c.Quotas.Set(ctx, UserPrincipal("alice"), Quota{Share: "public", Limit: -MiB})},
		{"above MaxQuota", c.Quotas.Set(ctx, UserPrincipal("alice"), Quota{Share: "public", Limit: MaxQuota + MiB})},
		{"no target", c.Quotas.Set(ctx, UserPrincipal("alice"), Quota{Limit: MiB})},
		{"bad volume", c.Quotas.Set(ctx, UserPrincipal("alice"), Quota{Volume: "vol1", Limit: MiB})},
		{"bare volume name", c.Quotas.Set(ctx, UserPrincipal("alice"), Quota{Volume: "volume2", Limit: MiB})},
		{"bad share", c.Quotas.Set(ctx, UserPrincipal("alice"), Quota{Share: "a/b", Limit: MiB})},
		{"bad user", c.Quotas.Set(ctx, UserPrincipal("a:b"), Quota{Share: "public", Limit: MiB})},
		{"nothing", c.Quotas.Set(ctx, UserPrincipal("alice"))},
		{"share: negative", c.Quotas.SetShare(ctx, "public", "alice", -1)},
		{"share: above MaxQuota", c.Quotas.SetShare(ctx, "public", "alice", MaxQuota+1)},
	} {
		var ae *ArgError
		if !errors.As(tt.err, &ae) {
			t.Errorf("%s: %v, want an *ArgError", tt.name, tt.err)
		}
	}
	if len(f.requests) != sent {
		t.Errorf("refused quotas sent %d requests", len(f.requests)-sent)
	}
	err := c.Quotas.Set(ctx, UserPrincipal("alice"), Quota{Volume: "volume2", Limit: MiB})
	if want := `dsm: set quotas of user alice: "volume2" is a volume name, DSM wants its path: write /volume2`; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	err = c.Quotas.Set(ctx, UserPrincipal("alice"), Quota{Share: "public", Limit: 1500})
	if want := "dsm: set quotas of user alice: quota 1500 bytes is not a whole number of MiB: SYNO.Core.Quota keeps quotas in MB (2^20 bytes); round it to 1MiB (0 means no limit)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

// TestQuotaGetShapes decodes SYNO.Core.Quota get as N4S4/synology-api
// core_group.py documents it for a group, and a volume-wide quota on a
// volume named bare, which is read as its path (a liberal reading: DSM
// sends the path in every answer on record).
func TestQuotaGetShapes(t *testing.T) {
	t.Parallel()
	f := newFakeDSM(t, func(r *http.Request, form url.Values) any {
		key := "user_quota"
		if form.Get("subject_type") == `"group"` {
			key = "group_quota"
		}
		return []byte(`{"success":true,"data":{"` + key + `":[` +
			`{"deduped":false,"quota_status":"v1","shares":[{"description":"","name":"ActiveBackupforBusiness","quota":1024}],"support_share_quota":true,"volume":"/volume3"},` +
			`{"volume":"volume2","quota":"500","support_share_quota":false,"shares":[]}]}}`)
	})
	f.info["SYNO.Core.Quota"] = APIInfo{Path: "entry.cgi", MinVersion: 1, MaxVersion: 1, RequestFormat: "JSON"}
	c := f.client(t, WithSession(Session{SID: "s"}))
	want := []Quota{{Volume: "/volume3", Share: "ActiveBackupforBusiness", Limit: GiB}, {Volume: "/volume2", Limit: 500 * MiB}}
	for _, o := range []Principal{UserPrincipal("alice"), GroupPrincipal("staff")} {
		got, err := c.Quotas.Get(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", o, d)
		}
	}
	if r := f.last("SYNO.Core.Quota"); r.form.Get("support_share_quota") != "true" || r.form.Get("subject_type") != `"group"` {
		t.Errorf("group get %v", r.form)
	}
}

package manifest

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// onboardNAS is startNAS with shared folders that have rights of users
// and groups: public (rw for users), finance (ro for staff, deny for
// dave), hr on /volume2 (hidden, recycle bin, rw for carol).
func startOnboardNAS(t *testing.T, opts ...dsmtest.Option) *dsmtest.Server {
	t.Helper()
	return startNAS(t, append([]dsmtest.Option{dsmtest.WithShares(
		dsmtest.Share{Name: "public", Description: "Everyone", Groups: map[string]string{"users": "rw"}},
		dsmtest.Share{Name: "finance", Groups: map[string]string{"staff": "ro"}, Users: map[string]string{"dave": "deny"}},
		dsmtest.Share{Name: "hr", Volume: "/volume2", Hidden: true, RecycleBin: true, Users: map[string]string{"carol": "rw"}},
	)}, opts...)...)
}

// seedProfiles gives carol and staff quotas, application rules and speed
// limits of every kind.
func seedProfiles(t *testing.T, c *dsm.Client) {
	t.Helper()
	ctx := t.Context()
	carol, staff := dsm.UserPrincipal("carol"), dsm.GroupPrincipal("staff")
	for _, err := range []error{
		c.Quotas.Set(ctx, carol, dsm.Quota{Share: "public", Limit: 20 * dsm.GiB}, dsm.Quota{Volume: "/volume2", Limit: 500 * dsm.MiB}),
		c.Quotas.Set(ctx, staff, dsm.Quota{Share: "finance", Limit: dsm.TiB}),
		c.Apps.Deny(ctx, carol, "SYNO.FTP"),
		c.Apps.Allow(ctx, carol, "SYNO.SFTP", "10.0.0.0/8", "192.168.1.7"),
		c.Apps.Allow(ctx, staff, "SYNO.Rsync"),
		c.Speed.Set(ctx, carol, dsm.SpeedLimit{Protocol: "FTP", Policy: dsm.SpeedEnabled, Upload: 1024, Download: 2048},
			dsm.SpeedLimit{Protocol: "WebDAV", Policy: dsm.SpeedDisabled},
			dsm.SpeedLimit{Protocol: "FileStation", Policy: dsm.SpeedScheduled, Upload: 1, Download: 2, Upload2: 3, Download2: 4, Schedule: strings.Repeat("012", 56)}),
		c.Speed.Set(ctx, staff, dsm.SpeedLimit{Protocol: "FTP", Policy: dsm.SpeedEnabled, Upload: 10, Download: 20}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Export of a NAS with shared folders, rights, quotas, rules, limits and
// the home service, then plan: no changes, in YAML and JSON, with and
// without --prune.
func TestOnboardExportThenPlanIsEmpty(t *testing.T) {
	t.Parallel()
	srv := startOnboardNAS(t)
	c := srv.Client()
	seedProfiles(t, c)
	ctx := t.Context()
	f, err := Export(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var y strings.Builder
	if err := f.Write(&y, FormatYAML); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"home_service:\n  enabled: true\n  location: /volume1\n",
		"  - name: hr\n    volume: /volume2\n    description: \"\"\n    hidden: true\n    recycle_bin: true\n",
		"    shares: {finance: ro}\n",
		"    quota: {'share:finance': 1TiB}\n",
		"    shares: {hr: rw}\n    quota: {'share:public': 20GiB, /volume2: 500MiB}\n",
		"      SYNO.FTP: deny\n      SYNO.SFTP: {allow_from: [10.0.0.0/8, 192.168.1.7]}\n",
		"      FTP: {upload: 1024, download: 2048}\n",
		"      WebDAV: \"off\"\n",
		"    shares: {finance: deny}\n",
	} {
		if !strings.Contains(y.String(), want) {
			t.Errorf("the export lacks %q:\n%s", want, y.String())
		}
	}
	for _, format := range []string{FormatYAML, FormatJSON} {
		var b strings.Builder
		if err := f.Write(&b, format); err != nil {
			t.Fatal(err)
		}
		back, err := Parse("export."+format, []byte(b.String()))
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, b.String())
		}
		for _, prune := range []bool{false, true} {
			plan, err := back.Plan(ctx, c, PlanOptions{Prune: prune})
			if err != nil {
				t.Fatal(err)
			}
			if !plan.Empty() {
				t.Errorf("%s, prune %t: plan of the export is not empty:\n%s\n%s", format, prune, plan, b.String())
			}
		}
	}
}

// onboardFile names every kind of change against startOnboardNAS.
const onboardFile = `home_service: {enabled: true, location: /volume2, recycle_bin: true}
shares:
  - name: projects
    volume: /volume1
    description: Projects
    recycle_bin: true
groups:
  - name: staff
    shares: {projects: rw, finance: default}
    quota: {/volume2: 1GiB}
    apps: {rsync: allow}
users:
  - name: carol
    shares: {public: ro, hr: deny}
    quota: {share:projects: 20GiB, public: none}
    apps: {SYNO.FTP: deny, sftp: {allow_from: [10.0.0.0/8]}, afp: {deny_from: [192.168.0.0/16]}}
    speed: {FTP: {upload: 1024, download: 2048}, WebDAV: "off"}
  - name: erin
    password: {generate: true}
    shares: {projects: ro}
    speed: {FileStation: {upload: 1, download: 2, upload2: 3, download2: 4, schedule: "` + "012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012012" + `"}}
`

// requestLog counts the requests of a client by api and method.
type requestLog struct {
	next http.RoundTripper

	mu    sync.Mutex
	calls map[string]int
}

func (rl *requestLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.GetBody != nil {
		if body, err := r.GetBody(); err == nil {
			b, _ := io.ReadAll(body)
			body.Close()
			if form, err := url.ParseQuery(string(b)); err == nil {
				rl.mu.Lock()
				rl.calls[form.Get("api")+" "+form.Get("method")]++
				rl.mu.Unlock()
			}
		}
	}
	return rl.next.RoundTrip(r)
}

func (rl *requestLog) count(call string) int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.calls[call]
}

func loggedClient(t *testing.T, srv *dsmtest.Server) (*dsm.Client, *requestLog) {
	t.Helper()
	rl := &requestLog{next: srv.HTTPClient().Transport, calls: map[string]int{}}
	c, err := dsm.NewClient(srv.URL(), dsm.WithHTTPClient(&http.Client{Transport: rl}),
		dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}))
	if err != nil {
		t.Fatal(err)
	}
	return c, rl
}

// Plan shows each change with its old and new value; apply makes them,
// one compound request per profile, and plans empty afterwards.
func TestOnboardPlanAndApply(t *testing.T) {
	t.Parallel()
	srv := startOnboardNAS(t, dsmtest.WithHomeServiceOff())
	c, rl := loggedClient(t, srv)
	seedProfiles(t, c)
	ctx := t.Context()
	f := mustParse(t, onboardFile)
	plan, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := plan.String()
	for _, want := range []string{
		"~ home_service\n    enabled: false -> true\n    location: \"\" -> /volume2\n    recycle_bin: false -> true\n",
		"+ shared folder projects\n    volume: /volume1\n    description: Projects\n    hidden: false\n    recycle_bin: true\n",
		"~ group staff: rights, quotas, applications, speed limits\n    share projects: default -> rw\n    share finance: ro -> default\n    quota /volume2: none -> 1GiB\n~",
		"~ user carol: rights, quotas, applications, speed limits\n    share public: default -> ro\n    share hr: rw -> deny\n    quota share:projects: none -> 20GiB\n    quota share:public: 20GiB -> none\n    app SYNO.SFTP: \"allow_from 10.0.0.0/8,192.168.1.7\" -> \"allow_from 10.0.0.0/8\"\n    app SYNO.AFP: default -> \"deny_from 192.168.0.0/16\"\n~",
		"~ user erin: rights, quotas, applications, speed limits\n    share projects: default -> ro\n    speed FileStation: none -> \"upload 1 download 2 upload2 3 download2 4 schedule 012",
		"Plan: 2 to create, 4 to change, 0 to delete.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the plan lacks\n%s\nin\n%s", want, got)
		}
	}
	before := rl.count("SYNO.Entry.Request request")
	res, err := plan.Apply(ctx, c, ApplyOptions{Parallel: 1})
	if err != nil || !res.OK() {
		t.Fatalf("apply: %v, %+v", err, res.Failures)
	}
	if n := rl.count("SYNO.Entry.Request request") - before; n != len(plan.Profiles) {
		t.Errorf("%d compound requests for %d profiles", n, len(plan.Profiles))
	}
	for _, call := range []string{"SYNO.Core.Share.Permission set_by_user_group", "SYNO.Core.Quota set", "SYNO.Core.AppPriv.Rule set", "SYNO.Core.BandwidthControl set"} {
		if rl.count(call) > 3 { // seedProfiles' own calls
			t.Errorf("%s sent on its own by apply (%d)", call, rl.count(call))
		}
	}
	again, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() {
		t.Errorf("the plan after apply is not empty:\n%s", again)
	}
}

// The README's onboarding example reads and plans against a NAS with its
// folders.
func TestREADMEOnboardingExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "### Onboarding in the users file")
	if !ok {
		t.Fatal("README has no \"Onboarding in the users file\" section")
	}
	_, block, _ := strings.Cut(section, "```yaml\n")
	block, _, _ = strings.Cut(block, "```")
	block = strings.Replace(block, "<168 characters of 0, 1, 2>", strings.Repeat("012", 56), 1)
	f, err := Parse("users.yaml", []byte(block))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := f.Plan(t.Context(), startOnboardNAS(t).Client(), PlanOptions{Getenv: env("ALICE_PW", "Looking-Glass-42")})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Shares) != 1 || len(plan.Profiles) != 2 {
		t.Errorf("the example plans %d folders and %d profiles, want 1 and 2:\n%s", len(plan.Shares), len(plan.Profiles), plan)
	}
}

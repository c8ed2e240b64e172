package manifest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// What the NAS settles is a problem at the file's line: a folder neither
// on the NAS nor in shares, an application outside the catalogue, a
// folder in shares that differs from the NAS's.
func TestPlanOnboardProblems(t *testing.T) {
	t.Parallel()
	srv := startOnboardNAS(t)
	c := srv.Client()
	f := mustParse(t, `shares:
  - name: hr
    volume: /volume1
users:
  - name: carol
    shares: {payroll: ro}
    quota: {share:payroll: 1GiB, share:hr: 1GiB, /volume1: 1GiB}
    apps: {telnet: deny}
`)
	_, err := f.Plan(t.Context(), c, PlanOptions{})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("plan: %v, want a *ValidationError", err)
	}
	want := []Problem{
		{Line: 2, Message: "shared folder hr exists with volume /volume2; an existing folder is not changed from the file: change it in DSM or write what it has"},
		{Line: 6, Message: "user carol: shared folder payroll is neither on the NAS nor in shares"},
		{Line: 7, Message: "user carol: the quota's shared folder payroll is neither on the NAS nor in shares"},
		{Line: 7, Message: "user carol: shared folder hr is on /volume2, which keeps one quota for the whole volume; give /volume2"},
		{Line: 7, Message: "user carol: volume /volume1 keeps quotas per shared folder; give them as share:NAME"},
		{Line: 8, Message: `user carol: no application "telnet" on this NAS; dsmctl app list shows them`},
	}
	if d := cmp.Diff(want, ve.Problems); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}

// Rights on folders the file does not name, and rules of applications it
// does not name, are left alone; with Prune they are removed.
func TestPlanOnboardPrune(t *testing.T) {
	t.Parallel()
	srv := startOnboardNAS(t)
	c := srv.Client()
	seedProfiles(t, c)
	ctx := t.Context()
	f := mustParse(t, "users:\n  - name: carol\n    groups: [staff, old]\n    shares: {public: ro}\n    apps: {ftp: deny}\n")
	plan, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{"share public", "default", "ro"}}
	if len(plan.Profiles) != 1 || !cmp.Equal(want, plan.Profiles[0].Changes) {
		t.Errorf("without prune: %+v, want %v", plan.Profiles, want)
	}
	// old and staff stay: --prune would delete them otherwise.
	f = mustParse(t, "groups: [{name: staff}, {name: old}]\nusers:\n  - name: carol\n    groups: [staff, old]\n    shares: {public: ro}\n    apps: {ftp: deny}\n")
	plan, err = f.Plan(ctx, c, PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	want = []Change{{"share public", "default", "ro"}, {"share hr", "rw", "default"}, {"app SYNO.SFTP", "allow_from 10.0.0.0/8,192.168.1.7", "default"}}
	var got []Change
	for _, pc := range plan.Profiles {
		if pc.Principal == "user carol" {
			got = pc.Changes
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("with prune (-want +got):\n%s", d)
	}
	if res, err := plan.Apply(ctx, c, ApplyOptions{}); err != nil || !res.OK() {
		t.Fatalf("apply: %v %+v", err, res)
	}
	rules, _ := c.Apps.Rules(ctx, dsm.UserPrincipal("carol"))
	if len(rules) != 1 || rules[0].App != "SYNO.FTP" {
		t.Errorf("carol's rules after the pruning apply: %v", rules)
	}
}

// An apply cut short is finished by planning and applying again: each
// profile is one compound request of sets, done whole or not at all as
// far as the plan is concerned.
func TestApplyOnboardInterrupted(t *testing.T) {
	t.Parallel()
	srv := startOnboardNAS(t, dsmtest.WithHomeServiceOff())
	c := srv.Client()
	ctx := t.Context()
	f := mustParse(t, onboardFile)
	plan, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cut, cancel := context.WithCancel(ctx)
	defer cancel()
	profiles := 0
	res, err := plan.Apply(cut, c, ApplyOptions{Parallel: 1, Progress: func(p Progress) {
		if strings.HasSuffix(p.Item, " profile") {
			if profiles++; profiles == 1 {
				cancel()
			}
		}
	}})
	if !errors.Is(err, context.Canceled) || res.OK() {
		t.Fatalf("apply cut short: %v, %+v", err, res)
	}
	rest, err := f.Plan(ctx, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Profiles) == 0 || len(rest.Profiles) >= len(plan.Profiles) || rest.Home != nil || len(rest.Shares) != 0 {
		t.Fatalf("the plan after the cut: %d of %d profiles left, home %v, shares %v:\n%s", len(rest.Profiles), len(plan.Profiles), rest.Home, rest.Shares, rest)
	}
	if res, err := rest.Apply(ctx, c, ApplyOptions{}); err != nil || !res.OK() {
		t.Fatalf("apply of the rest: %v, %+v", err, res)
	}
	if again, err := f.Plan(ctx, c, PlanOptions{}); err != nil || !again.Empty() {
		t.Errorf("after the second apply: %v\n%s", err, again)
	}
}

// On a NAS without the speed limits' API, export leaves them out and
// plans empty, and a file that gives one is a problem at its line.
func TestPlanOnboardWithoutAnAPI(t *testing.T) {
	t.Parallel()
	srv := startOnboardNAS(t, dsmtest.WithoutAPIs("SYNO.Core.BandwidthControl"))
	c := srv.Client()
	ctx := t.Context()
	f, err := Export(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if plan, err := f.Plan(ctx, c, PlanOptions{}); err != nil || !plan.Empty() {
		t.Errorf("plan of the export: %v\n%s", err, plan)
	}
	_, err = mustParse(t, "groups:\n  - name: staff\n    speed: {FTP: \"off\"}\nusers:\n  - name: carol\n    shares: {public: ro}\n    speed: {FTP: \"off\"}\n").Plan(ctx, c, PlanOptions{})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 || ve.Problems[0].Line != 3 || ve.Problems[1].Line != 7 ||
		!strings.Contains(ve.Problems[1].Message, "user carol: speed cannot be read from this NAS") {
		t.Errorf("plan: %v, want problems at lines 3 and 7", err)
	}
}

package cli

import "testing"

// goldenOnboardYAML, against goldenEnv: a shared folder to create, the
// home service moved, and a user's and a group's rights, quotas, rules
// and limits.
const goldenOnboardYAML = `home_service: {enabled: true, location: /volume2}
shares:
  - name: projects
    volume: /volume1
    description: Projects
groups:
  - name: staff
    shares: {projects: rw, finance: ro}
    apps: {sftp: {allow_from: [10.0.0.0/8]}}
users:
  - name: alice
    shares: {finance: deny, public: default}
    quota: {share:public: 20GiB, /volume2: 500MiB}
    apps: {ftp: deny}
    speed: {FTP: {upload: 1024, download: 2048}, WebDAV: "off"}
`

// TestGoldenPlanOnboard holds plan's text and JSON for onboarding.
func TestGoldenPlanOnboard(t *testing.T) {
	t.Parallel()
	e := goldenEnv(t)
	f := usersFile(t, goldenOnboardYAML)
	goldenRun(t, e, "plan_onboard", "plan", "-f", f)
	goldenRun(t, e, "plan_onboard_json", "plan", "-f", f, "-o", "json")
}

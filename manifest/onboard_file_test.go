package manifest

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Each bad onboarding value is a problem at its line, with its path; an
// unknown key stays an error.
func TestParseOnboardProblems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		want Problem
	}{
		{"right", "users:\n  - name: alice\n    shares:\n      public: write\n",
			Problem{Line: 4, Path: "users[0].shares.public", Message: `"write": want rw, ro, deny or default (no own row: the groups decide)`}},
		{"bare volume", "groups:\n  - name: staff\n    quota:\n      volume1: 20GiB\n",
			Problem{Line: 4, Path: "groups[0].quota.volume1", Message: `"volume1" is a volume name, DSM wants its path: write /volume1`}},
		{"size", "users:\n  - name: alice\n    quota: {/volume1: lots}\n",
			Problem{Line: 3, Path: "users[0].quota./volume1", Message: `size "lots": want a whole number and a unit, such as 20GiB or 500MiB (units B, KiB, MiB, GiB, TiB, PiB)`}},
		{"app rule", "users:\n  - name: alice\n    apps:\n      ftp: maybe\n",
			Problem{Line: 4, Path: "users[0].apps.ftp", Message: `"maybe": want allow, deny, default or {allow_from: [...], deny_from: [...]}`}},
		{"app key", "users:\n  - name: alice\n    apps:\n      ftp: {allow: [10.0.0.0/8]}\n",
			Problem{Line: 4, Path: "users[0].apps.ftp", Message: `unknown key "allow"; known: allow_from, deny_from`}},
		{"app address", "users:\n  - name: alice\n    apps:\n      ftp:\n        allow_from: [10.0.0.1/8]\n",
			Problem{Line: 5, Path: "users[0].apps.ftp.allow_from[0]", Message: `address "10.0.0.1/8" has bits set beyond its prefix; write 10.0.0.0/8`}},
		{"protocol", "users:\n  - name: alice\n    speed:\n      SMB: off\n",
			Problem{Line: 4, Path: "users[0].speed.SMB", Message: `protocol "SMB": want one of FTP, FileStation, WebDAV, NetworkBackup, CloudStation`}},
		{"speed key", "users:\n  - name: alice\n    speed:\n      FTP: {up: 1}\n",
			Problem{Line: 4, Path: "users[0].speed.FTP", Message: `unknown key "up"; known: download, download2, schedule, upload, upload2`}},
		{"home key", "home_service:\n  enabled: true\n  location: /volume1\n  where: here\n",
			Problem{Line: 4, Path: "home_service", Message: `unknown key "where"; known: enabled, location, recycle_bin`}},
		{"home location", "home_service:\n  enabled: true\n  location: volume1\n",
			Problem{Line: 3, Path: "home_service.location", Message: `"volume1" is a volume name, DSM wants its path: write /volume1`}},
		{"share volume", "shares:\n  - name: projects\n    description: P\n",
			Problem{Line: 2, Path: "shares[0]", Message: "shared folder projects needs a volume, by its path (/volume1)"}},
		{"share twice", "shares:\n  - name: p\n    volume: /volume1\n  - name: P\n    volume: /volume1\n",
			Problem{Line: 4, Path: "shares[1]", Message: "shared folder P is already described on line 2"}},
		{"right twice", "users:\n  - name: alice\n    shares:\n      public: rw\n      Public: ro\n",
			Problem{Line: 5, Path: "users[0].shares", Message: "Public is given twice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse("f.yaml", []byte(tc.in))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %+v, %v; want a *ValidationError", f, err)
			}
			if d := cmp.Diff([]Problem{tc.want}, ve.Problems); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
		})
	}
}

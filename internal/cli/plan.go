package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/manifest"
)

// ExitChanges is the exit code of plan --detailed-exitcode when the plan
// has changes.
const ExitChanges = 2

// exitStatus ends a command with an exit code: a message when msg is not
// empty, else nothing more (the command's output said it all).
type exitStatus struct {
	code int
	msg  string
}

func (e *exitStatus) Error() string { return e.msg }

// manifestOptions are what plan and apply share.
type manifestOptions struct {
	conn         connOptions
	File         string
	Prune        bool
	SetPasswords bool
	Secrets      string
	Output       string
	// AllowLockout plans a two_step_enforcement that covers the account
	// applying it while that account has no 2-step verification.
	AllowLockout bool
	// Out is plan --out: the file the plan is saved to, for apply.
	Out string

	getenv func(string) string
}

func addManifestFlags(cmd *cobra.Command, o *manifestOptions) {
	f := cmd.Flags()
	f.StringVarP(&o.File, "file", "f", "", "the users file (YAML or JSON; see the README's \"Users as code\"); - reads standard input")
	f.BoolVar(&o.Prune, "prune", false, "delete the users and groups the file does not name (never admin, guest, system accounts, yourself or built-in groups), and remove the rights on shared folders and the application rules a user's or group's shares and apps do not name (without --prune they are left alone)")
	f.BoolVar(&o.SetPasswords, "set-passwords", false, "set the passwords of existing users too (from_env, from_file); without it only new users get one")
	f.StringVar(&o.Secrets, "secrets-file", "", "the secrets file of from_file passwords (default: the file's secrets_file)")
	f.StringVarP(&o.Output, "output", "o", formatText, "output format: text or json")
	f.BoolVar(&o.AllowLockout, "allow-lockout", false, "plan the file's two_step_enforcement (admins or all) even though your own account has no 2-step verification (you could not sign in again)")
}

// maxUsersFileBytes bounds a users file read from standard input: DSM's
// 16,000 users with every field fit in a few MB.
const maxUsersFileBytes = 64 << 20

// load reads the users file: o.File, or standard input for "-".
func (o *manifestOptions) load(s *IOStreams) (*manifest.File, error) {
	if o.File != "-" {
		return manifest.Load(o.File)
	}
	data, err := io.ReadAll(io.LimitReader(s.In, maxUsersFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the users file from standard input: %w", err)
	}
	if len(data) > maxUsersFileBytes {
		return nil, usagef("-f -: standard input holds more than %d MB; a users file is far smaller", maxUsersFileBytes>>20)
	}
	return manifest.Parse("standard input", data)
}

// fileArg takes the users file from the one positional argument, as
// "dsmctl plan users.yaml" says it, unless -f gave it too.
func (o *manifestOptions) fileArg(args []string) error {
	if len(args) == 0 {
		return nil
	}
	if o.File != "" {
		return usagef("give the users file once: -f %s or %s, not both", o.File, args[0])
	}
	o.File = args[0]
	return nil
}

// complete checks the flags and fills the connection options.
func (o *manifestOptions) complete(getenv func(string) string, g *globalOptions) error {
	if o.File == "" {
		return usagef("-f FILE is required: the users file to plan")
	}
	if o.File == "-" && o.conn.PasswordStdin {
		return usagef("-f - and --password-stdin both read standard input: give the password in DSM_PASSWORD, or the file by name")
	}
	if o.Output != formatText && o.Output != formatJSON {
		return usagef("-o %s: use text or json", o.Output)
	}
	o.getenv = getenv
	return o.conn.complete(getenv, g)
}

func (o *manifestOptions) planOptions() manifest.PlanOptions {
	return manifest.PlanOptions{Prune: o.Prune, SetPasswords: o.SetPasswords, SecretsFile: o.Secrets, Getenv: o.getenv, AllowLockout: o.AllowLockout}
}

func newPlanCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &manifestOptions{}
	var detailed bool
	cmd := &cobra.Command{
		Use:   "plan [-f] FILE",
		Short: "Show what apply would change to make the NAS match a users file",
		Long: `Read a users file (YAML or JSON), compare it with the NAS, and show the
changes that apply would make: "+" creates, "~" changes (old -> new), "-"
deletes (only with --prune). Nothing changes.

Besides accounts, the file may give the home service (home_service), shared
folders that must exist (shares), and per user and group their rights on
shared folders (shares: {public: rw, finance: ro, hr: deny}), quotas
(quota: {/volume1: 20GiB, share:public: 1GiB}, as quota set takes them),
application rules (apps: {ftp: deny, sftp: {allow_from: [10.0.0.0/8]}},
by ID or name, as app takes them) and speed limits (speed: {FTP: {upload:
1024, download: 2048}, WebDAV: off}). Rights on shared folders and rules
of applications the file does not name are left alone, unless --prune:
then the user's or group's own rows on the other folders are removed (their
groups decide) and their other rules too. Quotas and speed limits not named
are always left alone.

The whole file is checked first: unknown keys, wrong types, DSM's limits,
reserved names, groups that do not exist, and the passwords that would be
set against the password policy. Every problem is listed, with its line.
A two_step_enforcement of admins or all is one while your own account has
no 2-step verification (it covers you, and you could not sign in again):
set yours up first (dsmctl 2fa setup), or pass --allow-lockout.

Saved plans, as terraform has them: --out FILE saves the plan, and
"dsmctl apply FILE" later makes exactly those changes, on the same DSM as
the same account, or refuses (nothing changed, exit 1) when the NAS has
changed meanwhile (any user, group or setting the plan touches, or any
change the plan would now make) or when the file was edited. The file
(mode 0600) holds the users file, the digests of the objects the plan
touches as read, and the plan; it holds no password: apply reads each
from_env variable and from_file key again, and generates each generated
password, when it applies.

-o json is for programs: format_version, counts, and settings, groups and
users as lists (never null), with typed values (numbers, booleans, null
for none) and the source of each password as an object (source generate,
env with env, or file with key).

Exit codes: 0 no changes (or changes, without --detailed-exitcode), 1 the
file has problems or the NAS could not be read, 2 with --detailed-exitcode
when there are changes (as terraform plan -detailed-exitcode), 64 usage;
see "dsmctl help exit-codes".`,
		Example: `  dsmctl plan -f users.yaml
  dsmctl plan users.yaml
  generate-users | dsmctl plan -f -
  dsmctl plan -f users.yaml --prune -o json
  dsmctl plan -f users.yaml --detailed-exitcode || echo "changes pending"
  dsmctl plan -f users.yaml --out plan.json && dsmctl apply plan.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.fileArg(args); err != nil {
				return err
			}
			if err := o.complete(getenv, g); err != nil {
				return err
			}
			return runPlan(cmd.Context(), o, detailed, s)
		},
	}
	addConnFlags(cmd, &o.conn)
	addManifestFlags(cmd, o)
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when there are changes, 0 when there are none")
	cmd.Flags().StringVar(&o.Out, "out", "", "save the plan to this file (mode 0600, no secrets) for \"dsmctl apply FILE\"; -out FILE works too")
	return cmd
}

func runPlan(ctx context.Context, o *manifestOptions, detailed bool, s *IOStreams) error {
	var f *manifest.File
	var data []byte // the users file, for --out
	var err error
	if o.Out != "" {
		f, data, err = o.usersFileData(s)
	} else {
		f, err = o.load(s)
	}
	if err != nil {
		return err
	}
	var plan *manifest.Plan
	err = withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		plan, err = f.Plan(ctx, c, o.planOptions())
		if err == nil && o.Out != "" {
			err = writePlanFile(o.Out, o, f, data, c, plan)
		}
		return err
	})
	if err != nil {
		return err
	}
	if o.Output == formatJSON {
		if err := writeJSON(s.Out, newPlanDoc(plan)); err != nil {
			return err
		}
		if o.Out != "" {
			fmt.Fprintf(s.ErrOut, "saved the plan to %s: dsmctl apply %s makes exactly these changes\n", o.Out, o.Out)
		}
	} else {
		s.printPlan(plan.String(), false)
		if o.Out != "" {
			fmt.Fprintf(s.Out, "Saved the plan to %s: \"dsmctl apply %s\" makes exactly these changes, or none if the NAS changes meanwhile.\n", o.Out, o.Out)
		}
	}
	if detailed && !plan.Empty() {
		return &exitStatus{code: ExitChanges}
	}
	return nil
}

// planJSON is a plan and, after apply, its result.
type planJSON struct {
	Plan   *manifest.Plan   `json:"plan"`
	Result *manifest.Result `json:"result,omitempty"`
}

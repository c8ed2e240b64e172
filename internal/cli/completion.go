package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/internal/sim"
)

// completionShells are the shells dsmctl completion writes a script for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

// completionTimeout bounds the calls one completion makes to the NAS: a
// shell waits for the answer, so a NAS that does not answer must not
// hold the prompt.
const completionTimeout = 3 * time.Second

const completionLong = `Print the script that teaches SHELL to complete dsmctl's commands, flags
and flag values, and the names of users and groups: those come from the
NAS of the saved session (see "dsmctl login"), within 3 seconds. Without
a saved session, or when the NAS does not answer, no name is completed;
completion never asks for a password and never prints an error into the
shell.

Bash (needs the bash-completion package):
  # this shell only
  source <(dsmctl completion bash)
  # every new shell, for you
  mkdir -p ~/.local/share/bash-completion/completions
  dsmctl completion bash > ~/.local/share/bash-completion/completions/dsmctl
  # macOS with Homebrew's bash-completion@2
  dsmctl completion bash > $(brew --prefix)/etc/bash_completion.d/dsmctl

Zsh:
  # this shell only
  source <(dsmctl completion zsh)
  # every new shell: a directory of $fpath, then start a new shell
  # (compinit must run in ~/.zshrc: "autoload -U compinit; compinit")
  dsmctl completion zsh > "${fpath[1]}/_dsmctl"

Fish:
  # this shell only
  dsmctl completion fish | source
  # every new shell
  dsmctl completion fish > ~/.config/fish/completions/dsmctl.fish

PowerShell:
  # this shell only
  dsmctl completion powershell | Out-String | Invoke-Expression
  # every new shell: add the line above to your profile ($PROFILE)`

func newCompletionCmd(s *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script of dsmctl",
		Long:  completionLong,
		Example: `  source <(dsmctl completion bash)
  dsmctl completion fish > ~/.config/fish/completions/dsmctl.fish`,
		ValidArgs: completionShells,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("give one shell: %s", strings.Join(completionShells, ", "))
			}
			if !slices.Contains(completionShells, args[0]) {
				return usagef("unknown shell %q: use %s", args[0], strings.Join(completionShells, ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeCompletionScript(cmd.Root(), args[0], s.Out)
		},
	}
}

// writeCompletionScript writes cobra's completion script of root for
// shell to w, with the descriptions of commands and flags.
func writeCompletionScript(root *cobra.Command, shell string, w io.Writer) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(w)
	}
	return usagef("unknown shell %q: use %s", shell, strings.Join(completionShells, ", "))
}

// completer completes arguments and flag values, the names from the NAS
// of the saved session.
type completer struct {
	getenv func(string) string
}

// nameSource lists names of the NAS for a completion. args are the
// command's arguments before the one completed.
type nameSource func(ctx context.Context, c *dsm.Client, args []string) ([]string, error)

// Where names come from.
var (
	allUsers nameSource = func(ctx context.Context, c *dsm.Client, _ []string) ([]string, error) {
		users, _, err := c.Users.List(ctx, dsm.ListOptions{})
		names := make([]string, len(users))
		for i, u := range users {
			names[i] = u.Name
		}
		return names, err
	}
	allGroups nameSource = func(ctx context.Context, c *dsm.Client, _ []string) ([]string, error) {
		groups, _, err := c.Groups.List(ctx, dsm.GroupListOptions{})
		names := make([]string, len(groups))
		for i, g := range groups {
			names[i] = g.Name
		}
		return names, err
	}
	// groupsOfUser lists the groups of the user args[0] (user leave).
	groupsOfUser nameSource = func(ctx context.Context, c *dsm.Client, args []string) ([]string, error) {
		u, err := c.Users.Get(ctx, args[0], dsm.FieldGroups)
		return u.Groups, err
	}
	// membersOfGroup lists the members of the group args[0] (group
	// remove).
	membersOfGroup nameSource = func(ctx context.Context, c *dsm.Client, args []string) ([]string, error) {
		members, err := c.Groups.Members(ctx, args[0])
		names := make([]string, len(members))
		for i, m := range members {
			names[i] = m.Name
		}
		return names, err
	}
)

// argNames completes the positional arguments of a command: the name
// source of argument i is sources[i], the last one serving every further
// argument; a nil source completes nothing. A name already on the
// command line is not offered again.
func (k *completer) argNames(sources ...nameSource) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		src := sources[min(len(args), len(sources)-1)]
		if src == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names := k.fromNAS(cmd, func(ctx context.Context, c *dsm.Client) ([]string, error) {
			return src(ctx, c, args)
		})
		var out []cobra.Completion
		for _, n := range names {
			if hasPrefixFold(n, toComplete) && !slices.ContainsFunc(args, func(a string) bool { return strings.EqualFold(a, n) }) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// listNames completes a comma separated flag value (--groups a,b) item
// by item, the items from the NAS.
func (k *completer) listNames(src nameSource) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		names := k.fromNAS(cmd, func(ctx context.Context, c *dsm.Client) ([]string, error) {
			return src(ctx, c, args)
		})
		return commaList(names, toComplete)
	}
}

// fromNAS returns what list finds on the NAS of the saved session, or
// nothing when there is none or the NAS fails or does not answer within
// completionTimeout. It never logs in, never prompts, and writes
// nothing: the shell shows whatever a completion prints.
func (k *completer) fromNAS(cmd *cobra.Command, list func(context.Context, *dsm.Client) ([]string, error)) []string {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	// Only the flags that pick the NAS and check its certificate: a
	// password (DSM_PASSWORD, --password-stdin) would make connect log
	// in, a new session for each press of Tab.
	o := &connOptions{
		URL:         flagValue(cmd, "url"),
		User:        flagValue(cmd, "user"),
		Fingerprint: flagValue(cmd, "fingerprint"),
		Insecure:    flagValue(cmd, "insecure") == "true",
	}
	if o.URL == "" {
		o.URL = k.getenv("DSM_URL")
	}
	if o.User == "" {
		o.User = k.getenv("DSM_USER")
	}
	o.Context = flagValue(cmd, "context")
	if o.Context == "" {
		o.Context = k.getenv("DSM_CONTEXT")
	}
	if o.Fingerprint != "" {
		fp, err := dsm.ParseFingerprint(o.Fingerprint)
		if err != nil {
			return nil
		}
		o.Fingerprint = fmt.Sprintf("%x", fp)
	}
	dir, err := configDir(k.getenv)
	if err != nil {
		return nil
	}
	o.ConfigDir = dir
	// No ReadSecret or ReadLine: nothing can prompt.
	quiet := &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
	c, done, err := o.connect(ctx, quiet)
	if err != nil {
		return nil
	}
	names, err := list(ctx, c)
	if derr := done(); err != nil || derr != nil {
		return nil
	}
	return names
}

// flagValue returns the value of cmd's flag name, "" when cmd has no such
// flag.
func flagValue(cmd *cobra.Command, name string) string {
	f := cmd.Flags().Lookup(name)
	if f == nil {
		return ""
	}
	return f.Value.String()
}

// hasPrefixFold reports whether s begins with prefix, ignoring case as
// DSM does for names.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// commaList completes the last item of a comma separated list: toComplete
// "a,b,c" offers "a,b,X" for each choice X that begins with c and is not
// in the list yet, and leaves no space after it, so another item can
// follow.
func commaList(choices []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	given := strings.Split(done, ",")
	var out []cobra.Completion
	for _, c := range choices {
		if hasPrefixFold(c, last) && !slices.ContainsFunc(given, func(g string) bool { return strings.EqualFold(g, c) }) {
			out = append(out, done+c)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// fixedChoices completes a flag value from a fixed list, each with its
// description when descs has one.
func fixedChoices(choices []string, descs ...string) cobra.CompletionFunc {
	out := make([]cobra.Completion, len(choices))
	for i, c := range choices {
		out[i] = c
		if i < len(descs) && descs[i] != "" {
			out[i] = cobra.CompletionWithDesc(c, descs[i])
		}
	}
	return cobra.FixedCompletions(out, cobra.ShellCompDirectiveNoFileComp)
}

// outputChoices reads the formats of an -o flag from its usage, which
// names them after the colon ("output format: text, json, yaml, csv" or
// "output format: yaml or json"), so that each command offers exactly
// the formats it documents.
func outputChoices(usage string) []string {
	_, list, ok := strings.Cut(usage, ":")
	if !ok {
		return nil
	}
	var out []string
	for _, w := range strings.FieldsFunc(strings.ReplaceAll(list, " or ", ","), func(r rune) bool { return r == ',' || r == ' ' }) {
		if w != "" && strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") == "" {
			out = append(out, w)
		}
	}
	return out
}

// registerCompletions teaches the commands under root how to complete
// their arguments and flag values: by command path for the arguments;
// for a flag's values, by command path and flag name ("dsmctl sim --dsm")
// or, for a flag that means the same on every command that has it, by
// flag name alone.
func registerCompletions(root *cobra.Command, getenv func(string) string) {
	k := &completer{getenv: getenv}
	args := map[string]cobra.CompletionFunc{
		"dsmctl user get":            k.argNames(allUsers, nil),
		"dsmctl user update":         k.argNames(allUsers, nil),
		"dsmctl user delete":         k.argNames(allUsers),
		"dsmctl user check-password": k.argNames(allUsers, nil),
		"dsmctl user join":           k.argNames(allUsers, allGroups),
		"dsmctl user leave":          k.argNames(allUsers, groupsOfUser),
		"dsmctl group get":           k.argNames(allGroups, nil),
		"dsmctl group update":        k.argNames(allGroups, nil),
		"dsmctl group delete":        k.argNames(allGroups),
		"dsmctl group members":       k.argNames(allGroups, nil),
		"dsmctl group add":           k.argNames(allGroups, allUsers),
		"dsmctl group remove":        k.argNames(allGroups, membersOfGroup),
		// A new name: nothing to complete, and no file names either.
		"dsmctl user create":  k.argNames(nil),
		"dsmctl group create": k.argNames(nil),
		// The task id: DSM lists no tasks, it is what join printed.
		"dsmctl task wait": k.argNames(nil, allUsers, nil),
	}
	var fields []string
	for _, c := range userColumns[1:] {
		fields = append(fields, c.key)
	}
	flags := map[string]cobra.CompletionFunc{
		"dsmctl user list --sort": fixedChoices([]string{string(dsm.SortByName), string(dsm.SortByDescription), string(dsm.SortByEmail), string(dsm.SortByExpired)}),
		"dsmctl user list --fields": func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if hasPrefixFold("all", toComplete) && !strings.Contains(toComplete, ",") {
				comps, dir := commaList(fields, toComplete)
				return append([]cobra.Completion{"all"}, comps...), dir
			}
			return commaList(fields, toComplete)
		},
		"expire":                      fixedChoices([]string{"never", "disabled", "YYYY-MM-DD"}, "the account does not expire", "the account is disabled now", "a date: the account expires then"),
		"dsmctl user create --groups": k.listNames(allGroups),
		"dsmctl policy expiry set --never-expire": k.listNames(allUsers),
		"dsmctl user import --format":             fixedChoices([]string{importCSV, importDSM}, "a CSV file with a header row", "DSM's own user list, tab separated"),
		"dsmctl sim --dsm":                        fixedChoices(sim.DSMVersions),
		"dsmctl sim --local-net":                  fixedChoices([]string{"none"}, "every client is remote"),
	}

	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if f, ok := args[c.CommandPath()]; ok && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = f
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			comp, ok := flags[c.CommandPath()+" --"+f.Name]
			if !ok {
				comp, ok = flags[f.Name]
			}
			if f.Name == "output" {
				comp, ok = fixedChoices(outputChoices(f.Usage)), true
			}
			if !ok {
				return
			}
			if _, exists := c.GetFlagCompletionFunc(f.Name); !exists {
				_ = c.RegisterFlagCompletionFunc(f.Name, comp) // the flag exists: it cannot fail
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

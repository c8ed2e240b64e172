package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

// newPasswordEnv is the environment variable that may hold the password
// of user create and user update (and the one user check-password
// checks).
const newPasswordEnv = "DSM_NEW_PASSWORD"

// newPasswordOptions say where a new user password comes from. There is
// no flag that holds the password itself: a flag value shows in the
// process list and the shell history.
type newPasswordOptions struct {
	// Stdin reads it from the first line of standard input.
	Stdin bool
	// Generate makes a random one that meets the NAS's password policy,
	// and prints it.
	Generate bool
	// Env is the value of DSM_NEW_PASSWORD.
	Env string
}

// addNewPasswordFlags declares --password-stdin and, when generate is
// set, --generate-password.
func addNewPasswordFlags(cmd *cobra.Command, o *newPasswordOptions, generate bool) {
	cmd.Flags().BoolVar(&o.Stdin, "password-stdin", false, "read the password from the first line of standard input")
	if generate {
		cmd.Flags().BoolVar(&o.Generate, "generate-password", false, "make a random password that meets the NAS's password policy, and print it once")
	}
}

func (o *newPasswordOptions) check() error {
	if o.Stdin && o.Generate {
		return usagef("--password-stdin and --generate-password: give one of them")
	}
	return nil
}

// readStdinLine reads the first line of r as a password.
func readStdinLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usagef("--password-stdin: standard input has no password on its first line")
	}
	return pw, nil
}

// newPassword returns the password for user name from standard input,
// a generated one (generated is then true), DSM_NEW_PASSWORD, or a prompt
// on the terminal asked twice, in that order.
func (o *newPasswordOptions) newPassword(ctx context.Context, c *dsm.Client, name string, s *IOStreams) (pw string, generated bool, err error) {
	switch {
	case o.Stdin:
		pw, err := readStdinLine(s.In)
		return pw, false, err
	case o.Generate:
		p, err := c.Policy.PasswordPolicy(ctx)
		if err != nil {
			return "", false, fmt.Errorf("reading the password policy to generate a password: %w", err)
		}
		pw, err := p.Generate(name)
		return pw, true, err
	case o.Env != "":
		return o.Env, false, nil
	case s.ReadSecret == nil:
		return "", false, usagef("no password: pass --password-stdin, set %s, or pass --generate-password (standard input is not a terminal, so dsmctl cannot ask)", newPasswordEnv)
	}
	pw, err = s.ReadSecret(fmt.Sprintf("New password for %s: ", name))
	if err != nil {
		return "", false, fmt.Errorf("reading the password: %w", err)
	}
	if pw == "" {
		return "", false, usagef("empty password")
	}
	again, err := s.ReadSecret("Again, to confirm: ")
	if err != nil {
		return "", false, fmt.Errorf("reading the password: %w", err)
	}
	if again != pw {
		return "", false, usagef("the two passwords differ")
	}
	return pw, false, nil
}

// explainWeak adds to a "password rejected by the policy" error the rules
// of the NAS's policy that pw breaks for user name. Other errors pass
// unchanged.
func explainWeak(ctx context.Context, c *dsm.Client, name, pw string, err error) error {
	if !errors.Is(err, dsm.ErrWeakPassword) {
		return err
	}
	p, perr := c.Policy.PasswordPolicy(ctx)
	if perr != nil {
		return err
	}
	v := p.Check(name, pw)
	if len(v) == 0 {
		return fmt.Errorf("%w\nthe password meets the rules dsmctl can check; DSM may refuse it as used before", err)
	}
	return fmt.Errorf("%w\nthe password breaks these rules of the password policy:%s", err, violationList(v))
}

// violationList renders broken rules one per line, indented.
func violationList(v []dsm.PasswordViolation) string {
	var b strings.Builder
	for _, x := range v {
		fmt.Fprintf(&b, "\n  %s: %s", x.Rule, x.Message)
	}
	return b.String()
}

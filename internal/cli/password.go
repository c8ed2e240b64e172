package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
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
		pw, err := generatePassword(p, name)
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

// Character classes of generated passwords. The special characters are
// ones a shell or a CSV file does not treat specially inside quotes.
const (
	lowerChars   = "abcdefghijkmnopqrstuvwxyz" // no l: it looks like 1
	upperChars   = "ABCDEFGHJKLMNPQRSTUVWXYZ"  // no I, O
	digitChars   = "23456789"                  // no 0, 1
	specialChars = "-_.+=@%^~#"
)

// generatedLength is the length of a generated password, unless the
// policy asks for more.
const generatedLength = 20

// generatePassword returns a random password, from crypto/rand, that
// meets policy p for user name: at least generatedLength characters (or
// the policy's minimum), with lower and upper case letters, a digit and a
// special character whatever the policy says.
func generatePassword(p dsm.PasswordPolicy, name string) (string, error) {
	n := generatedLength
	if p.Strong.MinLengthEnabled && p.Strong.MinLength > n {
		n = min(p.Strong.MinLength, dsm.MaxPasswordLength)
	}
	all := lowerChars + upperChars + digitChars + specialChars
	for range 100 {
		b := make([]byte, n)
		// One of each class, the rest from all of them, then shuffled.
		for i, set := range []string{lowerChars, upperChars, digitChars, specialChars} {
			c, err := randomChar(set)
			if err != nil {
				return "", err
			}
			b[i] = c
		}
		for i := 4; i < n; i++ {
			c, err := randomChar(all)
			if err != nil {
				return "", err
			}
			b[i] = c
		}
		for i := n - 1; i > 0; i-- {
			j, err := randomInt(i + 1)
			if err != nil {
				return "", err
			}
			b[i], b[j] = b[j], b[i]
		}
		if pw := string(b); len(p.Check(name, pw)) == 0 {
			return pw, nil
		}
	}
	return "", errors.New("could not generate a password that meets the password policy")
}

func randomChar(set string) (byte, error) {
	i, err := randomInt(len(set))
	if err != nil {
		return 0, err
	}
	return set[i], nil
}

func randomInt(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("generating a password: %w", err)
	}
	return int(v.Int64()), nil
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

package manifest

import (
	"crypto/rand"
	"errors"

	"github.com/dsmkit/dsm"
)

// generatedLength is the length of a generated password unless the
// policy asks for more.
const generatedLength = 20

// The characters of generated passwords: no look-alikes (0/O, 1/l/I), and
// specials that need no quoting in a shell or a CSV file.
const (
	genLower   = "abcdefghijkmnopqrstuvwxyz"
	genUpper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	genDigit   = "23456789"
	genSpecial = "-_.+=@%"
)

// GeneratePassword makes up a random password for user name that
// satisfies policy: at least 20 characters (more if the policy's minimum
// is higher), with lower and upper case letters, digits and special
// characters.
func GeneratePassword(policy dsm.PasswordPolicy, name string) (string, error) {
	n := generatedLength
	if policy.Strong.MinLengthEnabled && policy.Strong.MinLength > n {
		n = policy.Strong.MinLength
	}
	if n > dsm.MaxPasswordLength {
		return "", errors.New("the password policy's minimum length is above DSM's maximum")
	}
	all := genLower + genUpper + genDigit + genSpecial
	for range 100 {
		b := make([]byte, n)
		// One of each class first, then any; shuffled below.
		for i, set := range []string{genLower, genUpper, genDigit, genSpecial} {
			b[i] = set[randIndex(len(set))]
		}
		for i := 4; i < n; i++ {
			b[i] = all[randIndex(len(all))]
		}
		for i := n - 1; i > 0; i-- {
			k := randIndex(i + 1)
			b[i], b[k] = b[k], b[i]
		}
		pw := string(b)
		if len(policy.Check(name, pw)) == 0 {
			return pw, nil
		}
	}
	return "", errors.New("could not generate a password that fits the password policy")
}

// randIndex returns a uniform random number in [0, n), n <= 256.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

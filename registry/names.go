package registry

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"unicode/utf8"
)

// maxNameLen is the longest node name a joining node may use.
const maxNameLen = 32

// ErrBadName is wrapped by CheckName's refusals.
var ErrBadName = errors.New("bad node name")

// CheckName reports whether name may be used by a joining node: 1 to 32
// characters, ASCII letters, digits, '-' and '_', starting with a letter or a
// digit. Names show on the projected page and in shell commands, so they are
// kept short and free of spaces and quotes.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: the name is empty", ErrBadName)
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("%w: %q is longer than %d characters", ErrBadName, truncate(name, 40), maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum || i > 0 && (c == '-' || c == '_') {
			continue
		}
		return fmt.Errorf("%w: %q: use 1-%d letters, digits, '-' and '_', starting with a letter or digit", ErrBadName, truncate(name, 40), maxNameLen)
	}
	return nil
}

// Secrets a node presents are base64url text of this length range.
const (
	minSecretLen = 16
	maxSecretLen = 128
)

// newSecret returns a fresh node secret: 32 random bytes, base64url.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// validSecret reports whether s has the form of a node secret.
func validSecret(s string) bool {
	if len(s) < minSecretLen || len(s) > maxSecretLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// digest is what the registry keeps of a secret or token: comparing digests
// of fixed length in constant time reveals neither the value nor its length.
type digest [sha256.Size]byte

func digestOf(s string) digest { return sha256.Sum256([]byte(s)) }

// equal compares two digests in constant time.
func (d digest) equal(o digest) bool { return subtle.ConstantTimeCompare(d[:], o[:]) == 1 }

// truncate cuts s to at most n bytes for messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

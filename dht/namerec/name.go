package namerec

import (
	"errors"
	"fmt"
)

// MaxNameLen is the longest username in characters (all of them ASCII).
const MaxNameLen = 16

// ErrInvalidName reports a username outside 1..16 characters of [a-z0-9_-].
var ErrInvalidName = errors.New("invalid username")

// NormalizeName folds ASCII upper case to lower case and checks that the
// result is 1 to 16 characters from [a-z0-9_-]. Non-ASCII input is
// rejected rather than folded, so no two Unicode spellings (such as the
// Kelvin sign and "k") name the same user. Errors wrap ErrInvalidName.
func NormalizeName(s string) (string, error) {
	if len(s) == 0 {
		return "", fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if len(s) > MaxNameLen {
		return "", fmt.Errorf("%w: %d bytes, at most %d characters", ErrInvalidName, len(s), MaxNameLen)
	}
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	n := string(b)
	if err := CheckName(n); err != nil {
		return "", err
	}
	return n, nil
}

// CheckName reports whether n is already a normalized username.
func CheckName(n string) error {
	if len(n) == 0 || len(n) > MaxNameLen {
		return fmt.Errorf("%w: length %d, want 1..%d", ErrInvalidName, len(n), MaxNameLen)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return fmt.Errorf("%w: character %q at %d; allowed are a-z 0-9 _ -", ErrInvalidName, c, i)
		}
	}
	return nil
}

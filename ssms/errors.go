package ssms

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error this package returns wraps one or more of
// them, with detail, so callers test with errors.Is.
var (
	// ErrInvalidParams: n or k outside 2 <= k <= n <= 255.
	ErrInvalidParams = errors.New("ssms: invalid parameters")
	// ErrMalformed: a share that cannot be valid on its own: unknown
	// version, index 0 or above n, key-share x-coordinate 0, or a length
	// that disagrees with the header.
	ErrMalformed = errors.New("ssms: malformed share")
	// ErrDuplicate: two shares with the same index or key-share
	// x-coordinate, which no single Split produces.
	ErrDuplicate = errors.New("ssms: duplicate share")
	// ErrMismatch: shares that disagree on n, k, message length or message
	// id, so they cannot be shares of one message.
	ErrMismatch = errors.New("ssms: shares of different messages")
	// ErrIntegrity: key shares that do not reconstruct the message key, or
	// a share whose tag does not verify under it: the share was altered.
	ErrIntegrity = errors.New("ssms: integrity check failed")
	// ErrNotEnoughShares: fewer than k authentic, distinct shares of one
	// message. More shares may succeed. The error also wraps the reasons
	// shares were rejected (ErrIntegrity, ErrMismatch, ...), if any.
	ErrNotEnoughShares = errors.New("ssms: not enough shares")
)

// ShareError says why Combine rejected one of the shares it was given.
type ShareError struct {
	Pos int   // position of the share in the slice given to Combine
	Err error // wraps ErrMalformed, ErrInvalidParams, ErrDuplicate, ErrMismatch or ErrIntegrity
}

func (e *ShareError) Error() string { return fmt.Sprintf("share at position %d: %v", e.Pos, e.Err) }

func (e *ShareError) Unwrap() error { return e.Err }

// combineError is what Combine returns when it finds fewer than k authentic
// shares of any one message. It unwraps to ErrNotEnoughShares and to every
// ShareError.
type combineError struct {
	have, need int
	reasons    []error // *ShareError
}

// maxReasonsShown bounds the length of combineError.Error.
const maxReasonsShown = 4

func (e *combineError) Error() string {
	var b strings.Builder
	if e.need == 0 {
		fmt.Fprintf(&b, "%v: no well-formed share", ErrNotEnoughShares)
	} else {
		fmt.Fprintf(&b, "%v: %d authentic of %d needed", ErrNotEnoughShares, e.have, e.need)
	}
	for i, r := range e.reasons {
		if i == maxReasonsShown {
			fmt.Fprintf(&b, "; and %d more", len(e.reasons)-i)
			break
		}
		b.WriteString("; ")
		b.WriteString(r.Error())
	}
	return b.String()
}

func (e *combineError) Unwrap() []error {
	return append([]error{ErrNotEnoughShares}, e.reasons...)
}

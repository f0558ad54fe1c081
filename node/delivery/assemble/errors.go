package assemble

import (
	"errors"
	"fmt"
)

// Errors of this package; test with errors.Is.
var (
	// ErrInvalidParams: New was given impossible parameters.
	ErrInvalidParams = errors.New("assemble: invalid parameters")
	// ErrLimit: the message would need more memory than Limits allow.
	ErrLimit = errors.New("assemble: over limit")
	// ErrSegment: a segment that does not fit the message: share index out
	// of range, or bytes outside the transfer.
	ErrSegment = errors.New("assemble: segment outside the transfer")
	// ErrMismatch: a VMDT header that names another message, other
	// parameters or another transfer length.
	ErrMismatch = errors.New("assemble: header does not match the message")
	// ErrPrefixMismatch: a share's prefix is well formed but does not fit
	// its transfer: another index, message id, n, k or fragment length.
	ErrPrefixMismatch = errors.New("assemble: prefix does not match the transfer")
	// ErrAltered: a share's fragment bytes differ from what the sender
	// made; the relay that carried it altered them.
	ErrAltered = errors.New("assemble: fragment altered")
	// ErrNotReady: Result was called before Ready.
	ErrNotReady = errors.New("assemble: not enough coverage to decode")
	// ErrUnauthenticated: decoding was tried but the shares did not
	// authenticate; more data may still succeed. It wraps the last error
	// of ssms.CombineReport.
	ErrUnauthenticated = errors.New("assemble: message does not authenticate yet")
)

// ShareError says why one share was rejected. It unwraps to the reason:
// an envelope error (envelope.ErrBadSignature, ...), ErrPrefixMismatch or
// ErrAltered.
type ShareError struct {
	Index uint8 // 1..n
	Err   error
}

func (e *ShareError) Error() string { return fmt.Sprintf("assemble: share %d: %v", e.Index, e.Err) }

func (e *ShareError) Unwrap() error { return e.Err }

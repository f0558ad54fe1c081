package ctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Code is the number an ERR reply carries. Codes follow HTTP's meanings
// where one fits; they are three decimal digits from 400 to 599.
type Code int

// Known codes. A parser accepts any code from 400 to 599 so that new codes
// can be added without breaking old peers.
const (
	CodeMalformed      Code = 400 // the line does not follow the grammar, or the command is unknown
	CodeWrongClient    Code = 401 // the line names a client other than the stream's authenticated peer
	CodeForbidden      Code = 403 // the command is understood but refused
	CodeUnknown        Code = 404 // the named cluster, client or share is not known
	CodeTimeout        Code = 408 // the line did not arrive within the read deadline
	CodeConflict       Code = 409 // the command contradicts existing state
	CodeTooLarge       Code = 413 // the line or a list exceeds a size cap
	CodeRateLimited    Code = 429 // the peer sent too many lines or opened too many streams
	CodeInternal       Code = 500 // the server failed for reasons of its own
	CodeNotImplemented Code = 501 // the command is valid but this node does not serve it
	CodeUnavailable    Code = 503 // the service cannot serve the command now (closed, no direct address)
)

var codeText = map[Code]string{
	CodeMalformed:      "malformed",
	CodeWrongClient:    "wrong client",
	CodeForbidden:      "forbidden",
	CodeUnknown:        "unknown",
	CodeTimeout:        "timeout",
	CodeConflict:       "conflict",
	CodeTooLarge:       "too large",
	CodeRateLimited:    "rate limited",
	CodeInternal:       "internal error",
	CodeNotImplemented: "not implemented",
	CodeUnavailable:    "unavailable",
}

// String returns a short description of c.
func (c Code) String() string {
	if s, ok := codeText[c]; ok {
		return s
	}
	return "code " + strconv.Itoa(int(c))
}

// Valid reports whether c can appear in an ERR reply.
func (c Code) Valid() bool { return c >= 400 && c <= 599 }

// Error is an error with a Code. Every error the parsers return is an
// *Error, and an ERR reply parses into one. Use errors.Is with the
// sentinels below to test for a code, or CodeOf to read it.
type Error struct {
	Code   Code
	Reason string // human-readable; sent on the wire after sanitising
	Err    error  // the cause, if any; not sent
	// Remote is set on errors parsed from an ERR reply: the peer refused
	// the command. Errors found locally, including malformed replies, have
	// it clear.
	Remote bool
}

func (e *Error) Error() string {
	who := "ctl"
	if e.Remote {
		who = "ctl remote"
	}
	if e.Reason == "" {
		return fmt.Sprintf("%s %d: %s", who, int(e.Code), e.Code)
	}
	return fmt.Sprintf("%s %d: %s", who, int(e.Code), e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code and no reason,
// that is, one of the sentinels.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == "" && t.Err == nil && !t.Remote && t.Code == e.Code
}

// Sentinels for errors.Is, one per known code.
var (
	ErrMalformed      = &Error{Code: CodeMalformed}
	ErrWrongClient    = &Error{Code: CodeWrongClient}
	ErrForbidden      = &Error{Code: CodeForbidden}
	ErrUnknown        = &Error{Code: CodeUnknown}
	ErrTimeout        = &Error{Code: CodeTimeout}
	ErrConflict       = &Error{Code: CodeConflict}
	ErrTooLarge       = &Error{Code: CodeTooLarge}
	ErrRateLimited    = &Error{Code: CodeRateLimited}
	ErrInternal       = &Error{Code: CodeInternal}
	ErrNotImplemented = &Error{Code: CodeNotImplemented}
	ErrUnavailable    = &Error{Code: CodeUnavailable}
)

// Errorf returns an *Error with the given code whose reason is the
// formatted text; %w verbs are kept as the cause.
func Errorf(code Code, format string, a ...any) error {
	err := fmt.Errorf(format, a...)
	return &Error{Code: code, Reason: err.Error(), Err: err}
}

// CodeOf returns the code an ERR reply for err carries: the code of the
// first *Error in err's chain, CodeTimeout for deadline errors, and
// CodeInternal for anything else. It returns 0 for a nil error.
func CodeOf(err error) Code {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) && e.Code.Valid() {
		return e.Code
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return CodeTimeout
	}
	return CodeInternal
}

// reasonOf returns the wire reason for err: the reason of its *Error if it
// has one, else the code's description. Internal errors are not described,
// so that a reply does not leak local detail.
func reasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code.Valid() && e.Reason != "" {
		return e.Reason
	}
	return CodeOf(err).String()
}

package consent

import (
	"errors"
	"fmt"

	"github.com/vmdt/vmdt/node/friends"
)

// Errors of the Service; test with errors.Is. A refusal by the peer is a
// *RefusedError, which matches ErrRefused and the sentinel of its code
// (for example friends.ErrReplay or ErrNameNotOwned).
var (
	// ErrNoUsername reports that this node has no registered username,
	// which a friend request must carry.
	ErrNoUsername = errors.New("consent: this node has no registered username (register one first: vmdt name register <name>)")
	// ErrNameNotOwned reports a request whose requester username does not
	// resolve to the key that signed it, or a message signed by another
	// key than the peer that sent it.
	ErrNameNotOwned = errors.New("name or message not owned by the sender")
	// ErrBadRecord reports a name record whose key, peer ID and DDT
	// address do not belong together, or that names another user.
	ErrBadRecord = errors.New("consent: inconsistent name record")
	// ErrUnreachable reports that the peer could not be found or
	// connected to, or the exchange broke off.
	ErrUnreachable = errors.New("consent: peer unreachable")
	// ErrBusy reports that the peer (or we) refused for now because of a
	// rate or size limit; try again later.
	ErrBusy = errors.New("busy, try again later")
	// ErrUnavailable reports a temporary failure at the peer, such as a
	// name lookup or a storage write that failed.
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrRefused matches every *RefusedError.
	ErrRefused = errors.New("consent: refused by peer")
	// ErrClosed reports an operation on a closed Service.
	ErrClosed = errors.New("consent: closed")
)

// Code is an ack's code: 0 for OK, otherwise why the listener refused.
// Codes are append-only.
type Code uint8

// Codes.
const (
	CodeOK           Code = 0
	CodeMalformed    Code = 1  // friends.ErrMalformed, ErrUnsupportedKey, bad frame
	CodeBadSignature Code = 2  // friends.ErrBadSignature
	CodeStale        Code = 3  // friends.ErrStale, ErrExpired, ErrNotYetValid
	CodeReplay       Code = 4  // friends.ErrReplay
	CodeNotForUs     Code = 5  // friends.ErrWrongDestination, ErrWrongSource
	CodeNotOwned     Code = 6  // ErrNameNotOwned
	CodeDenied       Code = 7  // friends.ErrDenied
	CodeBusy         Code = 8  // ErrBusy, friends.ErrFull, friends.ErrBusy
	CodeUnknown      Code = 9  // friends.ErrUnknown
	CodeState        Code = 10 // friends.ErrState
	CodeKeyMismatch  Code = 11 // friends.ErrKeyMismatch
	CodeUnavailable  Code = 12 // ErrUnavailable
)

// codeErrs maps codes to the sentinels they stand for.
var codeErrs = map[Code]error{
	CodeMalformed:    friends.ErrMalformed,
	CodeBadSignature: friends.ErrBadSignature,
	CodeStale:        friends.ErrStale,
	CodeReplay:       friends.ErrReplay,
	CodeNotForUs:     friends.ErrWrongDestination,
	CodeNotOwned:     ErrNameNotOwned,
	CodeDenied:       friends.ErrDenied,
	CodeBusy:         ErrBusy,
	CodeUnknown:      friends.ErrUnknown,
	CodeState:        friends.ErrState,
	CodeKeyMismatch:  friends.ErrKeyMismatch,
	CodeUnavailable:  ErrUnavailable,
}

// codeOf returns the code an error is answered with.
func codeOf(err error) Code {
	switch {
	case err == nil:
		return CodeOK
	case errors.Is(err, friends.ErrMalformed), errors.Is(err, friends.ErrUnsupportedKey):
		return CodeMalformed
	case errors.Is(err, friends.ErrBadSignature):
		return CodeBadSignature
	case errors.Is(err, friends.ErrStale), errors.Is(err, friends.ErrExpired), errors.Is(err, friends.ErrNotYetValid):
		return CodeStale
	case errors.Is(err, friends.ErrReplay):
		return CodeReplay
	case errors.Is(err, friends.ErrWrongDestination), errors.Is(err, friends.ErrWrongSource):
		return CodeNotForUs
	case errors.Is(err, ErrNameNotOwned):
		return CodeNotOwned
	case errors.Is(err, friends.ErrDenied):
		return CodeDenied
	case errors.Is(err, ErrBusy), errors.Is(err, friends.ErrFull), errors.Is(err, friends.ErrBusy):
		return CodeBusy
	case errors.Is(err, friends.ErrUnknown):
		return CodeUnknown
	case errors.Is(err, friends.ErrState):
		return CodeState
	case errors.Is(err, friends.ErrKeyMismatch):
		return CodeKeyMismatch
	}
	return CodeUnavailable
}

// RefusedError is a peer's refusal of a message: the code and reason of
// its ack.
type RefusedError struct {
	Code   Code
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("consent: refused by peer (code %d): %s", e.Code, e.Reason)
}

// Unwrap lets errors.Is match ErrRefused and the sentinel of the code.
func (e *RefusedError) Unwrap() []error {
	if s, ok := codeErrs[e.Code]; ok {
		return []error{ErrRefused, s}
	}
	return []error{ErrRefused}
}

// retriable reports whether a failed delivery may succeed later: the
// peer was unreachable, busy or temporarily unavailable. Other refusals
// are final.
func retriable(err error) bool {
	var re *RefusedError
	if errors.As(err, &re) {
		return re.Code == CodeBusy || re.Code == CodeUnavailable
	}
	return !errors.Is(err, errFinal) && !errors.Is(err, ErrClosed)
}

// errFinal marks a delivery that cannot succeed by retrying (the record
// is gone or in a state that owes nothing).
var errFinal = errors.New("nothing to deliver")

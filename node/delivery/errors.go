package delivery

import (
	"errors"
	"fmt"
)

// Errors of this package; test with errors.Is.
var (
	// ErrInvalidConfig: New was given an incomplete or impossible Config.
	ErrInvalidConfig = errors.New("delivery: invalid config")
	// ErrInvalidParams: Send was given impossible n, k or a bad receiver
	// record.
	ErrInvalidParams = errors.New("delivery: invalid parameters")
	// ErrNotFriends: the receiver has given this node no friend token, so
	// no relay would forward for it.
	ErrNotFriends = errors.New("delivery: not friends with the receiver")
	// ErrNotEnoughRelays: fewer than n responsive relays were found; the
	// error is a *NotEnoughRelaysError saying how many.
	ErrNotEnoughRelays = errors.New("delivery: not enough relays")
	// ErrUndeliverable: more than n-k shares failed (refused by their
	// relays or not carried), so the receiver cannot decode the message.
	ErrUndeliverable = errors.New("delivery: message cannot be delivered")
	// ErrNoConfirmation: the receiver did not confirm delivery within
	// Config.DeliveryTimeout.
	ErrNoConfirmation = errors.New("delivery: no delivery confirmation")
	// ErrClosed: the engine is closed.
	ErrClosed = errors.New("delivery: closed")
	// ErrNotFound: no inbox entry has that id.
	ErrNotFound = errors.New("delivery: message not found")
	// ErrExists: the inbox already holds a message with that id.
	ErrExists = errors.New("delivery: message already stored")
)

// NotEnoughRelaysError says how many relays were found and how many were
// needed. It matches ErrNotEnoughRelays.
type NotEnoughRelaysError struct {
	Found, Need int
}

func (e *NotEnoughRelaysError) Error() string {
	return fmt.Sprintf("delivery: not enough relays: found %d responsive, need %d", e.Found, e.Need)
}

func (e *NotEnoughRelaysError) Is(target error) bool { return target == ErrNotEnoughRelays }

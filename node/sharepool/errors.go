package sharepool

import (
	"errors"
	"fmt"
)

// Sentinels for errors.Is.
var (
	// ErrFull reports that storing a share would break a limit. The
	// returned error is a *LimitError naming the limit.
	ErrFull = errors.New("share pool full")
	// ErrExists reports a share with the same message id, source,
	// destination and index but different contents.
	ErrExists = errors.New("share already held with different contents")
	// ErrInvalid reports an entry that breaks the rules of Entry.
	ErrInvalid = errors.New("invalid share")
	// ErrNotFound reports that no live share matches.
	ErrNotFound = errors.New("share not found")
	// ErrClosed reports use of a closed Pool.
	ErrClosed = errors.New("share pool closed")
	// ErrCorrupt reports an entry file that fails validation.
	ErrCorrupt = errors.New("corrupt share file")
)

// Limit names one of the caps in Limits.
type Limit string

// The limits a LimitError can name.
const (
	LimitTotal        Limit = "total"
	LimitEntries      Limit = "entries"
	LimitPerRecipient Limit = "per-recipient"
	LimitPerSender    Limit = "per-sender"
)

// LimitError is the error Add returns when a share does not fit. It
// matches ErrFull.
type LimitError struct {
	Limit Limit
	Used  int64 // what the pool holds now, in the limit's unit
	Need  int64 // what the share would add
	Max   int64 // the cap
}

func (e *LimitError) Error() string {
	unit := "bytes"
	if e.Limit == LimitEntries {
		unit = "entries"
	}
	return fmt.Sprintf("%v: %s limit: %d %s held + %d > %d", ErrFull, e.Limit, e.Used, unit, e.Need, e.Max)
}

// Is makes errors.Is(err, ErrFull) hold.
func (e *LimitError) Is(target error) bool { return target == ErrFull }

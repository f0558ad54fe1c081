package namerec

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/vmdt/vmdt/internal/wire"
)

// ErrMalformed reports bytes that are not a valid encoding.
var ErrMalformed = errors.New("malformed encoding")

// unixTime converts t to the encoded form, clamping to the valid range.
func unixTime(t time.Time) uint64 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	if uint64(s) >= wire.MaxTime {
		return wire.MaxTime - 1
	}
	return uint64(s)
}

func appendTime(b []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(b, unixTime(t))
}

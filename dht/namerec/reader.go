package namerec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrMalformed reports bytes that are not a valid encoding.
var ErrMalformed = errors.New("malformed encoding")

// maxTime bounds encoded times so that they convert to time.Time and back
// without overflow.
const maxTime = 1 << 62

// reader consumes an encoding front to back; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (r *reader) bytes(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.fail("%s: need %d bytes, have %d", what, n, len(r.b))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8(what string) byte {
	v := r.bytes(1, what)
	if v == nil {
		return 0
	}
	return v[0]
}

func (r *reader) u32(what string) uint32 {
	v := r.bytes(4, what)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

func (r *reader) u64(what string) uint64 {
	v := r.bytes(8, what)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// varBytes reads a 1-byte length and that many bytes; the length must lie
// in min..max.
func (r *reader) varBytes(min, max int, what string) []byte {
	n := int(r.u8(what + " length"))
	if r.err != nil {
		return nil
	}
	if n < min || n > max {
		r.fail("%s length %d, want %d..%d", what, n, min, max)
		return nil
	}
	return r.bytes(n, what)
}

func (r *reader) time(what string) time.Time {
	v := r.u64(what)
	if r.err != nil {
		return time.Time{}
	}
	if v >= maxTime {
		r.fail("%s %d out of range", what, v)
		return time.Time{}
	}
	return time.Unix(int64(v), 0).UTC()
}

func (r *reader) end() {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
}

func appendVar(b, v []byte) []byte {
	b = append(b, byte(len(v)))
	return append(b, v...)
}

// unixTime converts t to the encoded form, clamping to the valid range.
func unixTime(t time.Time) uint64 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	if uint64(s) >= maxTime {
		return maxTime - 1
	}
	return uint64(s)
}

func appendTime(b []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(b, unixTime(t))
}

// Package wire holds what VMDT's hand-written binary encodings (username
// records, notary messages, friend requests, responses and tokens) share:
// a Reader that consumes an encoding front to back and keeps the first
// error, and the encoding of length-prefixed fields and times.
//
// Integers are big-endian; a variable field is a 1-byte length and that
// many bytes; a time is a uint64 of Unix seconds below MaxTime.
package wire

import (
	"encoding/binary"
	"fmt"
	"time"
)

// MaxTime bounds encoded times so that they convert to time.Time and back
// without overflow.
const MaxTime = 1 << 62

// Reader consumes an encoding front to back. After the first failure
// every read returns a zero value and Err keeps that failure, so a parser
// reads every field and checks Err once.
type Reader struct {
	b         []byte
	malformed error
	// Err is the first failure, wrapping the malformed sentinel given to
	// NewReader; nil while every read succeeded.
	Err error
}

// NewReader reads b; failures wrap malformed (the caller's sentinel, for
// errors.Is).
func NewReader(b []byte, malformed error) *Reader {
	return &Reader{b: b, malformed: malformed}
}

// Fail records a failure unless one is recorded already.
func (r *Reader) Fail(format string, args ...any) {
	if r.Err == nil {
		r.Err = fmt.Errorf("%w: "+format, append([]any{r.malformed}, args...)...)
	}
}

// Bytes reads n bytes; the result aliases the input and has no spare
// capacity.
func (r *Reader) Bytes(n int, what string) []byte {
	if r.Err != nil {
		return nil
	}
	if len(r.b) < n {
		r.Fail("%s: need %d bytes, have %d", what, n, len(r.b))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// U8 reads one byte.
func (r *Reader) U8(what string) byte {
	if v := r.Bytes(1, what); v != nil {
		return v[0]
	}
	return 0
}

// U32 reads a big-endian uint32.
func (r *Reader) U32(what string) uint32 {
	if v := r.Bytes(4, what); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

// U64 reads a big-endian uint64.
func (r *Reader) U64(what string) uint64 {
	if v := r.Bytes(8, what); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// VarBytes reads a 1-byte length, which must lie in min..max, and that
// many bytes.
func (r *Reader) VarBytes(min, max int, what string) []byte {
	n := int(r.U8(what + " length"))
	if r.Err != nil {
		return nil
	}
	if n < min || n > max {
		r.Fail("%s length %d, want %d..%d", what, n, min, max)
		return nil
	}
	return r.Bytes(n, what)
}

// Time reads Unix seconds below MaxTime, as a UTC time.
func (r *Reader) Time(what string) time.Time {
	v := r.U64(what)
	if r.Err != nil {
		return time.Time{}
	}
	if v >= MaxTime {
		r.Fail("%s %d out of range", what, v)
		return time.Time{}
	}
	return time.Unix(int64(v), 0).UTC()
}

// End fails if bytes are left: encodings have no trailing data.
func (r *Reader) End() {
	if r.Err == nil && len(r.b) != 0 {
		r.Fail("%d trailing bytes", len(r.b))
	}
}

// AppendVar appends v as a variable field; len(v) must be below 256.
func AppendVar(b, v []byte) []byte {
	b = append(b, byte(len(v)))
	return append(b, v...)
}

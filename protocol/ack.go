package protocol

import (
	"encoding/binary"
	"fmt"
)

// MaxAckRanges bounds the ranges one ACK body carries, so an ACK always
// fits a minimum-size datagram.
const MaxAckRanges = 32

// AckRange is an inclusive range of received sequence numbers.
type AckRange struct{ First, Last uint32 }

// AckBody is the body of an ACK-only datagram.
type AckBody struct {
	DelayMicros uint32
	Ranges      []AckRange
}

// AppendAckBody appends the encoding of a to b. It encodes at most
// MaxAckRanges ranges, the first ones given.
func AppendAckBody(b []byte, a AckBody) []byte {
	r := a.Ranges
	if len(r) > MaxAckRanges {
		r = r[:MaxAckRanges]
	}
	b = binary.BigEndian.AppendUint32(b, a.DelayMicros)
	b = append(b, byte(len(r)))
	for _, x := range r {
		b = binary.BigEndian.AppendUint32(b, x.First)
		b = binary.BigEndian.AppendUint32(b, x.Last)
	}
	return b
}

// ParseAckBody decodes an ACK body. The ranges are appended to dst, which
// the caller may reuse between calls, so parsing allocates nothing once dst
// has room for MaxAckRanges. cumAck is the RDT header's acknowledgement
// number; every range must lie at or above it.
func ParseAckBody(dst []AckRange, b []byte, cumAck uint32) (AckBody, error) {
	if len(b) < 5 {
		return AckBody{}, fmt.Errorf("%w: %d bytes for an ACK body", ErrShort, len(b))
	}
	n := int(b[4])
	if n > MaxAckRanges {
		return AckBody{}, fmt.Errorf("%w: %d ACK ranges, at most %d", ErrInvalid, n, MaxAckRanges)
	}
	if len(b) != 5+8*n {
		return AckBody{}, fmt.Errorf("%w: ACK body of %d bytes for %d ranges", ErrInvalid, len(b), n)
	}
	a := AckBody{DelayMicros: binary.BigEndian.Uint32(b)}
	dst = dst[:0]
	next := cumAck
	for i := 0; i < n; i++ {
		p := b[5+8*i:]
		r := AckRange{First: binary.BigEndian.Uint32(p), Last: binary.BigEndian.Uint32(p[4:])}
		if r.First > r.Last || r.First < next {
			return AckBody{}, fmt.Errorf("%w: ACK range %d..%d not ascending above %d", ErrInvalid, r.First, r.Last, next)
		}
		dst = append(dst, r)
		next = r.Last + 1
		if next == 0 { // Last was the largest sequence number
			if i != n-1 {
				return AckBody{}, fmt.Errorf("%w: ACK range after the largest sequence number", ErrInvalid)
			}
		}
	}
	a.Ranges = dst
	return a, nil
}

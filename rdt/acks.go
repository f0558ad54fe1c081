package rdt

import (
	"sort"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

const (
	// maxTrackedRanges bounds the received-sequence ranges a session
	// remembers. Only the highest protocol.MaxAckRanges are sent; the rest
	// guard against reordering. When more gaps exist the lowest range is
	// forgotten: its datagrams look lost to the sender, which resends the
	// bytes under new numbers.
	maxTrackedRanges = 4 * protocol.MaxAckRanges

	// ackEvery is how many ack-eliciting datagrams may arrive before an
	// ACK goes out at once.
	ackEvery = 2
)

// never is the deadline of a timer that is not armed.
const never = time.Duration(1<<63 - 1)

// ackState is the receiving half of a session's acknowledgement machine:
// which sequence numbers arrived and when the next ACK is due.
//
// The cumulative acknowledgement number stays at the first sequence number
// never received. Because retransmitted data travels under a new number,
// that gap is never filled, so after the first loss of a session the
// cumulative number stops moving and the SACK ranges carry the
// information. It is still sent truthfully: every number below it did
// arrive.
type ackState struct {
	cum       uint32              // every sequence number below it was received; starts at 1
	ranges    []protocol.AckRange // received numbers above cum: ascending, disjoint, not touching
	largest   uint32
	largestAt time.Duration
	pending   int           // ack-eliciting datagrams since the last ACK
	due       time.Duration // when the next ACK must leave
}

func newAckState() ackState { return ackState{cum: 1, due: never} }

// received reports whether the state has anything to acknowledge.
func (a *ackState) received() bool { return a.cum > 1 || len(a.ranges) > 0 }

// record notes the arrival of datagram seq. Ack-eliciting datagrams
// schedule an ACK: at once when immediate is set, when the datagram came
// out of order, or when ackEvery of them are waiting; otherwise after
// maxDelay.
func (a *ackState) record(seq uint32, now time.Duration, eliciting, immediate bool, maxDelay time.Duration) {
	if seq < a.cum {
		return
	}
	outOfOrder := seq != a.largest+1
	if seq > a.largest {
		a.largest = seq
		a.largestAt = now
	}
	a.insert(seq)
	if !eliciting {
		return
	}
	a.pending++
	switch {
	case immediate || outOfOrder || a.pending >= ackEvery:
		a.due = now
	case a.due == never:
		a.due = now + maxDelay
	}
}

func (a *ackState) insert(seq uint32) {
	s := uint64(seq)
	if seq == a.cum {
		a.cum++
		if len(a.ranges) > 0 && a.ranges[0].First == a.cum {
			a.cum = a.ranges[0].Last + 1
			a.ranges = append(a.ranges[:0], a.ranges[1:]...)
		}
		return
	}
	n := len(a.ranges)
	switch {
	case n > 0 && uint64(a.ranges[n-1].Last)+1 == s:
		a.ranges[n-1].Last = seq
		return
	case n == 0 || uint64(a.ranges[n-1].Last)+1 < s:
		a.ranges = append(a.ranges, protocol.AckRange{First: seq, Last: seq})
	default:
		// First range that ends at or after seq-1.
		i := sort.Search(n, func(k int) bool { return uint64(a.ranges[k].Last)+1 >= s })
		r := &a.ranges[i]
		switch {
		case r.First <= seq && seq <= r.Last:
			return
		case uint64(r.Last)+1 == s:
			r.Last = seq
			if i+1 < n && a.ranges[i+1].First == seq+1 {
				r.Last = a.ranges[i+1].Last
				a.ranges = append(a.ranges[:i+1], a.ranges[i+2:]...)
			}
			return
		case r.First == seq+1:
			r.First = seq
			return
		default:
			a.ranges = append(a.ranges, protocol.AckRange{})
			copy(a.ranges[i+1:], a.ranges[i:])
			a.ranges[i] = protocol.AckRange{First: seq, Last: seq}
		}
	}
	if len(a.ranges) > maxTrackedRanges {
		a.ranges = append(a.ranges[:0], a.ranges[1:]...)
	}
}

// appendBody appends the ACK body for the current state: the delay since
// the largest datagram arrived and the highest MaxAckRanges ranges.
func (a *ackState) appendBody(b []byte, now time.Duration) []byte {
	r := a.ranges
	if len(r) > protocol.MaxAckRanges {
		r = r[len(r)-protocol.MaxAckRanges:]
	}
	delay := (now - a.largestAt) / time.Microsecond
	delay = min(max(delay, 0), 1<<32-1)
	return protocol.AppendAckBody(b, protocol.AckBody{DelayMicros: uint32(delay), Ranges: r})
}

// sent notes that an ACK carrying the full state went out.
func (a *ackState) sent() {
	a.pending = 0
	a.due = never
}

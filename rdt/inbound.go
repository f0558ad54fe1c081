package rdt

import (
	"fmt"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

var errInboundTimeout = fmt.Errorf("%w: inbound transfer made no progress", ErrTimeout)

// inTransfer is the receiving state of one share.
type inTransfer struct {
	key          transferKey
	hdr          protocol.VMDTHeader // Offset 0
	buf          []byte              // nil when the share is not reassembled
	got          spanSet
	reserved     int64
	filled       int64
	lastProgress time.Duration
}

type tombKind uint8

const (
	tombDone      tombKind = iota + 1 // completed: later datagrams are acknowledged and ignored
	tombAbandoned                     // abandoned: later datagrams are refused with a notice
)

// tomb remembers a finished inbound transfer for 2 × TransferTimeout.
type tomb struct {
	kind tombKind
	hits uint32
}

// sameShare reports whether two headers of one transfer agree on the
// share they describe.
func sameShare(a, b *protocol.VMDTHeader) bool {
	return a.Type == b.Type && a.Flags == b.Flags && a.N == b.N && a.K == b.K && a.ShareLen == b.ShareLen
}

// onData handles the VMDT header and payload of a DATA datagram. It
// returns dropNone if the datagram is to be acknowledged.
func (s *session) onData(now time.Duration, h protocol.VMDTHeader, payload []byte) dropReason {
	k := keyOf(&h)
	in := s.ins[k]
	if in == nil {
		if t := s.tombs.get(k); t != nil {
			if t.kind == tombDone {
				s.ctr.DuplicateSegments++
				s.acks.due = now // the sender missed our ACK
				return dropNone
			}
			if t.hits%noticeEvery == 0 {
				s.queueNotice(h)
			}
			t.hits++
			s.ctr.DroppedAbandoned++
			return dropAbandoned
		}
		if s.dropMsgs.get(k.msgKey()) != nil {
			s.tombs.put(k, tomb{kind: tombAbandoned, hits: 1}, now)
			s.queueNotice(h)
			s.ctr.DroppedAbandoned++
			return dropAbandoned
		}
		var ok bool
		if in, ok = s.startIn(now, h); !ok {
			s.ctr.DroppedOverCap++
			return dropOverCap
		}
	} else if !sameShare(&in.hdr, &h) {
		s.ctr.DroppedMalformed++
		return dropMalformed
	}
	lo := uint64(h.Offset)
	added := in.got.addNew(lo, lo+uint64(len(payload)), func(a, b uint64) {
		seg := payload[a-lo : b-lo]
		if in.buf != nil {
			copy(in.buf[a:b], seg)
		}
		sh := in.hdr
		sh.Offset = uint32(a)
		s.events = append(s.events, event{kind: evSegment, hdr: sh, data: seg})
	})
	if added > 0 {
		in.lastProgress = now
		if in.buf != nil {
			in.filled += int64(added)
			s.budget.fill(int64(added))
		}
	} else if len(payload) > 0 {
		s.ctr.DuplicateSegments++
	}
	if in.got.len() == uint64(in.hdr.ShareLen) {
		s.completeIn(now, in)
	}
	return dropNone
}

// startIn admits a new inbound transfer if the reassembly caps allow.
func (s *session) startIn(now time.Duration, h protocol.VMDTHeader) (*inTransfer, bool) {
	h.Offset = 0
	keep := s.p.Reassemble == nil || s.p.Reassemble(s.from, h)
	res := int64(inTransferOverhead)
	if keep {
		res += int64(h.ShareLen)
	}
	if !s.budget.reserve(res) {
		return nil, false
	}
	in := &inTransfer{key: keyOf(&h), hdr: h, reserved: res, lastProgress: now}
	if keep {
		in.buf = make([]byte, h.ShareLen)
	}
	s.ins[in.key] = in
	s.inCheck = min(s.inCheck, now+s.p.TransferTimeout)
	if h.ShareLen == 0 {
		s.events = append(s.events, event{kind: evSegment, hdr: h})
	}
	return in, true
}

// completeIn finishes an inbound transfer that has every byte.
func (s *session) completeIn(now time.Duration, in *inTransfer) {
	delete(s.ins, in.key)
	s.tombs.put(in.key, tomb{kind: tombDone}, now)
	s.ctr.SharesReceived++
	s.acks.due = now // let the sender finish at once
	if in.buf == nil {
		s.budget.release(in.reserved, in.filled)
		return
	}
	// A complete share fills all it reserved until the application takes
	// it, so a receiver that does not read closes its window.
	s.budget.fill(in.reserved - in.filled)
	in.filled = in.reserved
	s.events = append(s.events, event{kind: evDelivery, hdr: in.hdr, data: in.buf, reserved: in.reserved, filled: in.filled})
}

// dropIn frees an unfinished inbound transfer and reports it.
func (s *session) dropIn(in *inTransfer, err error) {
	delete(s.ins, in.key)
	s.budget.release(in.reserved, in.filled)
	s.events = append(s.events, event{kind: evInFailed, hdr: in.hdr, err: err})
}

// checkInbound frees inbound transfers that made no progress for the
// transfer timeout.
func (s *session) checkInbound(now time.Duration) {
	s.inCheck = never
	for _, in := range s.ins {
		if now-in.lastProgress >= s.p.TransferTimeout {
			s.dropIn(in, errInboundTimeout)
			s.ctr.InboundExpired++
			continue
		}
		s.inCheck = min(s.inCheck, in.lastProgress+s.p.TransferTimeout)
	}
}

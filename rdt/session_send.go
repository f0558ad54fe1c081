package rdt

import (
	"time"

	"github.com/vmdt/vmdt/protocol"
)

// poll runs the session's due timers and returns the next datagram to
// send now, built into buf (which needs room for MaxDatagram bytes) as the
// RDT header followed by the plaintext body; the caller seals it. It
// returns nil when nothing is due: see deadline for when to ask again.
//
// Order of precedence: an empty CLOSE, abandon notices, a due ACK, a PING
// probe, then data as flow control, the congestion window and the pacer
// allow.
func (s *session) poll(now time.Duration, buf []byte) []byte {
	s.runTimers(now)
	switch {
	case s.exhausted:
		return nil
	case s.closing:
		s.closing = false
		s.ctr.ClosesSent++
		return s.control(now, buf, protocol.FlagClose)
	case s.closed:
		return nil
	case len(s.notices) > 0:
		h := s.notices[0]
		s.notices = append(s.notices[:0], s.notices[1:]...)
		d := s.control(now, buf, protocol.FlagClose)
		if d == nil {
			return nil
		}
		s.ctr.ClosesSent++
		return protocol.AppendVMDTHeader(d, h)
	case s.acks.due <= now:
		return s.ackDatagram(now, buf)
	case s.sendPing:
		s.sendPing = false
		s.ctr.PingsSent++
		return s.control(now, buf, protocol.FlagPing)
	}
	return s.data(now, buf)
}

// ackDue reports whether an ACK should go out now.
func (s *session) ackDue(now time.Duration) bool {
	return !s.closed && !s.exhausted && s.acks.due <= now
}

// ackDatagram builds an ACK-only datagram.
func (s *session) ackDatagram(now time.Duration, buf []byte) []byte {
	d := s.control(now, buf, protocol.FlagAck)
	if d == nil {
		return nil
	}
	s.ctr.AcksSent++
	d = s.acks.appendBody(d, now)
	s.acks.sent()
	return d
}

// takeSeq allocates the next sequence number, or returns 0 when the key is
// used up (then every outgoing transfer fails).
func (s *session) takeSeq() uint32 {
	if s.exhausted {
		return 0
	}
	seq := s.nextSeq
	s.nextSeq++
	if s.nextSeq == 0 {
		s.exhausted = true
		s.failOutgoing(ErrKeyExhausted)
	}
	return seq
}

// header appends the RDT header of a datagram with flags and a new
// sequence number, recording an untracked scoreboard entry for it. The
// cumulative ACK rides on every datagram once something was received.
func (s *session) header(buf []byte, flags uint8) ([]byte, uint32) {
	seq := s.takeSeq()
	if seq == 0 {
		return nil, 0
	}
	h := protocol.RDTHeader{Flags: flags, Window: s.window(), KeyID: s.keyID, Seq: seq}
	if s.acks.received() {
		h.Flags |= protocol.FlagAck
		h.Ack = s.acks.cum
	}
	return protocol.AppendRDTHeader(buf[:0], h), seq
}

func (s *session) control(now time.Duration, buf []byte, flags uint8) []byte {
	d, seq := s.header(buf, flags)
	if d != nil {
		s.ring.push(seq, sentPacket{state: pktUntracked})
		s.trim(now)
	}
	return d
}

// dataBlocked reports whether flow control or the congestion window stop
// new data now.
func (s *session) dataBlocked() bool {
	if s.inflight >= int(s.peerWindow) {
		return true
	}
	if s.rtoRecovery {
		return s.inflight >= rtoProbes
	}
	return s.inflightBytes+s.p.MaxDatagram > s.cc.cwnd
}

// pendingBytes is the payload waiting to be sent, over all transfers.
func (s *session) pendingBytes() int {
	var n uint64
	for _, t := range s.outs {
		n += t.fresh.len() + t.retx.len()
	}
	return int(min(n, 1<<40))
}

func (s *session) hasData() bool {
	for _, t := range s.outs {
		if t.hasData() {
			return true
		}
	}
	return false
}

// data builds the next data datagram, if flow control, the congestion
// window, the pacer and the transfers allow.
func (s *session) data(now time.Duration, buf []byte) []byte {
	if len(s.outs) == 0 || s.dataBlocked() {
		s.armProbe(now)
		return nil
	}
	if !s.pace.ready(now, s.cc.pacingRate, s.cc.quantum()) {
		return nil
	}
	var (
		t          *outTransfer
		lo, hi     uint64
		retx, ok   bool
		maxPayload = uint64(s.p.maxPayload)
	)
	for i := range s.outs {
		idx := (s.rr + i) % len(s.outs)
		if lo, hi, retx, ok = s.outs[idx].next(maxPayload); ok {
			t = s.outs[idx]
			s.rr = idx + 1
			break
		}
	}
	if t == nil {
		s.cc.setAppLimited(s.inflightBytes)
		return nil
	}
	d, seq := s.header(buf, protocol.FlagData)
	if d == nil {
		return nil
	}
	h := t.hdr
	h.Offset = uint32(lo)
	d = protocol.AppendVMDTHeader(d, h)
	n := int(hi - lo)
	d = d[:len(d)+n]
	t.data.readAt(d[len(d)-n:], int(lo))

	p := sentPacket{tr: t, off: uint32(lo), n: uint32(n), size: uint16(len(d) + tagLen), state: pktInFlight, sent: now}
	if s.inflightBytes+int(p.size)+s.pendingBytes() < s.cc.cwnd {
		// What is left cannot fill the window: the rate samples of this
		// flight measure the application, not the path.
		s.cc.setAppLimited(s.inflightBytes)
	}
	if s.inflight == 0 {
		s.rtoBase = now
		if !s.rtoRecovery {
			s.cc.onRestart(now)
		}
	}
	s.cc.onSent(&p, now, s.inflightBytes)
	s.inflight++
	s.inflightBytes += int(p.size)
	s.ring.push(seq, p)
	s.pace.spend(int(p.size))
	s.ctr.DataSent++
	if retx {
		s.ctr.Retransmits++
	}
	return d
}

// armProbe schedules a PING when the peer's window is closed and nothing
// in flight will bring a window update.
func (s *session) armProbe(now time.Duration) {
	if s.inflight == 0 && s.peerWindow == 0 && s.probeAt == never && s.hasData() {
		s.probeAt = now + s.rto()
	}
}

// runTimers fires the timers that are due.
func (s *session) runTimers(now time.Duration) {
	if s.lossTime <= now {
		s.detectLosses(now)
		s.cc.onAckEnd(now, s.inflightBytes)
	}
	if s.inflight > 0 && s.rtoBase+s.rto() <= now {
		s.onRTO(now)
	}
	if s.probeAt <= now {
		if s.inflight == 0 && s.peerWindow == 0 && s.hasData() {
			s.sendPing = true
			s.probeCount = min(s.probeCount+1, maxBackoff)
			s.probeAt = now + min(s.rto()<<s.probeCount, s.p.MaxRTO)
		} else {
			s.probeAt, s.probeCount = never, 0
		}
	}
	if s.outCheck <= now {
		s.checkOutgoing(now)
	}
	if s.inCheck <= now {
		s.checkInbound(now)
	}
	if s.tombs.next() <= now {
		s.tombs.expire(now)
	}
	if s.dropMsgs.next() <= now {
		s.dropMsgs.expire(now)
	}
}

// checkOutgoing fails outgoing transfers that made no progress for the
// transfer timeout while they had bytes outstanding.
func (s *session) checkOutgoing(now time.Duration) {
	timeout := s.p.TransferTimeout
	s.outCheck = never
	for i := 0; i < len(s.outs); {
		t := s.outs[i]
		if !t.outstanding() {
			i++
			continue
		}
		if now-t.lastProgress >= timeout {
			err := errNoProgress
			if now-s.lastHeard >= timeout {
				err = errUnreachable
			}
			s.finishOut(t, err)
			continue
		}
		s.outCheck = min(s.outCheck, t.lastProgress+timeout)
		i++
	}
}

// deadline returns when the session next needs poll: the earliest armed
// timer, or when the pacer lets the next data datagram go; never if it
// is idle. It arms the zero-window probe if the peer's window blocks
// waiting data.
func (s *session) deadline(now time.Duration) time.Duration {
	if s.exhausted {
		return never
	}
	if s.closing || (!s.closed && (len(s.notices) > 0 || s.sendPing)) {
		return now
	}
	if s.closed {
		return never
	}
	blocked := s.dataBlocked()
	if blocked {
		s.armProbe(now)
	}
	d := min(s.acks.due, s.lossTime, s.probeAt, s.outCheck, s.inCheck, s.tombs.next(), s.dropMsgs.next())
	if s.inflight > 0 {
		d = min(d, s.rtoBase+s.rto())
	}
	if d > now && !blocked && s.hasData() {
		s.pace.refill(now, s.cc.pacingRate, s.cc.quantum())
		d = min(d, s.pace.next(now, s.cc.pacingRate))
	}
	return d
}

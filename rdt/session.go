package rdt

import (
	"net"
	"time"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/rdt/internal/replay"
)

// A session is the protocol state for one peer and one key: the sending
// half (sequence numbers, scoreboard, RTT estimator, congestion
// controller, pacer, outgoing transfers) and the receiving half (replay
// window, ACK state, reassembly of inbound transfers). It is a pure state
// machine: the transport hands it the current time and opened datagrams
// (receive), asks it for datagrams to seal and send (poll) and for the
// time it next needs attention (deadline), and collects the events it
// produced (takeEvents). It does no I/O, starts no goroutines and is not
// safe for concurrent use; the transport serialises calls with a lock.
//
// Times are durations since an epoch the caller chooses.
type session struct {
	p      *params
	keyID  uint32
	from   net.Addr // the peer, for hooks and events
	budget budget

	// Sending half.
	nextSeq       uint32
	exhausted     bool
	ring          sentRing
	ackedSeqs     spanSet // sequence numbers the peer acknowledged, at or above ring.base
	scanFrom      uint32  // lowest sequence number that may still be in flight
	inflight      int     // data datagrams in flight
	inflightBytes int
	largestAcked  uint32 // largest acknowledged data datagram
	lossTime      time.Duration
	rtt           rttEstimator
	cc            *bbr
	pace          pacer
	rtoBase       time.Duration
	rtoCount      int
	rtoRecovery   bool // a timeout fired and no ACK has come since
	peerWindow    uint16
	peerWindowSeq uint32
	probeAt       time.Duration // zero-window probe
	probeCount    int
	sendPing      bool
	lastHeard     time.Duration
	outs          []*outTransfer // round-robin order
	outByKey      map[transferKey]*outTransfer
	rr            int
	outCheck      time.Duration
	notices       []protocol.VMDTHeader // abandon notices to send
	closing       bool                  // an empty CLOSE is to be sent
	closed        bool

	// Receiving half.
	replay     replay.Filter
	acks       ackState
	ins        map[transferKey]*inTransfer
	inCheck    time.Duration
	tombs      recent[transferKey, tomb]
	dropMsgs   recent[msgKey, struct{}]
	advertised uint16
	ackScratch []protocol.AckRange

	events []event
	ctr    counters
}

// Session constants.
const (
	initialPeerWindow  = 256 // datagrams assumed before the peer advertises
	maxNotices         = 64
	maxTombs           = 1024
	noticeEvery        = 8 // answer every 8th datagram of an abandoned transfer
	inTransferOverhead = 256
	rtoProbes          = 2 // datagrams in flight while recovering from a timeout
	maxBackoff         = 16
	minPollInterval    = 50 * time.Microsecond
)

// budget is the reassembly memory account a session draws on.
type budget interface {
	reserve(n int64) bool
	fill(n int64)
	release(reserved, filled int64)
	window(maxPayload int) uint16
}

type eventKind uint8

const (
	evSegment    eventKind = iota + 1 // new bytes of an inbound share; data is borrowed
	evDelivery                        // an inbound share is complete; data is the share
	evOutDone                         // an outgoing transfer ended; err is nil on success
	evInFailed                        // an inbound transfer ended unfinished
	evPeerClosed                      // the peer sent CLOSE
)

type event struct {
	kind     eventKind
	hdr      protocol.VMDTHeader
	data     []byte
	out      *outTransfer
	err      error
	reserved int64
	filled   int64
}

type dropReason uint8

const (
	dropNone dropReason = iota
	dropMalformed
	dropReplay
	dropOverCap
	dropAbandoned
	dropClosed
)

// counters are a session's statistics; see Stats for their meaning.
type counters struct {
	DataSent, Retransmits, AcksSent, PingsSent, ClosesSent uint64
	RTOs, Lost, Spurious                                   uint64
	DroppedReplay, DroppedMalformed, DroppedOverCap        uint64
	DroppedAbandoned, DuplicateSegments                    uint64
	SharesSent, SharesReceived                             uint64
	OutboundFailed, InboundExpired, InboundAbandoned       uint64
}

func (c *counters) add(o *counters) {
	c.DataSent += o.DataSent
	c.Retransmits += o.Retransmits
	c.AcksSent += o.AcksSent
	c.PingsSent += o.PingsSent
	c.ClosesSent += o.ClosesSent
	c.RTOs += o.RTOs
	c.Lost += o.Lost
	c.Spurious += o.Spurious
	c.DroppedReplay += o.DroppedReplay
	c.DroppedMalformed += o.DroppedMalformed
	c.DroppedOverCap += o.DroppedOverCap
	c.DroppedAbandoned += o.DroppedAbandoned
	c.DuplicateSegments += o.DuplicateSegments
	c.SharesSent += o.SharesSent
	c.SharesReceived += o.SharesReceived
	c.OutboundFailed += o.OutboundFailed
	c.InboundExpired += o.InboundExpired
	c.InboundAbandoned += o.InboundAbandoned
}

func newSession(p *params, keyID uint32, from net.Addr, b budget, now time.Duration) *session {
	ttl := 2 * p.TransferTimeout
	return &session{
		p:          p,
		keyID:      keyID,
		from:       from,
		budget:     b,
		nextSeq:    1,
		scanFrom:   1,
		lossTime:   never,
		cc:         newBBR(p.MaxDatagram),
		peerWindow: initialPeerWindow,
		probeAt:    never,
		lastHeard:  now,
		outByKey:   make(map[transferKey]*outTransfer),
		outCheck:   never,
		acks:       newAckState(),
		ins:        make(map[transferKey]*inTransfer),
		inCheck:    never,
		tombs:      newRecent[transferKey, tomb](maxTombs, ttl),
		dropMsgs:   newRecent[msgKey, struct{}](maxTombs, ttl),
		ackScratch: make([]protocol.AckRange, 0, protocol.MaxAckRanges),
	}
}

// takeEvents appends the pending events to dst and clears them.
func (s *session) takeEvents(dst []event) []event {
	dst = append(dst, s.events...)
	clear(s.events)
	s.events = s.events[:0]
	return dst
}

// receive processes one authenticated datagram: h is its header, body its
// opened body. It returns why the datagram was dropped, if it was.
func (s *session) receive(now time.Duration, h protocol.RDTHeader, body []byte) dropReason {
	if s.closed {
		return dropClosed
	}
	var (
		vh      protocol.VMDTHeader
		payload []byte
		ack     protocol.AckBody
		hasBody bool
		err     error
	)
	// Validate the whole datagram before it may touch any state.
	switch {
	case h.Flags&protocol.FlagData != 0:
		if h.Flags&protocol.FlagClose != 0 {
			err = protocol.ErrInvalid
			break
		}
		vh, payload, err = protocol.ParseVMDTHeader(body)
		if err == nil && int64(vh.ShareLen) > int64(s.p.MaxShareLen) {
			err = ErrShareTooLarge
		}
	case h.Flags&protocol.FlagClose != 0:
		if len(body) != 0 {
			vh, payload, err = protocol.ParseVMDTHeader(body)
			if err == nil && len(payload) != 0 {
				err = protocol.ErrInvalid
			}
		}
	case h.Flags&protocol.FlagPing != 0:
		if len(body) != 0 {
			err = protocol.ErrInvalid
		}
	default: // ACK only
		ack, err = protocol.ParseAckBody(s.ackScratch[:0], body, h.Ack)
		hasBody = true
	}
	if err != nil {
		s.ctr.DroppedMalformed++
		return dropMalformed
	}
	if !s.replay.Accept(h.Seq) {
		s.ctr.DroppedReplay++
		return dropReplay
	}
	s.lastHeard = now
	if h.Seq > s.peerWindowSeq {
		s.peerWindowSeq = h.Seq
		s.setPeerWindow(h.Window)
	}
	if h.Flags&protocol.FlagAck != 0 {
		s.onAck(now, h.Ack, ack.Ranges, time.Duration(ack.DelayMicros)*time.Microsecond, hasBody)
	}
	switch {
	case h.Flags&protocol.FlagData != 0:
		if r := s.onData(now, vh, payload); r != dropNone {
			return r
		}
		s.acks.record(h.Seq, now, true, false, s.p.MaxAckDelay)
	case h.Flags&protocol.FlagClose != 0:
		if len(body) == 0 {
			s.onPeerClose()
			return dropNone
		}
		s.onNotice(now, vh)
		s.acks.record(h.Seq, now, false, false, 0)
	case h.Flags&protocol.FlagPing != 0:
		s.acks.record(h.Seq, now, true, true, 0)
	default:
		s.acks.record(h.Seq, now, false, false, 0)
	}
	return dropNone
}

func (s *session) setPeerWindow(w uint16) {
	s.peerWindow = w
	if w > 0 {
		s.probeAt, s.probeCount = never, 0
	}
}

// window is the receive window to advertise, in datagrams.
func (s *session) window() uint16 {
	w := s.budget.window(s.p.maxPayload)
	s.advertised = w
	return w
}

// windowOpened is called when reassembly memory was released; it sends a
// window update if the peer may be waiting for one.
func (s *session) windowOpened(now time.Duration) {
	if s.closed {
		return
	}
	if w := s.budget.window(s.p.maxPayload); w > 0 && (s.advertised == 0 || w >= 2*s.advertised) {
		s.acks.due = now
	}
}

// startOut adds an outgoing transfer.
func (s *session) startOut(now time.Duration, t *outTransfer) error {
	switch {
	case s.closed:
		return errPeerRemoved
	case s.exhausted:
		return ErrKeyExhausted
	case s.outByKey[t.key] != nil:
		return ErrTransferExists
	}
	t.lastProgress = now
	s.outs = append(s.outs, t)
	s.outByKey[t.key] = t
	s.outCheck = min(s.outCheck, now+s.p.TransferTimeout)
	return nil
}

// writeOut makes bytes of a streamed transfer available.
func (s *session) writeOut(now time.Duration, t *outTransfer, p []byte, off uint64) error {
	if t.done {
		return t.err
	}
	if off > t.length || uint64(len(p)) > t.length-off {
		return ErrRange
	}
	idle := !t.outstanding()
	if t.write(p, off) && idle {
		// The no-progress clock runs only while bytes are outstanding.
		t.lastProgress = now
		s.outCheck = min(s.outCheck, now+s.p.TransferTimeout)
	}
	return nil
}

// abandonOut ends an outgoing transfer at the application's request and
// tells the peer.
func (s *session) abandonOut(t *outTransfer) {
	if !t.done {
		s.finishOut(t, errAbandonedLocally)
	}
}

// finishOut ends an outgoing transfer with err (nil on success).
func (s *session) finishOut(t *outTransfer, err error) {
	t.done, t.err = true, err
	delete(s.outByKey, t.key)
	for i, x := range s.outs {
		if x == t {
			s.outs = append(s.outs[:i], s.outs[i+1:]...)
			break
		}
	}
	switch {
	case err == nil:
		s.ctr.SharesSent++
	case err == errAbandonedLocally:
		s.queueNotice(t.hdr)
		s.ctr.OutboundFailed++
		s.forgetFlight(t)
	case err == errAbandonedByPeer:
		s.ctr.OutboundFailed++
		s.forgetFlight(t)
	default:
		s.ctr.OutboundFailed++
	}
	s.events = append(s.events, event{kind: evOutDone, out: t, err: err})
}

// forgetFlight takes the datagrams of the abandoned transfer t out of
// the flight. The receiver does not acknowledge data of a transfer it
// abandoned, so they would hold the congestion window until declared
// lost, and the next message on the session would find it busy: it would
// wait, and start without the restart rules of an idle session
// (bbr.onRestart). They are neither delivered nor lost for the
// congestion controller; an ACK that still comes for one is ignored.
func (s *session) forgetFlight(t *outTransfer) {
	for seq := max(s.scanFrom, s.ring.base); seq != s.nextSeq; seq++ {
		p := s.ring.get(seq)
		if p == nil {
			break
		}
		if p.tr == t && p.state == pktInFlight {
			p.state = pktAcked
			s.inflight--
			s.inflightBytes -= int(p.size)
		}
	}
}

func (s *session) queueNotice(h protocol.VMDTHeader) {
	if len(s.notices) < maxNotices && !s.closed {
		h.Offset = 0
		s.notices = append(s.notices, h)
	}
}

// onNotice handles an abandon notice from the peer: a CLOSE whose body is
// the VMDT header of a transfer in either direction.
func (s *session) onNotice(now time.Duration, h protocol.VMDTHeader) {
	k := keyOf(&h)
	t := s.outByKey[k]
	if t != nil {
		s.finishOut(t, errAbandonedByPeer)
	}
	if in := s.ins[k]; in != nil {
		s.dropIn(in, errAbandonedByPeer)
		s.ctr.InboundAbandoned++
		s.tombs.put(k, tomb{kind: tombAbandoned}, now)
		return
	}
	if t == nil && s.tombs.get(k) == nil {
		// The peer abandoned a transfer to us before any of it arrived.
		// Remember it, so stragglers are refused, and report it, so the
		// application can stop what it prepared for the transfer (a relay's
		// forward, for example) instead of waiting for the timeout.
		s.tombs.put(k, tomb{kind: tombAbandoned}, now)
		s.events = append(s.events, event{kind: evInFailed, hdr: h, err: errAbandonedByPeer})
	}
}

// abandonMessage ends every transfer of message id in both directions and
// refuses inbound ones that start later.
func (s *session) abandonMessage(now time.Duration, m msgKey) {
	if s.closed {
		return
	}
	s.dropMsgs.put(m, struct{}{}, now)
	for k, in := range s.ins {
		if k.msgKey() == m {
			s.dropIn(in, errAbandonedLocally)
			s.ctr.InboundAbandoned++
			s.tombs.put(k, tomb{kind: tombAbandoned}, now)
			s.queueNotice(in.hdr)
		}
	}
	for i := 0; i < len(s.outs); {
		if t := s.outs[i]; t.key.msgKey() == m {
			s.finishOut(t, errAbandonedLocally)
			continue
		}
		i++
	}
}

func (s *session) onPeerClose() {
	s.shutdown(errPeerSentClose)
	s.events = append(s.events, event{kind: evPeerClosed})
}

// shutdown ends every transfer with err and stops the session. With
// sendClose an empty CLOSE is still produced by the next poll.
func (s *session) shutdown(err error) {
	for len(s.outs) > 0 {
		s.finishOut(s.outs[0], err)
	}
	for _, in := range s.ins {
		s.dropIn(in, err)
	}
	s.notices = s.notices[:0]
	s.closed = true
}

// failOutgoing ends every outgoing transfer with err; the session stays.
func (s *session) failOutgoing(err error) {
	for len(s.outs) > 0 {
		s.finishOut(s.outs[0], err)
	}
}

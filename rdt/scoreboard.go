package rdt

import (
	"time"

	"github.com/vmdt/vmdt/protocol"
)

type pktState uint8

const (
	pktUntracked pktState = iota // ACK, PING, CLOSE: never in flight
	pktInFlight
	pktAcked
	pktLost
)

// sentPacket is the scoreboard entry of one sent datagram.
type sentPacket struct {
	tr    *outTransfer // data datagrams only
	off   uint32
	n     uint32
	size  uint16
	state pktState

	// Delivery-rate sampling (see bbr).
	appLimited    bool
	sent          time.Duration
	firstSent     time.Duration
	deliveredTime time.Duration
	delivered     int64
	lostAtSend    int64
}

// sentRing holds the scoreboard entries of consecutive sequence numbers
// [base, base+n) in a growable circular buffer, so lookups by sequence
// number cost O(1) and steady-state sending allocates nothing.
type sentRing struct {
	buf  []sentPacket
	head int
	n    int
	base uint32
}

func (r *sentRing) push(seq uint32, p sentPacket) {
	if r.n == 0 {
		r.base, r.head = seq, 0
	}
	if r.n == len(r.buf) {
		nb := make([]sentPacket, max(64, 2*len(r.buf)))
		for i := 0; i < r.n; i++ {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = p
	r.n++
}

// get returns the entry of seq, or nil if it is not held.
func (r *sentRing) get(seq uint32) *sentPacket {
	if r.n == 0 || seq < r.base || uint64(seq-r.base) >= uint64(r.n) {
		return nil
	}
	return &r.buf[(r.head+int(seq-r.base))%len(r.buf)]
}

func (r *sentRing) front() *sentPacket {
	if r.n == 0 {
		return nil
	}
	return &r.buf[r.head]
}

func (r *sentRing) popFront() {
	r.buf[r.head] = sentPacket{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	r.base++
}

// onAck processes the acknowledgement information of one datagram: the
// cumulative number cum and, for an ACK body, its ranges and delay.
func (s *session) onAck(now time.Duration, cum uint32, ranges []protocol.AckRange, delay time.Duration, hasBody bool) {
	var largest uint32
	if cum > 0 {
		largest = cum - 1
	}
	if n := len(ranges); n > 0 {
		largest = ranges[n-1].Last
	}
	var (
		newData    bool
		sampleFrom time.Duration = -1
	)
	visit := func(lo, hi uint64) {
		for q := lo; q < hi; q++ {
			seq := uint32(q)
			p := s.ring.get(seq)
			if p == nil {
				continue
			}
			if p.tr != nil && (p.state == pktInFlight || p.state == pktLost) {
				newData = true
				s.largestAcked = max(s.largestAcked, seq)
				if seq == largest {
					sampleFrom = p.sent
				}
			}
			s.onPacketAcked(now, p)
		}
	}
	if cum > 1 {
		s.ackSeqs(1, cum-1, visit)
	}
	for _, r := range ranges {
		s.ackSeqs(r.First, r.Last, visit)
	}
	if !newData {
		return
	}
	if sampleFrom >= 0 && hasBody {
		s.rtt.sample(now-sampleFrom, delay)
	}
	s.rtoCount, s.rtoRecovery, s.rtoBase = 0, false, now
	s.detectLosses(now)
	s.cc.onAckEnd(now, s.inflightBytes)
	s.trim(now)
}

// ackSeqs calls visit for the sequence numbers in [first, last] that were
// sent, are still on the scoreboard and were not acknowledged before.
func (s *session) ackSeqs(first, last uint32, visit func(lo, hi uint64)) {
	lo := max(uint64(first), uint64(s.ring.base))
	hi := min(uint64(last)+1, uint64(s.ring.base)+uint64(s.ring.n))
	if lo >= hi {
		return
	}
	s.ackedSeqs.addNew(lo, hi, visit)
}

func (s *session) onPacketAcked(now time.Duration, p *sentPacket) {
	switch p.state {
	case pktInFlight:
		s.inflight--
		s.inflightBytes -= int(p.size)
		s.cc.onAcked(p, now)
	case pktLost:
		s.ctr.Spurious++ // declared lost too early; the bytes still count
	default:
		p.state = pktAcked
		return
	}
	p.state = pktAcked
	if t := p.tr; t != nil && !t.done {
		if t.ack(p.off, p.n) {
			t.lastProgress = now
		}
		if t.complete() {
			s.finishOut(t, nil)
		}
	}
	p.tr = nil
}

// detectLosses declares lost every data datagram in flight that was sent
// before the largest acknowledged one and either trails it by 3 or more
// sequence numbers (packet threshold, like 3 duplicate ACKs) or was sent
// more than 9/8 RTT ago (time threshold, RFC 9002). It arms the loss timer
// for the earliest datagram that may cross the time threshold later.
func (s *session) detectLosses(now time.Duration) {
	s.lossTime = never
	delay := s.rtt.lossDelay()
	s.advanceScan()
	for seq := s.scanFrom; seq < s.largestAcked; seq++ {
		p := s.ring.get(seq)
		if p == nil || p.state != pktInFlight {
			continue
		}
		if s.largestAcked-seq >= 3 || now-p.sent >= delay {
			s.declareLost(p)
			continue
		}
		s.lossTime = min(s.lossTime, p.sent+delay)
	}
	s.advanceScan()
}

// advanceScan moves scanFrom past datagrams no longer in flight.
func (s *session) advanceScan() {
	s.scanFrom = max(s.scanFrom, s.ring.base)
	for {
		p := s.ring.get(s.scanFrom)
		if p == nil || p.state == pktInFlight {
			return
		}
		s.scanFrom++
	}
}

func (s *session) declareLost(p *sentPacket) {
	p.state = pktLost
	s.inflight--
	s.inflightBytes -= int(p.size)
	s.cc.onLost(p)
	s.ctr.Lost++
	if t := p.tr; t != nil && !t.done {
		t.lost(p.off, p.n)
	}
}

// onRTO handles a retransmission timeout: everything in flight is declared
// lost, the timeout backs off, and until an ACK arrives at most rtoProbes
// datagrams may be in flight.
func (s *session) onRTO(now time.Duration) {
	for seq := max(s.scanFrom, s.ring.base); seq != s.nextSeq; seq++ {
		p := s.ring.get(seq)
		if p == nil {
			break
		}
		if p.state == pktInFlight {
			s.declareLost(p)
		}
	}
	s.advanceScan()
	s.cc.onAckEnd(now, s.inflightBytes) // flush the loss accounting
	s.lossTime = never
	s.rtoCount = min(s.rtoCount+1, maxBackoff)
	s.rtoRecovery = true
	s.rtoBase = now
	s.ctr.RTOs++
	s.trim(now)
}

// rto returns the current retransmission timeout including backoff.
func (s *session) rto() time.Duration {
	base := s.rtt.rto(s.p.MinRTO, s.p.MaxRTO, s.p.MaxAckDelay)
	return min(base<<s.rtoCount, s.p.MaxRTO)
}

// trim drops scoreboard entries that no ACK can matter for any more.
// Entries declared lost are kept for two timeouts, so that a late ACK
// still credits their bytes.
func (s *session) trim(now time.Duration) {
	keep := 2 * s.rto()
	for {
		p := s.ring.front()
		if p == nil || p.state == pktInFlight || (p.state == pktLost && now-p.sent < keep) {
			break
		}
		s.ring.popFront()
	}
	s.ackedSeqs.removeBelow(uint64(s.ring.base))
	if s.ring.n == 0 {
		s.ring.base = s.nextSeq
	}
}

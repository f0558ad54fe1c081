package rdt

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

func TestRTTEstimatorRFC6298(t *testing.T) {
	var r rttEstimator
	if got := r.rto(20*time.Millisecond, 2*time.Second, 0); got != time.Second {
		t.Fatalf("initial RTO %v, want 1s", got)
	}
	r.sample(100*time.Millisecond, 0)
	if r.srtt != 100*time.Millisecond || r.rttvar != 50*time.Millisecond {
		t.Fatalf("first sample: srtt %v rttvar %v", r.srtt, r.rttvar)
	}
	// RTO = SRTT + max(G, 4·RTTVAR) + max ack delay.
	if got := r.rto(0, time.Hour, 5*time.Millisecond); got != 305*time.Millisecond {
		t.Fatalf("RTO %v, want 305ms", got)
	}
	r.sample(200*time.Millisecond, 0)
	// RTTVAR = 3/4·50 + 1/4·|100-200| = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5.
	if r.rttvar != 62500*time.Microsecond || r.srtt != 112500*time.Microsecond {
		t.Fatalf("second sample: srtt %v rttvar %v", r.srtt, r.rttvar)
	}
	// The ack delay is subtracted only when the result stays above min.
	r.sample(150*time.Millisecond, 40*time.Millisecond) // adjusted to 110ms
	if r.latest != 150*time.Millisecond || r.srtt != (7*112500*time.Microsecond+110*time.Millisecond)/8 {
		t.Fatalf("ack delay not applied: srtt %v", r.srtt)
	}
	if got := r.rto(time.Second, 2*time.Second, 0); got != time.Second {
		t.Fatalf("RTO %v not raised to the minimum", got)
	}
	if got := r.rto(0, 50*time.Millisecond, 0); got != 50*time.Millisecond {
		t.Fatalf("RTO %v not capped at the maximum", got)
	}
}

func TestAckStateRanges(t *testing.T) {
	a := newAckState()
	const delay = 5 * time.Millisecond
	for _, s := range []uint32{1, 2, 3, 5, 6, 9, 4, 12, 11} {
		a.record(s, 0, false, false, delay)
	}
	if a.cum != 7 {
		t.Fatalf("cum = %d, want 7", a.cum)
	}
	want := []protocol.AckRange{{First: 9, Last: 9}, {First: 11, Last: 12}}
	if len(a.ranges) != len(want) || a.ranges[0] != want[0] || a.ranges[1] != want[1] {
		t.Fatalf("ranges %v, want %v", a.ranges, want)
	}
	a.record(10, 0, false, false, delay)
	if len(a.ranges) != 1 || a.ranges[0] != (protocol.AckRange{First: 9, Last: 12}) {
		t.Fatalf("ranges %v after filling 10", a.ranges)
	}
	a.record(8, 0, false, false, delay)
	if a.cum != 7 {
		t.Fatalf("cum = %d, want 7 (7 is missing)", a.cum)
	}
	if a.ranges[0] != (protocol.AckRange{First: 8, Last: 12}) {
		t.Fatalf("ranges %v after 8", a.ranges)
	}
	a.record(7, 0, false, false, delay)
	if a.cum != 13 || len(a.ranges) != 0 {
		t.Fatalf("cum %d ranges %v after 7", a.cum, a.ranges)
	}
	// The body round-trips through the protocol parser.
	a.record(20, 3*time.Millisecond, false, false, delay)
	body := a.appendBody(nil, 4*time.Millisecond)
	got, err := protocol.ParseAckBody(nil, body, a.cum)
	if err != nil {
		t.Fatal(err)
	}
	if got.DelayMicros != 1000 || len(got.Ranges) != 1 || got.Ranges[0] != (protocol.AckRange{First: 20, Last: 20}) {
		t.Fatalf("body %+v", got)
	}
}

func TestAckStateBoundsRanges(t *testing.T) {
	a := newAckState()
	for s := uint32(2); s < 2+4*maxTrackedRanges; s += 2 {
		a.record(s, 0, false, false, 0)
	}
	if len(a.ranges) != maxTrackedRanges {
		t.Fatalf("%d ranges kept, want %d", len(a.ranges), maxTrackedRanges)
	}
	body := a.appendBody(nil, 0)
	got, err := protocol.ParseAckBody(nil, body, a.cum)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Ranges) != protocol.MaxAckRanges || got.Ranges[len(got.Ranges)-1] != a.ranges[len(a.ranges)-1] {
		t.Fatalf("body carries %d ranges ending %v", len(got.Ranges), got.Ranges[len(got.Ranges)-1])
	}
}

func TestAckStateTiming(t *testing.T) {
	const delay = 5 * time.Millisecond
	a := newAckState()
	a.record(1, 10, true, false, delay)
	if a.due != 10+delay {
		t.Fatalf("first datagram: due %v, want delayed", a.due)
	}
	a.record(2, 11, true, false, delay)
	if a.due != 11 {
		t.Fatalf("second datagram: due %v, want now", a.due)
	}
	a.sent()
	a.record(4, 12, true, false, delay)
	if a.due != 12 {
		t.Fatalf("out of order: due %v, want now", a.due)
	}
	a.sent()
	a.record(5, 13, false, false, delay)
	if a.due != never {
		t.Fatal("a non-eliciting datagram scheduled an ACK")
	}
	a.record(6, 14, true, true, delay)
	if a.due != 14 {
		t.Fatal("an immediate datagram did not schedule an ACK now")
	}
}

// pairStep exchanges datagrams between two sessions directly, with the
// given datagrams (by order of production from a) dropped.
func TestScoreboardLossDetection(t *testing.T) {
	sm := newSim(t, nil, simLinkOf(1, 10*time.Millisecond, 0, 0, 0), simLinkOf(2, 10*time.Millisecond, 0, 0, 0))
	data := simData(20 * 1104)
	// Drop the 3rd data datagram once.
	dropped := false
	orig := sm.link[0].loss
	_ = orig
	tr := sm.send(1, data)
	s := sm.s[0]
	var produced int
	for !tr.done && sm.now < 10*time.Second {
		// Manual stepping so one datagram can be withheld.
		next := min(s.deadline(sm.now), sm.s[1].deadline(sm.now))
		if len(sm.q) > 0 {
			next = min(next, sm.q[0].at)
		}
		sm.now = max(sm.now, next)
		for len(sm.q) > 0 && sm.q[0].at <= sm.now {
			p := sm.q[0]
			sm.q = sm.q[1:]
			h, body, _ := protocol.ParseRDTHeader(p.data)
			sm.s[p.to].receive(sm.now, h, body)
			sm.drain(p.to)
		}
		for i, x := range sm.s {
			for {
				d := x.poll(sm.now, sm.buf[:0])
				if d == nil {
					break
				}
				if i == 0 && d[1]&protocol.FlagData != 0 {
					produced++
					if produced == 3 && !dropped {
						dropped = true
						continue
					}
				}
				sm.n++
				sm.q = append(sm.q, simPacket{at: sm.now + 10*time.Millisecond, to: 1 - i, data: append([]byte(nil), d...), n: sm.n})
			}
			sm.drain(i)
		}
	}
	if !tr.done || tr.err != nil {
		t.Fatalf("transfer done=%v err=%v", tr.done, tr.err)
	}
	if s.ctr.Lost != 1 || s.ctr.Retransmits != 1 || s.ctr.RTOs != 0 {
		t.Fatalf("lost %d, retransmits %d, RTOs %d; want 1, 1, 0 (fast retransmit)", s.ctr.Lost, s.ctr.Retransmits, s.ctr.RTOs)
	}
	got := sm.delivered(1)
	if len(got) != 1 || !bytes.Equal(got[0], data) {
		t.Fatal("share not delivered intact")
	}
}

// TestRTOBackoffToDeadPeer checks that a session whose datagrams all
// vanish backs its timeout off exponentially up to MaxRTO, keeps at most
// rtoProbes datagrams in flight, and fails the transfer with
// ErrPeerUnreachable after TransferTimeout.
func TestRTOBackoffToDeadPeer(t *testing.T) {
	cfg := &Config{TransferTimeout: 10 * time.Second, MinRTO: 50 * time.Millisecond, MaxRTO: time.Second}
	sm := newSim(t, cfg, simLinkOf(1, 10*time.Millisecond, 1, 0, 0), simLinkOf(2, 10*time.Millisecond, 1, 0, 0))
	tr := sm.send(1, simData(100<<10))
	s := sm.s[0]
	var rtoTimes []time.Duration
	sm.check = func() {
		if s.inflight > rtoProbes && s.rtoRecovery {
			t.Fatalf("%d datagrams in flight during timeout recovery", s.inflight)
		}
		if int(s.ctr.RTOs) > len(rtoTimes) {
			rtoTimes = append(rtoTimes, sm.now)
		}
	}
	sm.runUntil(time.Minute, func() bool { return tr.done })
	if !errors.Is(tr.err, ErrPeerUnreachable) || !errors.Is(tr.err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrPeerUnreachable and ErrTimeout", tr.err)
	}
	if sm.now < 10*time.Second || sm.now > 10*time.Second+time.Second {
		t.Fatalf("failed after %v, want just after 10s", sm.now)
	}
	// Initial RTO 1s (no sample), capped at MaxRTO = 1s: 1, 2, 3, ... s.
	if len(rtoTimes) < 8 {
		t.Fatalf("only %d timeouts", len(rtoTimes))
	}
	for i := 1; i < len(rtoTimes); i++ {
		if gap := rtoTimes[i] - rtoTimes[i-1]; gap != time.Second {
			t.Fatalf("timeout %d came %v after the previous, want 1s (capped)", i, gap)
		}
	}
}

func TestRTOBackoffDoubles(t *testing.T) {
	cfg := &Config{MinRTO: 10 * time.Millisecond, MaxRTO: 10 * time.Second}
	sm := newSim(t, cfg, simLinkOf(1, 5*time.Millisecond, 0, 0, 0), simLinkOf(2, 5*time.Millisecond, 0, 0, 0))
	tr := sm.send(1, simData(4<<10))
	sm.runUntil(time.Minute, func() bool { return tr.done })
	// Now the path dies.
	sm.link[0].loss, sm.link[1].loss = 1, 1
	tr = sm.send(2, simData(4<<10))
	s := sm.s[0]
	var rtoTimes []time.Duration
	sm.check = func() {
		if int(s.ctr.RTOs) > len(rtoTimes) {
			rtoTimes = append(rtoTimes, sm.now)
		}
	}
	sm.runUntil(time.Minute, func() bool { return len(rtoTimes) >= 5 })
	for i := 2; i < len(rtoTimes); i++ {
		g1, g0 := rtoTimes[i]-rtoTimes[i-1], rtoTimes[i-1]-rtoTimes[i-2]
		if g1 != 2*g0 {
			t.Fatalf("timeout gaps %v then %v: not doubling", g0, g1)
		}
	}
}

// TestFlowControlWindow checks that the sender never has more datagrams
// in flight than the receiver's advertised window, that a closed window
// is probed with PING, and that the transfer resumes when the receiver
// frees memory.
func TestFlowControlWindow(t *testing.T) {
	// Room for one 100 KiB share (+ overhead) per peer.
	cfg := &Config{MaxReassemblyPerPeer: 100<<10 + inTransferOverhead}
	sm := newSim(t, cfg, simLinkOf(1, 10*time.Millisecond, 0, 0, 0), simLinkOf(2, 10*time.Millisecond, 0, 0, 0))
	sm.autoRelease = false
	s, r := sm.s[0], sm.s[1]
	sm.check = func() {
		if s.inflight > int(s.peerWindow) && s.peerWindowSeq > 0 {
			t.Fatalf("%d datagrams in flight, window %d", s.inflight, s.peerWindow)
		}
	}
	first := sm.send(1, simData(100<<10))
	sm.runUntil(time.Minute, func() bool { return first.done })
	if first.err != nil {
		t.Fatal(first.err)
	}
	second := sm.send(2, simData(100<<10))
	sm.runUntil(time.Minute, func() bool { return s.ctr.PingsSent >= 3 })
	if second.done || r.budget.window(s.p.maxPayload) != 0 {
		t.Fatalf("second transfer done=%v (%v) with a full receiver (window %d) at %v", second.done, second.err, r.budget.window(s.p.maxPayload), sm.now)
	}
	if s.peerWindow != 0 {
		t.Fatalf("sender sees window %d, want 0", s.peerWindow)
	}
	// The application takes the first share.
	var d event
	for _, e := range sm.events[1] {
		if e.kind == evDelivery {
			d = e
		}
	}
	sm.budget[1].release(d.reserved, d.filled)
	r.windowOpened(sm.now)
	sm.runUntil(sm.now+time.Minute, func() bool { return second.done })
	if second.err != nil {
		t.Fatal(second.err)
	}
	if n := len(sm.delivered(1)); n != 2 {
		t.Fatalf("%d shares delivered, want 2", n)
	}
	// The receiver is full again. A third transfer is probed for, then
	// abandoned: with nothing left to send, the probing stops.
	third := sm.send(3, simData(10<<10))
	pings := s.ctr.PingsSent
	sm.runUntil(sm.now+time.Minute, func() bool { return s.ctr.PingsSent > pings })
	s.abandonOut(third)
	pings, end := s.ctr.PingsSent, sm.now+time.Minute
	for sm.now < end && sm.step() {
	}
	if s.ctr.PingsSent != pings {
		t.Fatalf("%d more PINGs with nothing to send", s.ctr.PingsSent-pings)
	}
}

// TestKeyExhaustion: a session that reaches the last sequence number
// fails its transfers with ErrKeyExhausted and sends nothing more.
func TestKeyExhaustion(t *testing.T) {
	sm := newSim(t, nil, simLinkOf(1, time.Millisecond, 0, 0, 0), simLinkOf(2, time.Millisecond, 0, 0, 0))
	s := sm.s[0]
	s.nextSeq = 1<<32 - 3
	s.scanFrom = s.nextSeq
	sm.s[1].replay.Accept(1<<32 - 4) // the receiver has seen numbers this high
	tr := sm.send(1, simData(10*1104))
	sm.runUntil(time.Minute, func() bool { return tr.done })
	if !errors.Is(tr.err, ErrKeyExhausted) {
		t.Fatalf("err = %v, want ErrKeyExhausted", tr.err)
	}
	if d := s.poll(sm.now, sm.buf[:0]); d != nil {
		t.Fatal("an exhausted session produced a datagram")
	}
	if err := s.startOut(sm.now, newOutTransfer(validShareHeader(0), wholeShare(nil))); !errors.Is(err, ErrKeyExhausted) {
		t.Fatalf("startOut on an exhausted session: %v", err)
	}
}

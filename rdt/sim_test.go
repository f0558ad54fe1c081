package rdt

import (
	"container/heap"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

// This file drives two sessions through a discrete-event simulation of a
// path, with no sockets, goroutines or crypto: the sessions are pure
// state machines, so a virtual clock is all they need.

// simLink is one direction of a simulated path: a bottleneck of rate
// bytes per second with a drop-tail queue, then random loss and a fixed
// delay.
type simLink struct {
	delay     time.Duration
	loss      float64
	rate      float64 // bytes per second; 0 = unlimited
	queue     int     // bytes the bottleneck may hold
	busyUntil time.Duration
	rng       *rand.Rand

	sent, lost, queueDrops int
}

type simPacket struct {
	at   time.Duration
	to   int
	data []byte
	n    int
}

type simQueue []simPacket

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].n < q[j].n
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simPacket)) }
func (q *simQueue) Pop() any {
	old := *q
	p := old[len(old)-1]
	*q = old[:len(old)-1]
	return p
}

// testBudget is a budget with a cap and no sharing.
type testBudget struct {
	capacity         int64
	reserved, filled int64
}

func (b *testBudget) reserve(n int64) bool {
	if b.reserved+n > b.capacity {
		return false
	}
	b.reserved += n
	return true
}
func (b *testBudget) fill(n int64) { b.filled += n }
func (b *testBudget) release(r, f int64) {
	b.reserved -= r
	b.filled -= f
}
func (b *testBudget) window(maxPayload int) uint16 {
	return windowOf(b.capacity-b.filled, maxPayload)
}

type sim struct {
	t      testing.TB
	now    time.Duration
	s      [2]*session
	budget [2]*testBudget
	link   [2]*simLink // link[i] carries datagrams from s[i]
	q      simQueue
	n      int
	buf    []byte
	events [2][]event
	// autoRelease makes deliveries release their memory at once, as if
	// the application called Receive immediately.
	autoRelease bool
	// check, if set, runs after every step.
	check func()
}

func newSim(t testing.TB, cfg *Config, a, b *simLink) *sim {
	p, err := cfg.params()
	if err != nil {
		t.Fatal(err)
	}
	sm := &sim{t: t, link: [2]*simLink{a, b}, buf: make([]byte, 0, p.MaxDatagram+tagLen), autoRelease: true}
	for i := range sm.s {
		sm.budget[i] = &testBudget{capacity: p.MaxReassemblyPerPeer}
		sm.s[i] = newSession(p, 1, nil, sm.budget[i], 0)
	}
	return sm
}

// transmit puts a datagram produced by s[from] on its link.
func (sm *sim) transmit(from int, d []byte) {
	l := sm.link[from]
	l.sent++
	size := len(d) + tagLen
	at := sm.now
	if l.rate > 0 {
		start := max(sm.now, l.busyUntil)
		if float64(start-sm.now)*l.rate/1e9 > float64(l.queue) {
			l.queueDrops++
			return
		}
		l.busyUntil = start + time.Duration(float64(size)/l.rate*1e9)
		at = l.busyUntil
	}
	if l.rng.Float64() < l.loss {
		l.lost++
		return
	}
	sm.n++
	heap.Push(&sm.q, simPacket{at: at + l.delay, to: 1 - from, data: append([]byte(nil), d...), n: sm.n})
}

// step advances to the next event and processes it. It returns false when
// nothing is scheduled any more.
func (sm *sim) step() bool {
	next := never
	if len(sm.q) > 0 {
		next = sm.q[0].at
	}
	for _, s := range sm.s {
		next = min(next, s.deadline(sm.now))
	}
	if next == never {
		return false
	}
	sm.now = max(sm.now, next)
	for len(sm.q) > 0 && sm.q[0].at <= sm.now {
		p := heap.Pop(&sm.q).(simPacket)
		h, body, err := protocol.ParseRDTHeader(p.data)
		if err != nil {
			sm.t.Fatalf("session produced a bad header: %v", err)
		}
		sm.s[p.to].receive(sm.now, h, body)
		sm.drain(p.to)
	}
	for i, s := range sm.s {
		for {
			d := s.poll(sm.now, sm.buf[:0])
			if d == nil {
				break
			}
			sm.transmit(i, d)
		}
		sm.drain(i)
	}
	if sm.check != nil {
		sm.check()
	}
	return true
}

func (sm *sim) drain(i int) {
	ev := sm.s[i].takeEvents(nil)
	for _, e := range ev {
		if e.kind == evDelivery && sm.autoRelease {
			sm.budget[i].release(e.reserved, e.filled)
		}
	}
	sm.events[i] = append(sm.events[i], ev...)
}

// runUntil steps until done returns true or the virtual time limit
// passes.
func (sm *sim) runUntil(limit time.Duration, done func() bool) {
	for !done() {
		if sm.now > limit || !sm.step() {
			sm.t.Fatalf("simulation stalled at %v", sm.now)
		}
	}
}

// send starts a transfer of data from s[0] and returns it.
func (sm *sim) send(msg uint64, data []byte) *outTransfer {
	h := protocol.VMDTHeader{Type: protocol.TypeShare, ShareIndex: 1, N: 3, K: 2}
	h.MessageID[0] = byte(msg)
	h.MessageID[1] = byte(msg >> 8)
	tr := newOutTransfer(h, wholeShare(data))
	if len(data) > 0 {
		tr.avail.add(0, uint64(len(data)))
		tr.fresh.add(0, uint64(len(data)))
	}
	if err := sm.s[0].startOut(sm.now, tr); err != nil {
		sm.t.Fatal(err)
	}
	return tr
}

func (sm *sim) delivered(i int) [][]byte {
	var out [][]byte
	for _, e := range sm.events[i] {
		if e.kind == evDelivery {
			out = append(out, e.data)
		}
	}
	return out
}

func simLinkOf(seed uint64, delay time.Duration, loss, rate float64, queue int) *simLink {
	return &simLink{delay: delay, loss: loss, rate: rate, queue: queue, rng: rand.New(rand.NewPCG(seed, 1))}
}

func simData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

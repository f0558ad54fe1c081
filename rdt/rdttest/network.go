// Package rdttest is a fake datagram network for testing package rdt and
// its users. A Network hands out Conns, which implement net.PacketConn;
// every datagram written travels over a one-way link whose Link rules can
// drop, delay, jitter, reorder, duplicate, corrupt, rate-limit or black it
// out. Each link draws its decisions from its own random stream seeded
// from the network seed and the two addresses, so the n-th datagram on a
// link always meets the same fate for a given seed.
//
// The network uses only time.Now, timers and channels, so it works inside
// a testing/synctest bubble, where delays and timeouts cost no wall time.
// Create the Network inside the bubble that uses it.
package rdttest

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Addr is the address of a Conn.
type Addr string

// Network returns "rdttest".
func (Addr) Network() string { return "rdttest" }

func (a Addr) String() string { return string(a) }

// Link describes what a one-way link does to the datagrams that cross it.
// The zero value delivers everything at once, unchanged and in order.
type Link struct {
	Loss      float64 // probability that a datagram is dropped
	Duplicate float64 // probability that a datagram is delivered twice
	Corrupt   float64 // probability that one bit of a datagram is flipped
	Reorder   float64 // probability that a datagram is held back by ReorderDelay

	Delay        time.Duration // one-way delay
	Jitter       time.Duration // extra delay drawn uniformly from [0, Jitter)
	ReorderDelay time.Duration // extra delay of a reordered datagram; default max(2 × Delay, 1 ms)

	// Rate, if not zero, is the link's bandwidth in bytes per second: a
	// datagram waits for the ones before it to be serialised. At most
	// QueueBytes (default 64 KiB) may wait; more are dropped, as at a
	// router with a full queue.
	Rate       int64
	QueueBytes int
}

// LinkStats counts what happened on a one-way link.
type LinkStats struct {
	Sent       uint64 // datagrams written to the link
	Delivered  uint64 // datagrams queued at the receiver, duplicates included
	Lost       uint64 // dropped by Loss
	Blackout   uint64 // dropped during a blackout
	QueueDrops uint64 // dropped by a full rate-limited queue
	Duplicated uint64
	Corrupted  uint64
	Reordered  uint64
	NoListener uint64 // no Conn at the destination
}

type linkKey struct{ from, to string }

type link struct {
	rule          Link
	rng           *rand.Rand
	busyUntil     time.Time
	blackoutUntil time.Time
	stats         LinkStats
}

// Network is a set of Conns and the links between them.
type Network struct {
	seed uint64

	mu      sync.Mutex
	conns   map[string]*Conn
	links   map[linkKey]*link
	rules   map[linkKey]Link
	def     Link
	tap     func(from, to net.Addr, b []byte)
	pktSeq  uint64
	anyAddr map[string]net.Addr
}

// NewNetwork returns an empty network whose random decisions derive from
// seed.
func NewNetwork(seed uint64) *Network {
	return &Network{
		seed:    seed,
		conns:   make(map[string]*Conn),
		links:   make(map[linkKey]*link),
		rules:   make(map[linkKey]Link),
		anyAddr: make(map[string]net.Addr),
	}
}

// Listen creates a Conn with the given address.
func (n *Network) Listen(addr string) (*Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.conns[addr]; ok {
		return nil, fmt.Errorf("rdttest: address %q in use", addr)
	}
	c := newConn(n, Addr(addr))
	n.conns[addr] = c
	return c, nil
}

// SetDefault sets the rules of every link that has none of its own.
func (n *Network) SetDefault(l Link) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.def = l
	for k, x := range n.links {
		if _, own := n.rules[k]; !own {
			x.rule = l
		}
	}
}

// SetLink sets the rules of the one-way link from → to.
func (n *Network) SetLink(from, to net.Addr, l Link) {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := linkKey{from.String(), to.String()}
	n.rules[k] = l
	if x := n.links[k]; x != nil {
		x.rule = l
	}
}

// Blackout drops every datagram between a and b, both ways, for d from
// now.
func (n *Network) Blackout(a, b net.Addr, d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	until := time.Now().Add(d)
	n.linkLocked(a.String(), b.String()).blackoutUntil = until
	n.linkLocked(b.String(), a.String()).blackoutUntil = until
}

// Stats returns the counters of the one-way link from → to.
func (n *Network) Stats(from, to net.Addr) LinkStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.linkLocked(from.String(), to.String()).stats
}

// SetTap installs fn, which sees a copy of every datagram written to the
// network, before the link acts on it. Pass nil to remove it. fn runs
// with the network locked and must not call it.
func (n *Network) SetTap(fn func(from, to net.Addr, b []byte)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.tap = fn
}

// Inject delivers b to the Conn at to as if from had sent it, bypassing
// the link rules. Tests use it to forge and replay datagrams.
func (n *Network) Inject(from, to net.Addr, b []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if dst := n.conns[to.String()]; dst != nil {
		n.pktSeq++
		dst.push(packet{data: append([]byte(nil), b...), from: n.addrLocked(from), at: time.Now(), seq: n.pktSeq})
	}
}

// addrLocked returns one boxed net.Addr per address string, so reads do
// not allocate one per datagram.
func (n *Network) addrLocked(a net.Addr) net.Addr {
	if x, ok := n.anyAddr[a.String()]; ok {
		return x
	}
	n.anyAddr[a.String()] = a
	return a
}

func (n *Network) linkLocked(from, to string) *link {
	k := linkKey{from, to}
	if x := n.links[k]; x != nil {
		return x
	}
	h := fnv.New64a()
	h.Write([]byte(from))
	h.Write([]byte{0})
	h.Write([]byte(to))
	rule, own := n.rules[k]
	if !own {
		rule = n.def
	}
	x := &link{rule: rule, rng: rand.New(rand.NewPCG(n.seed, h.Sum64()))}
	n.links[k] = x
	return x
}

// send carries one datagram from c to the address to.
func (n *Network) send(c *Conn, b []byte, to net.Addr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.tap != nil {
		n.tap(c.addr, to, append([]byte(nil), b...))
	}
	l := n.linkLocked(string(c.addr), to.String())
	l.stats.Sent++
	r := l.rule
	// Draw every random number for every datagram, so that the fate of
	// the n-th datagram does not depend on the fates before it.
	var (
		lose    = l.rng.Float64() < r.Loss
		dup     = l.rng.Float64() < r.Duplicate
		corrupt = l.rng.Float64() < r.Corrupt
		reorder = l.rng.Float64() < r.Reorder
		jitter  = l.rng.Float64()
		jitter2 = l.rng.Float64()
		bitPos  = l.rng.Uint64()
	)
	now := time.Now()
	switch {
	case now.Before(l.blackoutUntil):
		l.stats.Blackout++
		return
	case lose:
		l.stats.Lost++
		return
	}
	at := now
	if r.Rate > 0 {
		start := now
		if l.busyUntil.After(now) {
			start = l.busyUntil
		}
		queue := r.QueueBytes
		if queue == 0 {
			queue = 64 << 10
		}
		if float64(start.Sub(now))*float64(r.Rate)/float64(time.Second) > float64(queue) {
			l.stats.QueueDrops++
			return
		}
		l.busyUntil = start.Add(time.Duration(float64(len(b)) / float64(r.Rate) * float64(time.Second)))
		at = l.busyUntil
	}
	at = at.Add(r.Delay + time.Duration(jitter*float64(r.Jitter)))
	if reorder {
		rd := r.ReorderDelay
		if rd == 0 {
			rd = max(2*r.Delay, time.Millisecond)
		}
		at = at.Add(rd)
		l.stats.Reordered++
	}
	dst := n.conns[to.String()]
	if dst == nil {
		l.stats.NoListener++
		return
	}
	data := append([]byte(nil), b...)
	if corrupt && len(data) > 0 {
		bit := bitPos % uint64(8*len(data))
		data[bit/8] ^= 1 << (bit % 8)
		l.stats.Corrupted++
	}
	from := n.addrLocked(c.addr)
	n.pktSeq++
	dst.push(packet{data: data, from: from, at: at, seq: n.pktSeq})
	l.stats.Delivered++
	if dup {
		n.pktSeq++
		dst.push(packet{data: append([]byte(nil), data...), from: from, at: at.Add(time.Duration(jitter2 * float64(r.Jitter))), seq: n.pktSeq})
		l.stats.Duplicated++
		l.stats.Delivered++
	}
}

func (n *Network) remove(c *Conn) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conns[string(c.addr)] == c {
		delete(n.conns, string(c.addr))
	}
}

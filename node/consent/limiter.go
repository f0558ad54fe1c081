package consent

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// peerLimiter is a token bucket per remote peer: each inbound stream
// takes a token; a peer holds at most burst tokens and regains rate per
// second. It remembers at most max peers; when full it forgets peers
// whose buckets are full again, and if that is not enough, an arbitrary
// one (the global limit on inbound streams still holds).
type peerLimiter struct {
	rate, burst float64
	max         int

	mu    sync.Mutex
	peers map[peer.ID]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newPeerLimiter(rate float64, burst, max int) *peerLimiter {
	return &peerLimiter{rate: rate, burst: float64(burst), max: max, peers: make(map[peer.ID]*bucket)}
}

// allow takes a token of p at now, reporting whether there was one.
func (l *peerLimiter) allow(p peer.ID, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.peers[p]
	if b == nil {
		if len(l.peers) >= l.max {
			l.pruneLocked(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.peers[p] = b
	}
	b.refill(now, l.rate, l.burst)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *bucket) refill(now time.Time, rate, burst float64) {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(burst, b.tokens+dt*rate)
		b.last = now
	}
}

func (l *peerLimiter) pruneLocked(now time.Time) {
	for p, b := range l.peers {
		b.refill(now, l.rate, l.burst)
		if b.tokens >= l.burst {
			delete(l.peers, p)
		}
	}
	for p := range l.peers {
		if len(l.peers) < l.max {
			return
		}
		delete(l.peers, p)
	}
}

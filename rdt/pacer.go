package rdt

import "time"

// pacer spreads datagrams at the congestion controller's pacing rate with
// a token bucket. The bucket holds at most one burst (the controller's
// send quantum), so a sender that was idle or woke late may send that
// much at once and no more.
type pacer struct {
	tokens float64 // bytes; may be negative after a send
	last   time.Duration
	primed bool
}

func (p *pacer) refill(now time.Duration, rate float64, burst int) {
	if !p.primed {
		p.primed = true
		p.tokens = float64(burst)
		p.last = now
		return
	}
	if now > p.last {
		p.tokens += rate * (now - p.last).Seconds()
		p.last = now
	}
	p.tokens = min(p.tokens, float64(burst))
}

// ready reports whether a datagram may leave now.
func (p *pacer) ready(now time.Duration, rate float64, burst int) bool {
	p.refill(now, rate, burst)
	return p.tokens > 0
}

// spend takes size bytes from the bucket.
func (p *pacer) spend(size int) { p.tokens -= float64(size) }

// next returns when the bucket will next allow a datagram, at the latest
// refill.
func (p *pacer) next(now time.Duration, rate float64) time.Duration {
	if p.tokens > 0 || rate <= 0 {
		return now
	}
	wait := time.Duration((-p.tokens + 1) / rate * float64(time.Second))
	return p.last + max(wait, time.Microsecond)
}

package emu

import (
	"math/rand/v2"
	"time"
)

// LinkParams describes one direction of one emulated link.
type LinkParams struct {
	Delay time.Duration // one-way propagation delay added to every packet
	Loss  float64       // probability in [0, 1] that a packet is dropped at random
	Rate  float64       // bits per second; 0 = unlimited
	Burst int           // token bucket depth in bytes; 0 = DefaultBurst
	Queue time.Duration // longest wait behind the rate limit before a tail drop; 0 = DefaultQueue
}

// Defaults for zero LinkParams fields.
const (
	DefaultBurst = 1500
	DefaultQueue = 50 * time.Millisecond
)

// Verdict is what a Shaper decided for one packet.
type Verdict int

// Verdicts. Deliver is the only one that forwards the packet.
const (
	Deliver   Verdict = iota
	DropDown          // the link is administratively down
	DropQueue         // the rate limiter's queue would exceed LinkParams.Queue
	DropLoss          // random loss
)

func (v Verdict) String() string {
	switch v {
	case Deliver:
		return "deliver"
	case DropDown:
		return "drop-down"
	case DropQueue:
		return "drop-queue"
	case DropLoss:
		return "drop-loss"
	}
	return "verdict?"
}

// Shaper is the pure per-link state machine: loss generator, token bucket
// and delay. It is not safe for concurrent use; the Emulator serialises
// calls per link.
type Shaper struct {
	p    LinkParams
	rng  *rand.Rand
	down bool
	// tat is the theoretical arrival time of the generic cell rate
	// algorithm (GCRA): the time at which the bucket would be full again
	// if nothing else arrived. Zero means the bucket is full.
	tat time.Time
}

// NewShaper returns a Shaper whose loss decisions come from a PCG generator
// seeded with seed, so equal seeds give equal loss patterns.
func NewShaper(p LinkParams, seed uint64) *Shaper {
	s := &Shaper{p: p}
	s.Reseed(seed)
	return s
}

// Reseed restarts the loss generator and empties the rate limiter's queue
// state, as at the start of a run.
func (s *Shaper) Reseed(seed uint64) {
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s.tat = time.Time{}
}

// Params returns the link's parameters.
func (s *Shaper) Params() LinkParams { return s.p }

// SetParams replaces the link's parameters and empties the rate limiter's
// queue state, keeping the loss generator.
func (s *Shaper) SetParams(p LinkParams) { s.p = p; s.tat = time.Time{} }

// SetLoss changes only the random loss probability.
func (s *Shaper) SetLoss(p float64) { s.p.Loss = p }

// SetDown takes the link down (every packet dropped) or up again.
func (s *Shaper) SetDown(down bool) { s.down = down }

// Down reports whether the link is down.
func (s *Shaper) Down() bool { return s.down }

// Offer decides the fate of a packet of size bytes that arrives at now.
// For Deliver it returns the time the packet leaves the far end of the
// link: the time it may start after the token bucket, plus its
// serialisation time at the rate, plus Delay. While Loss > 0 one random
// draw is made for every packet the rate limiter admits, so a run with the
// same seed and the same packet sequence loses the same packets.
func (s *Shaper) Offer(now time.Time, size int) (time.Time, Verdict) {
	if s.down {
		return time.Time{}, DropDown
	}
	depart := now
	if s.p.Rate > 0 {
		burst, queue := s.p.Burst, s.p.Queue
		if burst <= 0 {
			burst = DefaultBurst
		}
		if queue <= 0 {
			queue = DefaultQueue
		}
		interval := bitsTime(size, s.p.Rate)   // what this packet costs
		tolerance := bitsTime(burst, s.p.Rate) // how far ahead the bucket lets us go
		tat := s.tat
		if tat.Before(now) {
			tat = now
		}
		// The packet may leave once the bucket has room for it, i.e. once
		// tat+interval-tolerance <= depart.
		if earliest := tat.Add(interval - tolerance); earliest.After(depart) {
			depart = earliest
		}
		if depart.Sub(now) > queue {
			return time.Time{}, DropQueue
		}
		s.tat = tat.Add(interval)
		// A packet is on the wire for its serialisation time.
		depart = depart.Add(interval)
	}
	if s.p.Loss > 0 && s.rng.Float64() < s.p.Loss {
		return time.Time{}, DropLoss
	}
	return depart.Add(s.p.Delay), Deliver
}

// bitsTime is how long n bytes take at rate bits per second.
func bitsTime(n int, rate float64) time.Duration {
	return time.Duration(float64(n) * 8 / rate * float64(time.Second))
}

package consent

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// outbox keeps the responses we owe until their requesters acknowledged
// them. It holds usernames only: every attempt signs a fresh response.
// It is safe for concurrent use; the Service's loop drives it.
type outbox struct {
	min, max, keep time.Duration
	cap            int

	mu    sync.Mutex
	items map[string]*owed
	wake  chan struct{} // poked when an item may have become due
}

// owed is one response waiting for delivery.
type owed struct {
	peer  peer.ID
	first time.Time // when it was first queued
	due   time.Time // next attempt
	tries int       // failed attempts
	busy  bool      // an attempt is running
	again bool      // re-queued while busy: try again at once
}

func newOutbox(cfg Config) *outbox {
	return &outbox{min: cfg.RetryMin, max: cfg.RetryMax, keep: cfg.RetryFor, cap: cfg.MaxOutbox,
		items: make(map[string]*owed), wake: make(chan struct{}, 1)}
}

func (o *outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// add queues a response for user at peer p, due now, and wakes the
// loop. A response queued already is made due now (or, if an attempt
// runs, once more after it).
func (o *outbox) add(user string, p peer.ID) error {
	_, err := o.put(user, p, false)
	if err == nil {
		o.poke()
	}
	return err
}

// claim queues a response for user at peer p like add, but marks it busy
// for the caller to attempt at once and report with finish. It returns
// false if an attempt runs already (it will be repeated afterwards).
func (o *outbox) claim(user string, p peer.ID) (bool, error) {
	return o.put(user, p, true)
}

func (o *outbox) put(user string, p peer.ID, claim bool) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	it := o.items[user]
	switch {
	case it == nil && len(o.items) >= o.cap:
		return false, fmt.Errorf("%w: %d responses wait for delivery", ErrBusy, len(o.items))
	case it == nil:
		it = &owed{peer: p, first: now}
		o.items[user] = it
	case it.busy:
		it.peer, it.again = p, true
		return false, nil
	}
	it.peer, it.due, it.busy = p, now, claim
	return claim, nil
}

// kick makes the responses owed to peer p due now.
func (o *outbox) kick(p peer.ID) {
	o.mu.Lock()
	found := false
	now := time.Now()
	for _, it := range o.items {
		if it.peer == p && !it.busy {
			it.due, found = now, true
		}
	}
	o.mu.Unlock()
	if found {
		o.poke()
	}
}

// take marks up to n due items busy and returns their users, and how
// long until the next item not taken is due.
func (o *outbox) take(now time.Time, n int) ([]string, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var ready []string
	wait := time.Hour
	for user, it := range o.items {
		if it.busy {
			continue
		}
		if !it.due.After(now) {
			// Without a free slot, the attempt that frees one pokes.
			if len(ready) < n {
				it.busy = true
				ready = append(ready, user)
			}
			continue
		}
		wait = min(wait, it.due.Sub(now))
	}
	return ready, wait
}

// finish records the outcome of an attempt for user: delivered or
// refused for good, the item goes; otherwise it is retried after a
// backoff, until RetryFor has passed since it was queued.
func (o *outbox) finish(user string, err error, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	it := o.items[user]
	if it == nil {
		return
	}
	it.busy = false
	defer o.poke()
	switch {
	case it.again:
		it.again, it.due = false, now
	case err == nil:
		delete(o.items, user)
	case !retriable(err):
		log.Warnw("friend response not delivered, giving up", "to", user, "err", err)
		delete(o.items, user)
	case now.Sub(it.first) >= o.keep:
		log.Warnw("friend response not delivered in time, giving up", "to", user, "tries", it.tries+1, "err", err)
		delete(o.items, user)
	default:
		it.tries++
		it.due = now.Add(o.backoff(it.tries))
		log.Debugw("friend response not delivered, will retry", "to", user, "in", it.due.Sub(now), "err", err)
	}
}

// backoff returns the wait after the given number of failed attempts:
// RetryMin doubling up to RetryMax, less up to a tenth at random.
func (o *outbox) backoff(tries int) time.Duration {
	d := o.max
	if tries < 30 {
		d = min(o.max, o.min<<(tries-1))
	}
	return d - rand.N(d/10+1)
}

// users returns the users owed a response, sorted.
func (o *outbox) users() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]string, 0, len(o.items))
	for u := range o.items {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// runOutbox delivers due responses, at most MaxDeliveries at a time,
// until the Service closes.
func (s *Service) runOutbox() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	slots := make(chan struct{}, s.cfg.MaxDeliveries)
	for {
		ready, wait := s.out.take(time.Now(), cap(slots)-len(slots))
		for _, user := range ready {
			slots <- struct{}{}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				err := s.deliver(s.ctx, user)
				<-slots
				s.out.finish(user, err, time.Now())
			}()
		}
		timer.Reset(wait)
		select {
		case <-s.ctx.Done():
			return
		case <-s.out.wake:
		case <-timer.C:
		}
	}
}

package rdt

import "time"

// recent is a map whose entries expire a fixed time after they were put,
// with a cap on their number (the oldest go first). The session keeps
// tombstones of finished inbound transfers and abandoned messages in it.
type recent[K comparable, V any] struct {
	m    map[K]*recentEntry[V]
	fifo []recentKey[K] // in the order put; may hold keys put again later
	head int
	max  int
	ttl  time.Duration
}

type recentEntry[V any] struct {
	v  V
	at time.Duration
}

type recentKey[K comparable] struct {
	k  K
	at time.Duration
}

func newRecent[K comparable, V any](max int, ttl time.Duration) recent[K, V] {
	return recent[K, V]{m: make(map[K]*recentEntry[V]), max: max, ttl: ttl}
}

// get returns a pointer to the value stored for k, or nil.
func (r *recent[K, V]) get(k K) *V {
	if e := r.m[k]; e != nil {
		return &e.v
	}
	return nil
}

// put stores v for k, restarting its lifetime.
func (r *recent[K, V]) put(k K, v V, now time.Duration) {
	if e := r.m[k]; e != nil {
		e.v, e.at = v, now
	} else {
		r.m[k] = &recentEntry[V]{v: v, at: now}
	}
	r.fifo = append(r.fifo, recentKey[K]{k, now})
	for len(r.m) > r.max {
		r.popFront()
	}
	r.compact()
}

// expire removes the entries older than the lifetime.
func (r *recent[K, V]) expire(now time.Duration) {
	for r.head < len(r.fifo) && now-r.fifo[r.head].at >= r.ttl {
		r.popFront()
	}
	r.compact()
}

// next returns when the oldest entry expires, or never.
func (r *recent[K, V]) next() time.Duration {
	if r.head == len(r.fifo) {
		return never
	}
	return r.fifo[r.head].at + r.ttl
}

func (r *recent[K, V]) popFront() {
	x := r.fifo[r.head]
	r.fifo[r.head] = recentKey[K]{}
	r.head++
	if e := r.m[x.k]; e != nil && e.at == x.at {
		delete(r.m, x.k)
	}
}

func (r *recent[K, V]) compact() {
	if r.head == len(r.fifo) {
		r.fifo, r.head = r.fifo[:0], 0
	} else if r.head > 64 && r.head > len(r.fifo)/2 {
		n := copy(r.fifo, r.fifo[r.head:])
		clear(r.fifo[n:])
		r.fifo, r.head = r.fifo[:n], 0
	}
}

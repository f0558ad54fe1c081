package emu

import "time"

// DelayQueue is a link's FIFO of packets waiting for their delivery time.
// Packets leave in the order they were pushed; a packet due earlier than
// the one ahead of it waits for it (links do not reorder). It is not safe
// for concurrent use.
type DelayQueue struct {
	items []queued
	head  int
	bytes int
}

type queued struct {
	at  time.Time
	pkt []byte
}

// Push appends pkt, due at at. The queue keeps pkt; the caller must not
// reuse it.
func (q *DelayQueue) Push(at time.Time, pkt []byte) {
	if q.head > 0 && q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	q.items = append(q.items, queued{at, pkt})
	q.bytes += len(pkt)
}

// Len returns the number of queued packets.
func (q *DelayQueue) Len() int { return len(q.items) - q.head }

// Bytes returns the number of queued bytes.
func (q *DelayQueue) Bytes() int { return q.bytes }

// Next returns the due time of the first packet and false if the queue is
// empty.
func (q *DelayQueue) Next() (time.Time, bool) {
	if q.Len() == 0 {
		return time.Time{}, false
	}
	return q.items[q.head].at, true
}

// PopDue removes and returns the first packet if it is due at now.
func (q *DelayQueue) PopDue(now time.Time) ([]byte, bool) {
	if q.Len() == 0 || q.items[q.head].at.After(now) {
		return nil, false
	}
	it := q.items[q.head]
	q.items[q.head] = queued{}
	q.head++
	q.bytes -= len(it.pkt)
	// Compact when the dead prefix dominates, so memory stays bounded.
	if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return it.pkt, true
}

// Clear drops every queued packet and returns how many there were.
func (q *DelayQueue) Clear() int {
	n := q.Len()
	clear(q.items)
	q.items, q.head, q.bytes = q.items[:0], 0, 0
	return n
}

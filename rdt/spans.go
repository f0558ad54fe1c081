package rdt

import "sort"

// span is the half-open interval [lo, hi).
type span struct{ lo, hi uint64 }

// spanSet is a set of uint64 values kept as sorted, disjoint, non-adjacent
// spans. The transport uses it for byte ranges of a share (received,
// written, acknowledged, to be sent) and for sequence numbers. Most
// insertions extend the last span, which costs O(1).
type spanSet struct {
	s     []span
	total uint64 // number of values in the set
}

func (r *spanSet) len() uint64 { return r.total }

func (r *spanSet) empty() bool { return len(r.s) == 0 }

// covers reports whether [lo, hi) lies entirely inside the set.
func (r *spanSet) covers(lo, hi uint64) bool {
	if lo >= hi {
		return true
	}
	i := r.search(lo)
	return i < len(r.s) && r.s[i].lo <= lo && r.s[i].hi >= hi
}

// search returns the index of the first span whose hi is >= v, that is the
// first span that contains v, touches it from below, or lies above it.
func (r *spanSet) search(v uint64) int {
	n := len(r.s)
	if n == 0 || r.s[n-1].hi < v {
		return n
	}
	return sort.Search(n, func(i int) bool { return r.s[i].hi >= v })
}

// add inserts [lo, hi) and returns how many values were new.
func (r *spanSet) add(lo, hi uint64) uint64 {
	return r.addNew(lo, hi, nil)
}

// addNew inserts [lo, hi). For each maximal part of it that was not in the
// set it calls fresh (if not nil) in ascending order, before the set
// changes. It returns how many values were new.
func (r *spanSet) addNew(lo, hi uint64, fresh func(lo, hi uint64)) uint64 {
	if lo >= hi {
		return 0
	}
	n := len(r.s)
	// Fast paths: append after, or extend, the last span.
	if n == 0 || r.s[n-1].hi < lo {
		if fresh != nil {
			fresh(lo, hi)
		}
		r.s = append(r.s, span{lo, hi})
		r.total += hi - lo
		return hi - lo
	}
	if last := &r.s[n-1]; last.lo <= lo {
		if hi <= last.hi {
			return 0
		}
		from := max(lo, last.hi)
		if fresh != nil {
			fresh(from, hi)
		}
		added := hi - from
		last.hi = hi
		r.total += added
		return added
	}
	i := r.search(lo) // first span with hi >= lo
	j := i            // spans [i, j) overlap or touch [lo, hi]
	var added uint64
	cur := lo
	for j < n && r.s[j].lo <= hi {
		if r.s[j].lo > cur {
			if fresh != nil {
				fresh(cur, r.s[j].lo)
			}
			added += r.s[j].lo - cur
		}
		cur = max(cur, r.s[j].hi)
		j++
	}
	if cur < hi {
		if fresh != nil {
			fresh(cur, hi)
		}
		added += hi - cur
	}
	if added == 0 {
		return 0
	}
	merged := span{lo, hi}
	if i < j {
		merged.lo = min(lo, r.s[i].lo)
		merged.hi = max(hi, r.s[j-1].hi)
	}
	switch {
	case i == j:
		r.s = append(r.s, span{})
		copy(r.s[i+1:], r.s[i:])
		r.s[i] = merged
	default:
		r.s[i] = merged
		r.s = append(r.s[:i+1], r.s[j:]...)
	}
	r.total += added
	return added
}

// remove deletes [lo, hi) from the set and returns how many values it
// held.
func (r *spanSet) remove(lo, hi uint64) uint64 {
	if lo >= hi || len(r.s) == 0 {
		return 0
	}
	i := sort.Search(len(r.s), func(k int) bool { return r.s[k].hi > lo })
	var removed uint64
	for i < len(r.s) && r.s[i].lo < hi {
		x := r.s[i]
		cutLo, cutHi := max(x.lo, lo), min(x.hi, hi)
		removed += cutHi - cutLo
		switch {
		case x.lo < cutLo && x.hi > cutHi: // split in two
			r.s = append(r.s, span{})
			copy(r.s[i+2:], r.s[i+1:])
			r.s[i] = span{x.lo, cutLo}
			r.s[i+1] = span{cutHi, x.hi}
			i += 2
		case x.lo < cutLo:
			r.s[i].hi = cutLo
			i++
		case x.hi > cutHi:
			r.s[i].lo = cutHi
			i++
		default:
			r.s = append(r.s[:i], r.s[i+1:]...)
		}
	}
	r.total -= removed
	return removed
}

// removeBelow deletes every value below v.
func (r *spanSet) removeBelow(v uint64) {
	if len(r.s) == 0 || r.s[0].lo >= v {
		return
	}
	r.remove(0, v)
}

// gaps calls fn for each maximal part of [lo, hi) that is not in the set,
// in ascending order.
func (r *spanSet) gaps(lo, hi uint64, fn func(lo, hi uint64)) {
	cur := lo
	for i := r.search(lo); i < len(r.s) && cur < hi && r.s[i].lo < hi; i++ {
		if r.s[i].lo > cur {
			fn(cur, r.s[i].lo)
		}
		cur = max(cur, r.s[i].hi)
	}
	if cur < hi {
		fn(cur, hi)
	}
}

// takeFront removes and returns up to n values from the start of the
// lowest span.
func (r *spanSet) takeFront(n uint64) (lo, hi uint64, ok bool) {
	if len(r.s) == 0 || n == 0 {
		return 0, 0, false
	}
	x := &r.s[0]
	lo = x.lo
	hi = min(x.hi, lo+n)
	if hi == x.hi {
		r.s = append(r.s[:0], r.s[1:]...)
	} else {
		x.lo = hi
	}
	r.total -= hi - lo
	return lo, hi, true
}

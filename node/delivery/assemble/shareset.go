package assemble

import "math/bits"

// shareSet is a set of shares by zero-based position (share index − 1),
// 0..254.
type shareSet [4]uint64

func (s shareSet) has(i int) bool { return s[i>>6]&(1<<(i&63)) != 0 }
func (s *shareSet) add(i int)     { s[i>>6] |= 1 << (i & 63) }

func (s shareSet) count() int {
	return bits.OnesCount64(s[0]) + bits.OnesCount64(s[1]) + bits.OnesCount64(s[2]) + bits.OnesCount64(s[3])
}

func (s shareSet) empty() bool { return s == shareSet{} }

func (s shareSet) or(t shareSet) shareSet {
	return shareSet{s[0] | t[0], s[1] | t[1], s[2] | t[2], s[3] | t[3]}
}

func (s shareSet) and(t shareSet) shareSet {
	return shareSet{s[0] & t[0], s[1] & t[1], s[2] & t[2], s[3] & t[3]}
}

func (s shareSet) andNot(t shareSet) shareSet {
	return shareSet{s[0] &^ t[0], s[1] &^ t[1], s[2] &^ t[2], s[3] &^ t[3]}
}

func (s shareSet) subsetOf(t shareSet) bool { return s.andNot(t).empty() }

// each calls fn for every member in ascending order.
func (s shareSet) each(fn func(i int)) {
	for w, x := range s {
		for x != 0 {
			fn(w<<6 | bits.TrailingZeros64(x))
			x &= x - 1
		}
	}
}

// firstN returns the at most n smallest members of s.
func (s shareSet) firstN(n int) shareSet {
	var out shareSet
	for w, x := range s {
		for x != 0 && n > 0 {
			out[w] |= x & -x
			x &= x - 1
			n--
		}
	}
	return out
}

// upTo returns the set {0, ..., n−1}.
func upTo(n int) shareSet {
	var s shareSet
	for i := range n {
		s.add(i)
	}
	return s
}

package assemble

import (
	"math/rand/v2"
	"slices"
)

// model is a byte-by-byte account of what a Message should know, to
// check Ready and Missing against.
type model struct {
	n, k, prefixLen, transferLen int
	has                          [][]bool // has[i][x]: share i holds transfer byte x
	prefixBytes                  []int    // per share
	cnt                          []int    // per fragment byte: shares holding it
	under                        int      // fragment bytes with fewer than k
}

func newModel(n, k, prefixLen, transferLen int) *model {
	md := &model{n: n, k: k, prefixLen: prefixLen, transferLen: transferLen,
		has: make([][]bool, n), prefixBytes: make([]int, n), cnt: make([]int, transferLen-prefixLen),
		under: transferLen - prefixLen}
	for i := range md.has {
		md.has[i] = make([]bool, transferLen)
	}
	return md
}

func (md *model) add(s segment) {
	i := int(s.index) - 1
	for x := s.off; x < s.off+len(s.b); x++ {
		if md.has[i][x] {
			continue
		}
		md.has[i][x] = true
		if x < md.prefixLen {
			md.prefixBytes[i]++
			continue
		}
		md.cnt[x-md.prefixLen]++
		if md.cnt[x-md.prefixLen] == md.k {
			md.under--
		}
	}
}

func (md *model) prefixes() int {
	v := 0
	for _, p := range md.prefixBytes {
		if p == md.prefixLen {
			v++
		}
	}
	return v
}

func (md *model) ready() bool { return md.under == 0 && md.prefixes() >= md.k }

func (md *model) missing() []Range {
	var out []Range
	push := func(off, end, have int) {
		if l := len(out); l > 0 && out[l-1].End == off && out[l-1].Have == have {
			out[l-1].End = end
			return
		}
		out = append(out, Range{off, end, have})
	}
	if v := md.prefixes(); v < md.k {
		push(0, md.prefixLen, v)
	}
	for x, c := range md.cnt {
		if c < md.k {
			push(md.prefixLen+x, md.prefixLen+x+1, c)
		}
	}
	return out
}

// plan decides which segments arrive: each is lost with probability
// loss, then lost segments are put back until every fragment byte is held
// by k shares and k prefixes are whole, counting only the shares in
// trusted. With incomplete, every share then loses one more segment where
// that keeps the coverage. keep[i][j] says whether segment j of share i
// arrives.
func plan(rng *rand.Rand, segs [][]segment, prefixLen, k int, loss float64, trusted []int, incomplete bool) [][]bool {
	n := len(segs)
	transferLen := 0
	for _, s := range segs[0] {
		transferLen = max(transferLen, s.off+len(s.b))
	}
	keep := make([][]bool, n)
	for i := range keep {
		keep[i] = make([]bool, len(segs[i]))
		for j := range keep[i] {
			keep[i][j] = rng.Float64() >= loss
		}
	}
	// coverers returns, per transfer byte, how many trusted shares keep it.
	coverers := func() []int {
		cnt := make([]int, transferLen)
		for _, i := range trusted {
			for j, s := range segs[i] {
				if keep[i][j] {
					for x := s.off; x < s.off+len(s.b); x++ {
						cnt[x]++
					}
				}
			}
		}
		return cnt
	}
	segAt := func(i, x int) int {
		return slices.IndexFunc(segs[i], func(s segment) bool { return s.off <= x && x < s.off+len(s.b) })
	}
	// Whole prefixes for the first k trusted shares.
	for _, i := range trusted[:k] {
		for j, s := range segs[i] {
			if s.off < prefixLen {
				keep[i][j] = true
			}
		}
	}
	cnt := coverers()
	for x := range cnt {
		for _, i := range trusted {
			if cnt[x] >= k {
				break
			}
			if j := segAt(i, x); !keep[i][j] {
				keep[i][j] = true
				s := segs[i][j]
				for y := s.off; y < s.off+len(s.b); y++ {
					cnt[y]++
				}
			}
		}
	}
	if incomplete {
		for i := range n {
			for tries := 0; tries < 200 && allTrue(keep[i]); tries++ {
				j := rng.IntN(len(segs[i]))
				s := segs[i][j]
				if s.off < prefixLen {
					continue
				}
				spare := true
				for y := s.off; y < s.off+len(s.b) && spare; y++ {
					spare = cnt[y] > k || !slices.Contains(trusted, i)
				}
				if spare {
					keep[i][j] = false
					if slices.Contains(trusted, i) {
						for y := s.off; y < s.off+len(s.b); y++ {
							cnt[y]--
						}
					}
				}
			}
		}
	}
	return keep
}

package assemble

import (
	"math/rand/v2"
	"testing"
)

// TestCoverageMap checks the coverage map against a byte-by-byte model
// under random marks, some spanning blocks, and checks its invariants.
func TestCoverageMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	size := 3*blockSize + 123
	n := 70 // beyond one 64-bit word of shareSet
	c := newCoverage(size)
	naive := make([]shareSet, size)
	for step := range 2000 {
		i := rng.IntN(n)
		a := rng.IntN(size)
		l := 1 + rng.IntN(2000)
		if step%50 == 0 {
			l = rng.IntN(2 * blockSize)
		}
		b := min(size, a+l)
		if a >= b {
			continue
		}
		fresh := 0
		c.add(i, a, b, func(start, end int, before shareSet) {
			if start < a || end > b || start >= end {
				t.Fatalf("fresh range [%d, %d) outside [%d, %d)", start, end, a, b)
			}
			for x := start; x < end; x++ {
				if naive[x].has(i) || naive[x] != before {
					t.Fatalf("fresh byte %d: had %v, reported %v", x, naive[x], before)
				}
			}
			fresh += end - start
		})
		want := 0
		for x := a; x < b; x++ {
			if !naive[x].has(i) {
				naive[x].add(i)
				want++
			}
		}
		if fresh != want {
			t.Fatalf("step %d: %d fresh bytes reported, want %d", step, fresh, want)
		}
		if step%100 == 0 {
			checkCoverage(t, &c, naive)
		}
	}
	checkCoverage(t, &c, naive)
}

func checkCoverage(t *testing.T, c *coverage, naive []shareSet) {
	t.Helper()
	total := 0
	for blk, ps := range c.blocks {
		total += len(ps)
		if ps[0].start != blk*blockSize {
			t.Fatalf("block %d starts at %d", blk, ps[0].start)
		}
		for j := 1; j < len(ps); j++ {
			if ps[j].start <= ps[j-1].start || ps[j].set == ps[j-1].set {
				t.Fatalf("block %d pieces %d, %d: starts %d, %d, equal sets %v", blk, j-1, j, ps[j-1].start, ps[j].start, ps[j].set == ps[j-1].set)
			}
		}
	}
	if total != c.pieces {
		t.Fatalf("%d pieces counted, %d present", c.pieces, total)
	}
	next := 0
	var prev *shareSet
	c.walk(func(start, end int, set shareSet) {
		if start != next || end <= start {
			t.Fatalf("walk gives [%d, %d) after %d", start, end, next)
		}
		if prev != nil && *prev == set {
			t.Fatalf("walk gives equal neighbours at %d", start)
		}
		for x := start; x < end; x++ {
			if naive[x] != set {
				t.Fatalf("byte %d: map says %v, model %v", x, set, naive[x])
			}
		}
		next, prev = end, &set
	})
	if next != c.size {
		t.Fatalf("walk ends at %d of %d", next, c.size)
	}
}

func TestShareSet(t *testing.T) {
	var s shareSet
	for _, i := range []int{0, 5, 63, 64, 130, 254} {
		s.add(i)
	}
	if s.count() != 6 || !s.has(254) || s.has(1) {
		t.Fatalf("set %v", s)
	}
	var got []int
	s.each(func(i int) { got = append(got, i) })
	if len(got) != 6 || got[3] != 64 || got[5] != 254 {
		t.Fatalf("each gives %v", got)
	}
	if f := s.firstN(4); f.count() != 4 || !f.has(64) || f.has(130) {
		t.Fatalf("firstN(4) = %v", f)
	}
	if !s.firstN(2).subsetOf(s) || s.subsetOf(s.firstN(2)) || upTo(255).count() != 255 {
		t.Fatal("subsetOf or upTo")
	}
}

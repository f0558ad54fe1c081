package assemble

import (
	"slices"
	"sort"
)

// coverage records which shares hold which bytes of the fragment area
// [0, size). It is a sorted list of pieces, each a maximal range whose
// bytes are held by the same set of shares, kept in blocks of blockSize
// bytes so that inserting a piece moves a short slice only. Block
// boundaries are always piece boundaries.
type coverage struct {
	size   int
	blocks [][]piece
	pieces int // total number of pieces
}

// piece is the range from start to the next piece's start (or the end of
// its block): the bytes held by every share in set.
type piece struct {
	start int
	set   shareSet
}

const blockSize = 1 << 16

func newCoverage(size int) coverage {
	c := coverage{size: size, blocks: make([][]piece, (size+blockSize-1)/blockSize)}
	for b := range c.blocks {
		c.blocks[b] = []piece{{start: b * blockSize}}
	}
	c.pieces = len(c.blocks)
	return c
}

func (c *coverage) blockEnd(b int) int { return min((b+1)*blockSize, c.size) }

// end returns where piece j of block b ends.
func (c *coverage) end(b, j int) int {
	if ps := c.blocks[b]; j+1 < len(ps) {
		return ps[j+1].start
	}
	return c.blockEnd(b)
}

// find returns the position in block b of the piece that contains x.
func (c *coverage) find(b, x int) int {
	ps := c.blocks[b]
	return sort.Search(len(ps), func(j int) bool { return ps[j].start > x }) - 1
}

// newBoundaries returns how many pieces marking [a, b) splits off.
func (c *coverage) newBoundaries(a, b int) int {
	n := 0
	for _, x := range [2]int{a, b} {
		if x%blockSize == 0 || x >= c.size {
			continue
		}
		blk := x / blockSize
		if c.blocks[blk][c.find(blk, x)].start != x {
			n++
		}
	}
	return n
}

// splitAt makes x a piece boundary in block blk and returns the position
// of the piece that starts at x, or the block's piece count if x is the
// block's end.
func (c *coverage) splitAt(blk, x int) int {
	if x >= c.blockEnd(blk) {
		return len(c.blocks[blk])
	}
	j := c.find(blk, x)
	ps := c.blocks[blk]
	if ps[j].start == x {
		return j
	}
	c.blocks[blk] = slices.Insert(ps, j+1, piece{start: x, set: ps[j].set})
	c.pieces++
	return j + 1
}

// add marks [a, b) as held by share i. For every range in it that i did
// not hold before, it calls fresh with the range and the set of shares
// that held it. The caller has checked 0 <= a < b <= size.
func (c *coverage) add(i, a, b int, fresh func(start, end int, before shareSet)) {
	for blk := a / blockSize; blk*blockSize < b; blk++ {
		lo, hi := max(a, blk*blockSize), min(b, c.blockEnd(blk))
		jl := c.splitAt(blk, lo)
		jh := c.splitAt(blk, hi)
		ps := c.blocks[blk]
		for j := jl; j < jh; j++ {
			if !ps[j].set.has(i) {
				fresh(ps[j].start, c.end(blk, j), ps[j].set)
				ps[j].set.add(i)
			}
		}
		c.merge(blk, jl-1, jh)
	}
}

// merge joins equal neighbours among pieces from..to of block blk.
func (c *coverage) merge(blk, from, to int) {
	ps := c.blocks[blk]
	from = max(from, 0)
	w, r := from, from+1
	for ; r < len(ps); r++ {
		if r <= to+1 && ps[r].set == ps[w].set {
			c.pieces--
			continue
		}
		if r > to+1 && w+1 == r {
			return // nothing merged: the rest stays where it is
		}
		w++
		ps[w] = ps[r]
	}
	c.blocks[blk] = ps[:w+1]
}

// walk calls fn for every piece in order, merging equal neighbours
// across block boundaries.
func (c *coverage) walk(fn func(start, end int, set shareSet)) {
	var cur piece
	curEnd := 0
	for blk, ps := range c.blocks {
		for j := range ps {
			e := c.end(blk, j)
			if curEnd > 0 && ps[j].set == cur.set {
				curEnd = e
				continue
			}
			if curEnd > 0 {
				fn(cur.start, curEnd, cur.set)
			}
			cur, curEnd = ps[j], e
		}
	}
	if curEnd > 0 {
		fn(cur.start, curEnd, cur.set)
	}
}

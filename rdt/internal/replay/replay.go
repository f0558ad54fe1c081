// Package replay implements the anti-replay window for RDT sequence
// numbers: a sliding bitmap of 2048 bits in the style of RFC 6479 and
// wireguard-go's replay package.
//
// A receiver keeps one Filter per session key and direction and calls
// Accept only for datagrams whose authentication tag has been verified, so
// a forger cannot move the window. Accept rejects a sequence number that
// was seen before or that lies more than WindowSize below the largest one
// seen, and records the rest.
package replay

// blockBits is the width of one bitmap word.
const blockBits = 64

// ringBlocks is the number of words in the bitmap: 32 × 64 = 2048 bits.
const ringBlocks = 32

// WindowSize is how far below the largest accepted sequence number a
// sequence number may lie and still be accepted. One word of the ring is
// always being recycled, so the window is one word short of the bitmap.
const WindowSize = (ringBlocks - 1) * blockBits

// Filter is an anti-replay window. The zero value is ready to use and has
// seen nothing. It is not safe for concurrent use.
type Filter struct {
	last uint64 // largest accepted sequence number
	ring [ringBlocks]uint64
}

// Reset forgets every sequence number seen.
func (f *Filter) Reset() { *f = Filter{} }

// Accept reports whether seq is new and inside the window, and if so
// records it. Sequence number 0 is never valid in RDT and is rejected.
func (f *Filter) Accept(seq uint32) bool {
	c := uint64(seq)
	if c == 0 {
		return false
	}
	block := c / blockBits
	if c > f.last {
		// Slide the window forward, clearing the words it moves onto.
		cur := f.last / blockBits
		diff := block - cur
		if diff > ringBlocks {
			diff = ringBlocks
		}
		for i := cur + 1; i <= cur+diff; i++ {
			f.ring[i%ringBlocks] = 0
		}
		f.last = c
	} else if f.last-c > WindowSize {
		return false
	}
	i := block % ringBlocks
	bit := uint64(1) << (c % blockBits)
	if f.ring[i]&bit != 0 {
		return false
	}
	f.ring[i] |= bit
	return true
}

package replay

import (
	"math/rand/v2"
	"testing"
)

func TestAcceptSequence(t *testing.T) {
	var f Filter
	steps := []struct {
		seq  uint32
		want bool
	}{
		{0, false},
		{1, true},
		{1, false},
		{2, true},
		{10, true},
		{5, true},
		{5, false},
		{10, false},
		{3000, true},
		{3000 - WindowSize, true},
		{3000 - WindowSize - 1, false},
		{2999, true},
		{10, false}, // far outside the window now
		{1<<32 - 1, true},
		{1<<32 - 1, false},
		{1<<32 - 2, true},
		{1<<32 - 1 - WindowSize, true},
		{1<<32 - 2 - WindowSize, false},
	}
	for i, s := range steps {
		if got := f.Accept(s.seq); got != s.want {
			t.Fatalf("step %d: Accept(%d) = %v, want %v", i, s.seq, got, s.want)
		}
	}
}

// TestAgainstModel checks the filter against a map-based model for random
// sequences that move forward with jitter, as a reordering network would.
func TestAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		var f Filter
		seen := map[uint32]bool{}
		var largest uint32
		base := uint32(1)
		for i := 0; i < 20000; i++ {
			base += uint32(rng.IntN(3))
			seq := base + uint32(rng.IntN(4*WindowSize))
			if rng.IntN(10) == 0 {
				seq = base + uint32(rng.IntN(40))
			}
			if seq == 0 {
				continue
			}
			want := !seen[seq] && (seq > largest || largest-seq <= WindowSize)
			if got := f.Accept(seq); got != want {
				t.Fatalf("round %d step %d: Accept(%d) = %v, want %v (largest %d)", round, i, seq, got, want, largest)
			}
			if want {
				seen[seq] = true
				if seq > largest {
					largest = seq
				}
			}
		}
	}
}

func TestJumpClearsWindow(t *testing.T) {
	var f Filter
	for s := uint32(1); s <= 100; s++ {
		f.Accept(s)
	}
	// A jump of more than the whole ring must not leave stale bits that
	// would reject fresh numbers.
	jump := uint32(100 + 10*ringBlocks*blockBits)
	if !f.Accept(jump) {
		t.Fatal("jump rejected")
	}
	for s := jump - WindowSize; s < jump; s++ {
		if !f.Accept(s) {
			t.Fatalf("fresh %d rejected after jump", s)
		}
	}
	f.Reset()
	if !f.Accept(5) {
		t.Fatal("Accept after Reset rejected")
	}
}

func FuzzAccept(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 8, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var fl Filter
		seen := map[uint32]bool{}
		var largest uint32
		for len(b) >= 4 {
			seq := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			b = b[4:]
			want := seq != 0 && !seen[seq] && (seq > largest || largest-seq <= WindowSize)
			if got := fl.Accept(seq); got != want {
				t.Fatalf("Accept(%d) = %v, want %v (largest %d)", seq, got, want, largest)
			}
			if want {
				seen[seq] = true
				largest = max(largest, seq)
			}
		}
	})
}

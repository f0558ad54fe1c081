package assemble

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDecodeUnderLoss delivers, in random order and with duplicates,
// segments of every share with random losses such that each byte is
// covered k times but no share is complete, and checks after every
// segment that Ready and Missing say exactly what a byte-by-byte model
// says, and that the message decodes the moment it is ready.
func TestDecodeUnderLoss(t *testing.T) {
	cases := []struct {
		n, k, msgLen int
		seg          func(i int) int
		loss         float64
	}{
		{6, 3, 60_000, func(int) int { return 1104 }, 0.06},
		{6, 3, 40_000, func(int) int { return 1104 }, 0.35},
		{4, 2, 9_000, func(int) int { return 300 }, 0.25},                 // prefixes span segments
		{5, 3, 20_000, func(i int) int { return 700 + 97*i }, 0.3},        // boundaries differ per share
		{10, 7, 15_000, func(i int) int { return 256 << (i % 3) }, 0.1},   // many shares
		{3, 2, 1, func(int) int { return 1000 }, 0.5},                     // one-byte message
		{255, 2, 3_000, func(i int) int { return 1 << 13 }, 0.9},          // every share index
		{6, 3, 200_000, func(i int) int { return 1104 + (i%2)*552 }, 0.2}, // several coverage blocks
	}
	seeds := 3
	if testing.Short() {
		seeds = 1
	}
	for ci, tc := range cases {
		for seed := range uint64(seeds) {
			t.Run(fmt.Sprintf("n%d_k%d_len%d_loss%.2f_seed%d", tc.n, tc.k, tc.msgLen, tc.loss, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(ci)))
				tm := newTestMsg(t, tc.msgLen, tc.n, tc.k, seed)
				segs := tm.segmentsBy(tc.seg)
				keep := plan(rng, segs, tm.prefixLen, tc.k, tc.loss, all(tc.n), true)
				whole := make([]bool, tc.n) // shares the plan could not leave incomplete
				for i := range keep {
					whole[i] = allTrue(keep[i])
					if whole[i] && tc.n == 6 {
						t.Fatalf("the plan leaves share %d complete", i+1)
					}
				}
				order := pick(rng, segs, keep)
				for range len(order) / 8 { // duplicates
					order = slices.Insert(order, rng.IntN(len(order)+1), order[rng.IntN(len(order))])
				}
				m := tm.newMessage(t, Limits{})
				md := newModel(tc.n, tc.k, tm.prefixLen, tm.transferLn)
				decoded := false
				for step, s := range order {
					md.add(s)
					p := add(t, m, s)
					if p.Complete && !whole[s.index-1] {
						t.Fatalf("share %d complete, but the plan keeps it incomplete", s.index)
					}
					if decoded {
						if p.New != 0 {
							t.Fatalf("segment after decoding counted %d new bytes", p.New)
						}
						continue
					}
					if m.Ready() != md.ready() {
						t.Fatalf("step %d: Ready() = %v, model says %v", step, m.Ready(), md.ready())
					}
					if step%37 == 0 || md.ready() {
						if got, want := m.Missing(), md.missing(); !slices.Equal(got, want) {
							t.Fatalf("step %d: Missing() = %v, want %v", step, got, want)
						}
					}
					if !md.ready() {
						if _, _, err := m.Result(); !errors.Is(err, ErrNotReady) {
							t.Fatalf("step %d: Result before ready: %v", step, err)
						}
						continue
					}
					msg, rep, err := m.Result()
					if err != nil {
						t.Fatalf("Result: %v (report %+v)", err, rep)
					}
					if !bytes.Equal(msg, tm.msg) {
						t.Fatal("decoded message differs")
					}
					if len(rep.Used) != tc.k || len(rep.Bad) != 0 || rep.Attempts != 1 {
						t.Fatalf("report %+v: want %d used, none bad, one attempt", rep, tc.k)
					}
					decoded = true
				}
				if !decoded {
					t.Fatal("never decoded")
				}
				if m.Missing() != nil || m.Ready() || !m.Done() {
					t.Fatal("decoded message still reports missing ranges, or Ready, or not Done")
				}
				msg, _, err := m.Result()
				if err != nil || !bytes.Equal(msg, tm.msg) {
					t.Fatalf("second Result: %v", err)
				}
			})
		}
	}
}

// TestRetransmitMissing leaves ranges under-covered, retransmits exactly
// what Missing names from one share, and decodes.
func TestRetransmitMissing(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	tm := newTestMsg(t, 50_000, 6, 3, 7)
	segs := tm.segments(1104)
	m := tm.newMessage(t, Limits{})
	// Shares 1..3 arrive with 30% loss each, 4..6 not at all.
	for i := range 3 {
		for _, s := range segs[i] {
			if rng.Float64() >= 0.3 {
				add(t, m, s)
			}
		}
	}
	if m.Ready() {
		t.Fatal("ready with under-covered ranges")
	}
	miss := m.Missing()
	if len(miss) == 0 {
		t.Fatal("Missing() is empty but the message is not ready")
	}
	if _, rep, err := m.Result(); !errors.Is(err, ErrNotReady) || rep.Attempts != 0 {
		t.Fatalf("Result: %v, %d attempts", err, rep.Attempts)
	}
	for _, r := range miss {
		if r.Have >= 3 || r.Off >= r.End || r.End > tm.transferLn {
			t.Fatalf("bad range %+v", r)
		}
		// Share 4 retransmits the range, and share 5 too where two are
		// missing; share 6 where all three are.
		for i := 3; i < 3+(3-r.Have); i++ {
			add(t, m, segment{uint8(i + 1), r.Off, tm.envs[i][r.Off:r.End]})
		}
	}
	if !m.Ready() || m.Missing() != nil {
		t.Fatalf("not ready after retransmitting Missing(): %v", m.Missing())
	}
	msg, _, err := m.Result()
	if err != nil || !bytes.Equal(msg, tm.msg) {
		t.Fatalf("Result: %v", err)
	}
}

// TestAllSharesNeeded: with n == k every share must be complete.
func TestAllSharesNeeded(t *testing.T) {
	tm := newTestMsg(t, 10_000, 3, 3, 1)
	segs := tm.segments(999)
	m := tm.newMessage(t, Limits{})
	last := segs[1][2]
	for i := range segs {
		for _, s := range segs[i] {
			if s.index != last.index || s.off != last.off {
				add(t, m, s)
			}
		}
	}
	want := []Range{{last.off, last.off + len(last.b), 2}}
	if m.Ready() || !slices.Equal(m.Missing(), want) {
		t.Fatalf("Ready %v, Missing %v; want not ready, %v", m.Ready(), m.Missing(), want)
	}
	if p := add(t, m, last); !p.Complete || p.New != len(last.b) {
		t.Fatalf("progress %+v", p)
	}
	msg, rep, err := m.Result()
	if err != nil || !bytes.Equal(msg, tm.msg) || !slices.Equal(rep.Used, []uint8{1, 2, 3}) {
		t.Fatalf("Result: %v, used %v", err, rep.Used)
	}
}

func TestEmptyMessage(t *testing.T) {
	tm := newTestMsg(t, 0, 3, 2, 1)
	if tm.transferLn != tm.prefixLen {
		t.Fatalf("transfer of %d bytes for an empty message", tm.transferLn)
	}
	m := tm.newMessage(t, Limits{})
	add(t, m, segment{3, 0, tm.envs[2]})
	if m.Ready() {
		t.Fatal("ready with one prefix")
	}
	if got := m.Missing(); !slices.Equal(got, []Range{{0, tm.prefixLen, 1}}) {
		t.Fatalf("Missing() = %v", got)
	}
	if p := add(t, m, segment{1, 0, tm.envs[0]}); !p.PrefixVerified || !p.Complete {
		t.Fatalf("progress %+v", p)
	}
	msg, _, err := m.Result()
	if err != nil || msg == nil || len(msg) != 0 {
		t.Fatalf("Result = %q, %v", msg, err)
	}
}

// TestDuplicatesKeepFirst: a second copy of bytes changes nothing, even
// if it differs.
func TestDuplicatesKeepFirst(t *testing.T) {
	tm := newTestMsg(t, 20_000, 4, 2, 3)
	m := tm.newMessage(t, Limits{})
	segs := tm.segments(1000)
	for _, s := range segs[0] {
		if p := add(t, m, s); p.New != len(s.b) {
			t.Fatalf("first copy: %d new bytes of %d", p.New, len(s.b))
		}
		bad := segment{s.index, s.off, bytes.Repeat([]byte{0xee}, len(s.b))}
		if p := add(t, m, bad); p.New != 0 || p.Complete || p.PrefixVerified {
			t.Fatalf("altered duplicate: %+v", p)
		}
	}
	// Overlapping segments of share 3, shifted by half a segment.
	env := tm.envs[2]
	for off := 0; off < len(env); off += 500 {
		add(t, m, segment{3, off, env[off:min(off+1000, len(env))]})
	}
	if !m.Ready() {
		t.Fatal("not ready with two complete shares")
	}
	msg, rep, err := m.Result()
	if err != nil || !bytes.Equal(msg, tm.msg) || len(rep.Bad) != 0 {
		t.Fatalf("Result: %v, bad %v", err, rep.Bad)
	}
}

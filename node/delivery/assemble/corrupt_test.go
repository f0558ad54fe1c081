package assemble

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vmdt/vmdt/ssms"
)

// alter returns a copy of s with the fragment bytes [from, to) of its
// transfer (fragment offsets) changed, as a dishonest relay would.
func (tm *testMsg) alter(s segment, from, to int) segment {
	b := slices.Clone(s.b)
	for x := range b {
		if f := s.off + x - tm.prefixLen; f >= from && f < to {
			b[x] ^= 0x5a
		}
	}
	return segment{s.index, s.off, b}
}

// badIndexes returns the share indexes of a report's bad shares, checking
// that each is ErrAltered.
func badIndexes(t *testing.T, rep Report) []uint8 {
	t.Helper()
	var out []uint8
	for _, e := range rep.Bad {
		if !errors.Is(e, ErrAltered) {
			t.Fatalf("share %d rejected for %v, want ErrAltered", e.Index, e.Err)
		}
		out = append(out, e.Index)
	}
	slices.Sort(out)
	return out
}

// TestAlteredCompleteShare: a complete share with altered bytes fails
// its tag on its own bytes and is rejected at once; the message decodes.
func TestAlteredCompleteShare(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tm := newTestMsg(t, 30_000, 6, 3, 1)
	segs := tm.segments(1104)
	keep := plan(rng, segs, tm.prefixLen, 3, 0.1, []int{0, 2, 3, 4, 5}, true)
	for j := range keep[1] {
		keep[1][j] = true
	}
	m := tm.newMessage(t, Limits{})
	for _, s := range pick(rng, segs, keep) {
		if s.index == 2 {
			s = tm.alter(s, 1000, 1100)
		}
		add(t, m, s)
	}
	msg, rep, err := m.Result()
	if err != nil || !bytes.Equal(msg, tm.msg) {
		t.Fatalf("Result: %v", err)
	}
	if bad := badIndexes(t, rep); !slices.Equal(bad, []uint8{2}) || slices.Contains(rep.Used, 2) {
		t.Fatalf("bad %v, used %v; want share 2 bad", bad, rep.Used)
	}
}

// TestAlteredSourceLeftOut: share 1, the first source everywhere, is
// altered throughout, and every share misses segments, so bytes rebuilt
// from it are wrong. Coverage without it is enough, so Result finds the
// message without more data, and names share 1 alone.
func TestAlteredSourceLeftOut(t *testing.T) {
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 3))
		tm := newTestMsg(t, 40_000, 6, 3, seed)
		segs := tm.segments(1104)
		keep := plan(rng, segs, tm.prefixLen, 3, 0.15, []int{1, 2, 3, 4, 5}, true)
		for j := range keep[0] {
			keep[0][j] = keep[0][j] || j%3 != 0 // share 1 covers much
		}
		keep[0][len(keep[0])-1] = false
		m := tm.newMessage(t, Limits{})
		for _, s := range pick(rng, segs, keep) {
			if s.index == 1 {
				s = tm.alter(s, 0, tm.transferLn)
			}
			add(t, m, s)
		}
		if !m.Ready() {
			t.Fatalf("seed %d: not ready", seed)
		}
		msg, rep, err := m.Result()
		if err != nil || !bytes.Equal(msg, tm.msg) {
			t.Fatalf("seed %d: Result: %v, report %+v", seed, err, rep)
		}
		if bad := badIndexes(t, rep); !slices.Equal(bad, []uint8{1}) {
			t.Fatalf("seed %d: bad shares %v, want [1]", seed, bad)
		}
		if rep.Attempts < 2 {
			t.Fatalf("seed %d: decoded in %d attempt; the scenario should need a second", seed, rep.Attempts)
		}
	}
}

// TestAlteredWithoutPrefix: share 5 never sends its prefix, so its tag
// is never checked, and alters a range; after decoding it is named by
// comparison with the authenticated fragments.
func TestAlteredWithoutPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	tm := newTestMsg(t, 30_000, 6, 3, 5)
	segs := tm.segments(1104)
	keep := plan(rng, segs, tm.prefixLen, 3, 0.1, []int{0, 1, 2, 3, 5}, true)
	for j := range keep[4] {
		keep[4][j] = j > 0
	}
	m := tm.newMessage(t, Limits{})
	for _, s := range pick(rng, segs, keep) {
		if s.index == 5 {
			s = tm.alter(s, 5000, 5001)
		}
		add(t, m, s)
	}
	msg, rep, err := m.Result()
	if err != nil || !bytes.Equal(msg, tm.msg) {
		t.Fatalf("Result: %v, report %+v", err, rep)
	}
	if bad := badIndexes(t, rep); !slices.Equal(bad, []uint8{5}) {
		t.Fatalf("bad shares %v, want [5]", bad)
	}
}

// TestAlteredNeedsMoreData: share 1 is altered and without it some bytes
// have fewer than k coverers, so the first decode fails to authenticate;
// nothing is released. Ready turns true again as more segments arrive,
// and the message decodes with share 1 named.
func TestAlteredNeedsMoreData(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	tm := newTestMsg(t, 30_000, 6, 3, 9)
	segs := tm.segments(1104)
	// Shares 1, 2, 3 complete, share 1 altered throughout; 4, 5, 6 lose
	// segment 3 and half the others.
	m := tm.newMessage(t, Limits{})
	var later []segment
	for i := range segs {
		for j, s := range segs[i] {
			if i == 0 {
				s = tm.alter(s, 0, tm.transferLn)
			}
			if i >= 3 && j > 0 && (j == 3 || rng.IntN(2) == 0) {
				later = append(later, s)
				continue
			}
			add(t, m, s)
		}
	}
	if !m.Ready() {
		t.Fatal("not ready")
	}
	// Shares 1..3 are complete, so share 1 is proven altered at once,
	// but without it segment 3 has only two coverers.
	msg, rep, err := m.Result()
	if !errors.Is(err, ErrUnauthenticated) || !errors.Is(err, ssms.ErrNotEnoughShares) || msg != nil {
		t.Fatalf("Result = %d bytes, %v", len(msg), err)
	}
	if bad := badIndexes(t, rep); !slices.Equal(bad, []uint8{1}) {
		t.Fatalf("bad shares %v, want [1]", bad)
	}
	if m.Ready() {
		t.Fatal("ready again without new data")
	}
	// Share 1 is out, so bytes 4..6 lack are under-covered again.
	if len(m.Missing()) == 0 {
		t.Fatal("no missing ranges after share 1 was rejected")
	}
	decoded := false
	for _, s := range later {
		add(t, m, s)
		if !m.Ready() {
			continue
		}
		msg, rep, err = m.Result()
		if err != nil {
			continue
		}
		if !bytes.Equal(msg, tm.msg) {
			t.Fatal("wrong message released")
		}
		if bad := badIndexes(t, rep); !slices.Equal(bad, []uint8{1}) {
			t.Fatalf("bad shares %v, want [1]", bad)
		}
		decoded = true
		break
	}
	if !decoded {
		t.Fatal("never decoded")
	}
}

// TestTwoAlteredRelays: shares 1 and 2 altered; once the honest shares
// complete, the message decodes, and both are named.
func TestTwoAlteredRelays(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	tm := newTestMsg(t, 20_000, 6, 3, 4)
	segs := tm.segments(1104)
	m := tm.newMessage(t, Limits{})
	var order []segment
	for i := range segs {
		for _, s := range segs[i] {
			if i < 2 {
				s = tm.alter(s, 100*i, 100*i+7000)
			}
			order = append(order, s)
		}
	}
	rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	var msg []byte
	var rep Report
	for _, s := range order {
		add(t, m, s)
		if !m.Ready() {
			continue
		}
		var err error
		msg, rep, err = m.Result()
		if err == nil {
			break
		}
		if msg != nil {
			t.Fatal("message released with an error")
		}
	}
	if !bytes.Equal(msg, tm.msg) {
		t.Fatal("not decoded after every segment arrived")
	}
	if bad := badIndexes(t, rep); !slices.Equal(bad, []uint8{1, 2}) {
		t.Fatalf("bad shares %v, want [1 2]", bad)
	}
}

// TestRandomAlterations alters random ranges of random shares under
// random loss, delivers everything, and checks that whatever is released
// is the message, and that every share named bad was altered.
func TestRandomAlterations(t *testing.T) {
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	for round := range uint64(rounds) {
		rng := rand.New(rand.NewPCG(round, 77))
		n := 3 + rng.IntN(5)
		k := 2 + rng.IntN(n-1)
		tm := newTestMsg(t, 1+rng.IntN(20_000), n, k, round)
		segs := tm.segments(200 + rng.IntN(1500))
		altered := make([]bool, n)
		ranges := make([][2]int, n)
		for i := range n - k {
			j := rng.IntN(n)
			if !altered[j] {
				a := rng.IntN(tm.transferLn - tm.prefixLen)
				ranges[j] = [2]int{a, a + 1 + rng.IntN(3000)}
				altered[j] = true
			}
			_ = i
		}
		m := tm.newMessage(t, Limits{})
		order := pick(rng, segs, plan(rng, segs, tm.prefixLen, n, 0, all(n), false))
		var msg []byte
		var rep Report
		for _, s := range order {
			if altered[s.index-1] {
				s = tm.alter(s, ranges[s.index-1][0], ranges[s.index-1][1])
			}
			add(t, m, s)
			if !m.Ready() {
				continue
			}
			var err error
			msg, rep, err = m.Result()
			if err == nil {
				break
			}
			if msg != nil {
				t.Fatalf("round %d: message released with error %v", round, err)
			}
		}
		if !bytes.Equal(msg, tm.msg) {
			t.Fatalf("round %d (n=%d k=%d): not decoded with every segment delivered", round, n, k)
		}
		for _, e := range rep.Bad {
			if !altered[e.Index-1] {
				t.Fatalf("round %d: honest share %d named bad: %v", round, e.Index, e.Err)
			}
		}
	}
}

// TestReadyWhenSuspectCanBeLeftOut: the altered share 1 is needed for
// coverage at first, so the decode fails and nothing can be left out.
// Segments that complete no share but let share 1 be left out make the
// message Ready again, and it decodes.
func TestReadyWhenSuspectCanBeLeftOut(t *testing.T) {
	tm := newTestMsg(t, 10_000, 4, 2, 6)
	segs := tm.segments(1104) // positions 0..4; the prefix is in 0
	if len(segs[0]) != 5 {
		t.Fatalf("%d segments per share, want 5", len(segs[0]))
	}
	m := tm.newMessage(t, Limits{})
	send := func(index, pos int) {
		t.Helper()
		s := segs[index-1][pos]
		if index == 1 {
			s = tm.alter(s, 0, tm.transferLn)
		}
		if p := add(t, m, s); p.Complete {
			t.Fatalf("share %d completed", index)
		}
	}
	// Coverers: 0 {1,2,3,4}, 1 {1,3}, 2 {1,4}, 3 {1,2}, 4 {2,3}.
	for _, sp := range [][2]int{{1, 0}, {2, 0}, {3, 0}, {4, 0}, {1, 1}, {3, 1}, {1, 2}, {4, 2}, {1, 3}, {2, 3}, {2, 4}, {3, 4}} {
		send(sp[0], sp[1])
	}
	if !m.Ready() {
		t.Fatal("not ready with every byte covered twice")
	}
	if msg, _, err := m.Result(); !errors.Is(err, ErrUnauthenticated) || msg != nil {
		t.Fatalf("Result = %d bytes, %v; want ErrUnauthenticated", len(msg), err)
	}
	if m.Ready() {
		t.Fatal("ready again without new data, though share 1 cannot be left out")
	}
	// Two more coverers each for positions 1, 2, 3, none completing a share.
	for _, sp := range [][2]int{{4, 1}, {2, 2}, {3, 3}} {
		send(sp[0], sp[1])
		if !m.Ready() {
			continue
		}
		msg, rep, err := m.Result()
		if err != nil {
			continue
		}
		if !bytes.Equal(msg, tm.msg) || sp != [2]int{3, 3} {
			t.Fatalf("decoded after segment %v", sp)
		}
		if bad := badIndexes(t, rep); !slices.Equal(bad, []uint8{1}) {
			t.Fatalf("bad shares %v, want [1]", bad)
		}
		return
	}
	t.Fatal("never decoded")
}

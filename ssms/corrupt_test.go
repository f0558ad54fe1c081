package ssms

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func unmarshalAll(t testing.TB, wire [][]byte) []Share {
	t.Helper()
	out := make([]Share, len(wire))
	for i, b := range wire {
		if err := out[i].UnmarshalBinary(b); err != nil {
			t.Fatalf("share %d: %v", i, err)
		}
	}
	return out
}

// TestCorruptEveryByte flips bits in every byte of every marshaled share of
// a 5-of-3 split. With all five shares given, Combine must return the
// message and report exactly the altered share; with only three given, one
// of them altered, it must fail and never return a message.
func TestCorruptEveryByte(t *testing.T) {
	const n, k = 5, 3
	msg := testMessage(10)
	wire := marshalAll(t, mustSplit(t, msg, n, k))
	deltas := []byte{0x01, 0x80, 0xff}
	if testing.Short() {
		deltas = deltas[:1]
	}
	var byUnmarshal, byCombine int
	for s := range n {
		for p := range wire[s] {
			for _, delta := range deltas {
				cb := bytes.Clone(wire[s])
				cb[p] ^= delta
				shares := unmarshalAll(t, wire)
				var bad Share
				if err := bad.UnmarshalBinary(cb); err != nil {
					byUnmarshal++
					if !errors.Is(err, ErrMalformed) {
						t.Fatalf("share %d byte %d ^%#x: unmarshal: %v", s, p, delta, err)
					}
					rest := slices.Delete(shares, s, s+1)
					if got, err := Combine(rest); err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("share %d byte %d ^%#x: the other four: %v", s, p, delta, err)
					}
					continue
				}
				byCombine++
				shares[s] = bad
				res, err := CombineReport(shares)
				if err != nil || !bytes.Equal(res.Message, msg) {
					t.Fatalf("share %d byte %d ^%#x: all five: %v", s, p, delta, err)
				}
				if !slices.Equal(res.Bad, []int{s}) || slices.Contains(res.Used, s) || len(res.Used) != k {
					t.Fatalf("share %d byte %d ^%#x: used %v bad %v (%v)", s, p, delta, res.Used, res.Bad, res.Reasons)
				}
				var se *ShareError
				if !errors.As(res.Reasons[0], &se) || se.Pos != s {
					t.Fatalf("share %d byte %d ^%#x: reason %v", s, p, delta, res.Reasons[0])
				}
				if got, err := Combine(shares); err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("share %d byte %d ^%#x: Combine all five: %v", s, p, delta, err)
				}

				// Exactly k shares, one of them altered, in every
				// combination and with the altered one first and last.
				for a := range n {
					for b := a + 1; b < n; b++ {
						if a == s || b == s {
							continue
						}
						for _, set := range [][]Share{{shares[s], shares[a], shares[b]}, {shares[a], shares[b], shares[s]}} {
							got, err := Combine(set)
							if got != nil || err == nil {
								t.Fatalf("share %d byte %d ^%#x with %d,%d: returned a message", s, p, delta, a, b)
							}
							inID := p >= offID && p < offKeyShare
							if !errors.Is(err, ErrNotEnoughShares) ||
								!(errors.Is(err, ErrIntegrity) || inID && errors.Is(err, ErrMismatch)) {
								t.Fatalf("share %d byte %d ^%#x with %d,%d: %v", s, p, delta, a, b, err)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d alterations rejected by UnmarshalBinary, %d by Combine", byUnmarshal, byCombine)
}

// TestCorruptKeySharesLargeN alters the key shares of up to ⌊(m−k)/2⌋ of m
// shares, including the first k that Combine tries first, which Gao's
// decoder must correct, and checks the report names exactly those shares.
func TestCorruptKeySharesLargeN(t *testing.T) {
	for _, p := range []struct{ n, k, bad int }{{40, 10, 15}, {12, 4, 4}, {255, 128, 63}} {
		if testing.Short() && p.n > 100 {
			continue
		}
		msg := testMessage(500)
		shares := mustSplit(t, msg, p.n, p.k)
		var want []int
		for i := 0; i < p.bad; i++ {
			pos := (i * 7) % p.n // spread out, starting with position 0
			if slices.Contains(want, pos) {
				continue
			}
			want = append(want, pos)
			ks := bytes.Clone(shares[pos].KeyShare)
			ks[i%keySize] ^= byte(i + 1)
			shares[pos].KeyShare = ks
		}
		slices.Sort(want)
		res, err := CombineReport(shares)
		if err != nil || !bytes.Equal(res.Message, msg) {
			t.Fatalf("%+v: %v", p, err)
		}
		if !slices.Equal(res.Bad, want) {
			t.Fatalf("%+v: bad %v, want %v", p, res.Bad, want)
		}
		for _, r := range res.Reasons {
			if !errors.Is(r, ErrIntegrity) {
				t.Fatalf("%+v: reason %v", p, r)
			}
		}
	}
}

// TestCorruptBeyondDecodingRadius: 3 of 5 key shares altered leaves only
// two good ones (k=3), so nothing can reconstruct the key; 2 of 5 altered
// is beyond Gao's radius of 1, and the subset search must find the 3 good.
func TestCorruptBeyondDecodingRadius(t *testing.T) {
	msg := testMessage(50)
	shares := mustSplit(t, msg, 5, 3)
	alter := func(set []Share, pos ...int) []Share {
		set = slices.Clone(set)
		for _, p := range pos {
			ks := bytes.Clone(set[p].KeyShare)
			ks[3] ^= 0x40
			set[p].KeyShare = ks
		}
		return set
	}
	res, err := CombineReport(alter(shares, 0, 2))
	if err != nil || !bytes.Equal(res.Message, msg) || !slices.Equal(res.Bad, []int{0, 2}) {
		t.Fatalf("two altered: bad %v, err %v", res.Bad, err)
	}
	got, err := Combine(alter(shares, 0, 2, 4))
	if got != nil || !errors.Is(err, ErrIntegrity) || !errors.Is(err, ErrNotEnoughShares) {
		t.Fatalf("three altered: %v", err)
	}
}

func TestCombineChecks(t *testing.T) {
	msg := testMessage(30)
	shares := mustSplit(t, msg, 5, 3)
	other := mustSplit(t, msg, 5, 3)
	with := func(pos int, f func(s *Share)) []Share {
		set := slices.Clone(shares)
		s := set[pos]
		s.KeyShare = bytes.Clone(s.KeyShare)
		f(&s)
		set[pos] = s
		return set
	}
	for _, tc := range []struct {
		name string
		set  []Share
		bad  []int
		errs []error // every one must match each reason, and the error for k shares
	}{
		{"index 0", with(1, func(s *Share) { s.Index = 0 }), []int{1}, []error{ErrMalformed}},
		{"index > n", with(1, func(s *Share) { s.Index = 6 }), []int{1}, []error{ErrMalformed}},
		{"x 0", with(2, func(s *Share) { s.KeyShare[32] = 0 }), []int{2}, []error{ErrMalformed}},
		{"k > n", with(2, func(s *Share) { s.K = 6 }), []int{2}, []error{ErrMalformed, ErrInvalidParams}},
		{"n < 2", with(2, func(s *Share) { s.N = 1 }), []int{2}, []error{ErrMalformed, ErrInvalidParams}},
		{"short key share", with(0, func(s *Share) { s.KeyShare = s.KeyShare[:20] }), []int{0}, []error{ErrMalformed}},
		{"long key share", with(0, func(s *Share) { s.KeyShare = append(s.KeyShare, 1) }), []int{0}, []error{ErrMalformed}},
		{"nil key share", with(0, func(s *Share) { s.KeyShare = nil }), []int{0}, []error{ErrMalformed}},
		{"short fragment", with(3, func(s *Share) { s.Fragment = s.Fragment[:9] }), []int{3}, []error{ErrMalformed}},
		{"long fragment", with(3, func(s *Share) { s.Fragment = append(bytes.Clone(s.Fragment), 0) }), []int{3}, []error{ErrMalformed}},
		{"duplicate index", with(1, func(s *Share) { s.Index = 1 }), []int{1}, []error{ErrIntegrity, ErrDuplicate}},
		{"duplicate x", with(1, func(s *Share) { s.KeyShare[32] = shares[0].KeyShare[32] }), []int{1}, []error{ErrIntegrity}},
		{"other n", with(4, func(s *Share) { s.N = 6 }), []int{4}, []error{ErrMismatch, ErrIntegrity}},
		{"other k", with(4, func(s *Share) { s.K = 2; s.Fragment = make([]byte, 15) }), []int{4}, []error{ErrMismatch, ErrIntegrity}},
		{"other length", with(4, func(s *Share) { s.MsgLen = 29 }), []int{4}, []error{ErrMismatch, ErrIntegrity}},
		{"other message", append(slices.Clone(shares[:3]), other[3], other[4]), []int{3, 4}, []error{ErrMismatch}},
	} {
		res, err := CombineReport(tc.set)
		if err != nil || !bytes.Equal(res.Message, msg) || !slices.Equal(res.Bad, tc.bad) {
			t.Errorf("%s: bad %v, err %v", tc.name, res.Bad, err)
			continue
		}
		for _, r := range res.Reasons {
			for _, want := range tc.errs {
				if !errors.Is(r, want) {
					t.Errorf("%s: reason %v is not %v", tc.name, r, want)
				}
			}
		}
		// The bad share with two good ones: not enough, for the same reasons.
		p := tc.bad[0]
		set := []Share{tc.set[p]}
		for i := range tc.set {
			if len(set) < 3 && !slices.Contains(tc.bad, i) {
				set = append(set, tc.set[i])
			}
		}
		got, err := Combine(set)
		if got != nil || !errors.Is(err, ErrNotEnoughShares) {
			t.Errorf("%s with k shares: %v", tc.name, err)
		}
		for _, want := range tc.errs {
			if !errors.Is(err, want) {
				t.Errorf("%s with k shares: %v is not %v", tc.name, err, want)
			}
		}
	}
}

func TestCombineDuplicates(t *testing.T) {
	msg := testMessage(30)
	shares := mustSplit(t, msg, 5, 3)
	// The same share twice is one share.
	got, err := Combine([]Share{shares[0], shares[1], shares[1]})
	if got != nil || !errors.Is(err, ErrNotEnoughShares) || !errors.Is(err, ErrDuplicate) || errors.Is(err, ErrIntegrity) {
		t.Fatalf("doubled share: %v", err)
	}
	// Two full sets of different messages: the first seen wins, the other
	// set is reported.
	other := mustSplit(t, testMessage(31), 5, 3)
	res, err := CombineReport(append(slices.Clone(shares[:3]), other[:3]...))
	if err != nil || !bytes.Equal(res.Message, msg) || !slices.Equal(res.Bad, []int{3, 4, 5}) {
		t.Fatalf("two messages: bad %v, err %v", res.Bad, err)
	}
	// k−1 of one message and one of another: not enough, mismatch.
	_, err = Combine([]Share{shares[0], other[1], shares[2]})
	if !errors.Is(err, ErrNotEnoughShares) || !errors.Is(err, ErrMismatch) || errors.Is(err, ErrIntegrity) {
		t.Fatalf("mixed: %v", err)
	}
}

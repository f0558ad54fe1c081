package ssms

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	mathrand "math/rand/v2"
	"slices"
	"testing"
)

func testMessage(size int) []byte {
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i*7 + 3)
	}
	return msg
}

func mustSplit(t testing.TB, msg []byte, n, k int) []Share {
	t.Helper()
	shares, err := Split(msg, n, k)
	if err != nil {
		t.Fatalf("Split(%d bytes, n=%d, k=%d): %v", len(msg), n, k, err)
	}
	return shares
}

// pick returns the shares whose bit is set in mask, in a shuffled order.
func pick(rng *mathrand.Rand, shares []Share, mask uint) []Share {
	var out []Share
	for i := range shares {
		if mask&(1<<i) != 0 {
			out = append(out, shares[i])
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// TestEveryKSubset combines every k-subset (and checks every (k−1)-subset
// fails) for every 2 <= k <= n <= 7.
func TestEveryKSubset(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 2, 100, 1001} {
		msg := testMessage(size)
		for n := 2; n <= 7; n++ {
			for k := 2; k <= n; k++ {
				shares := mustSplit(t, msg, n, k)
				for mask := uint(0); mask < 1<<n; mask++ {
					subset := pick(rng, shares, mask)
					switch bits.OnesCount(mask) {
					case k:
						res, err := CombineReport(subset)
						if err != nil {
							t.Fatalf("size %d n=%d k=%d mask %b: %v", size, n, k, mask, err)
						}
						if !bytes.Equal(res.Message, msg) || len(res.Used) != k || len(res.Bad) != 0 {
							t.Fatalf("size %d n=%d k=%d mask %b: message ok %v, used %v, bad %v",
								size, n, k, mask, bytes.Equal(res.Message, msg), res.Used, res.Bad)
						}
						got, err := Combine(subset)
						if err != nil || !bytes.Equal(got, msg) {
							t.Fatalf("Combine size %d n=%d k=%d mask %b: err %v", size, n, k, mask, err)
						}
					case k - 1:
						got, err := Combine(subset)
						if !errors.Is(err, ErrNotEnoughShares) || got != nil {
							t.Fatalf("size %d n=%d k=%d mask %b: k−1 shares gave %d bytes, err %v", size, n, k, mask, len(got), err)
						}
						if errors.Is(err, ErrIntegrity) {
							t.Fatalf("size %d n=%d k=%d mask %b: k−1 good shares reported as altered: %v", size, n, k, mask, err)
						}
					}
				}
			}
		}
	}
}

func TestSplitShape(t *testing.T) {
	for _, tc := range []struct{ size, n, k, frag int }{
		{0, 2, 2, 0}, {1, 3, 2, 1}, {2, 3, 2, 1}, {3, 3, 2, 2}, {1000, 7, 3, 334}, {65536, 6, 3, 21846},
	} {
		msg := testMessage(tc.size)
		shares := mustSplit(t, msg, tc.n, tc.k)
		if len(shares) != tc.n {
			t.Fatalf("%+v: %d shares", tc, len(shares))
		}
		xs := map[byte]bool{}
		for i, s := range shares {
			if int(s.Index) != i+1 || int(s.N) != tc.n || int(s.K) != tc.k || s.MsgLen != uint64(tc.size) ||
				len(s.Fragment) != tc.frag || len(s.KeyShare) != KeyShareSize || s.MsgID != shares[0].MsgID {
				t.Fatalf("%+v: share %d: index %d n %d k %d len %d frag %d", tc, i, s.Index, s.N, s.K, s.MsgLen, len(s.Fragment))
			}
			if s.x() == 0 || xs[s.x()] {
				t.Fatalf("%+v: share %d: x-coordinate %d zero or repeated", tc, i, s.x())
			}
			xs[s.x()] = true
		}
		// Data fragments, concatenated, are the ciphertext: as long as
		// the message, zero padded, and (for a non-trivial message) not
		// the message itself.
		var ct []byte
		for _, s := range shares[:tc.k] {
			ct = append(ct, s.Fragment...)
		}
		if tc.size > 16 && bytes.Contains(ct, msg[:16]) {
			t.Fatalf("%+v: plaintext visible in data fragments", tc)
		}
		if slices.ContainsFunc(ct[tc.size:], func(b byte) bool { return b != 0 }) {
			t.Fatalf("%+v: padding not zero", tc)
		}
	}
}

func TestSplitFreshKeys(t *testing.T) {
	msg := testMessage(64)
	a, b := mustSplit(t, msg, 3, 2), mustSplit(t, msg, 3, 2)
	if a[0].MsgID == b[0].MsgID || bytes.Equal(a[0].Fragment, b[0].Fragment) {
		t.Fatal("two splits of one message share a message id or ciphertext")
	}
	// Shares of the two splits never combine with each other.
	if _, err := Combine([]Share{a[0], b[1]}); !errors.Is(err, ErrNotEnoughShares) || !errors.Is(err, ErrMismatch) {
		t.Fatalf("mixed splits: %v", err)
	}
}

func TestSplitInvalidParams(t *testing.T) {
	for _, p := range [][2]int{{0, 0}, {1, 1}, {2, 1}, {3, 4}, {256, 2}, {256, 256}, {-1, 2}, {5, 0}, {5, -3}} {
		if _, err := Split([]byte("x"), p[0], p[1]); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("Split(n=%d, k=%d): %v, want ErrInvalidParams", p[0], p[1], err)
		}
	}
}

func TestExtremeParams(t *testing.T) {
	msg := testMessage(300)
	for _, p := range [][2]int{{255, 2}, {255, 255}, {255, 128}} {
		n, k := p[0], p[1]
		shares := mustSplit(t, msg, n, k)
		for _, subset := range [][]Share{shares[:k], shares[n-k:]} {
			got, err := Combine(subset)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("n=%d k=%d: %v", n, k, err)
			}
		}
		if _, err := Combine(shares[1:k]); !errors.Is(err, ErrNotEnoughShares) {
			t.Fatalf("n=%d k=%d with k−1 shares: %v", n, k, err)
		}
	}
}

func TestCombineNothing(t *testing.T) {
	for _, shares := range [][]Share{nil, {}, {{}}} {
		got, err := Combine(shares)
		if got != nil || !errors.Is(err, ErrNotEnoughShares) {
			t.Fatalf("Combine(%v): %v", shares, err)
		}
	}
}

// TestCombinePrefersDataShares checks that the message comes from shares
// 1..k when they are present, whatever the order given.
func TestCombinePrefersDataShares(t *testing.T) {
	msg := testMessage(999)
	shares := mustSplit(t, msg, 6, 3)
	rev := slices.Clone(shares)
	slices.Reverse(rev) // positions 5,4,3 hold indexes 1,2,3
	res, err := CombineReport(rev)
	if err != nil || !bytes.Equal(res.Message, msg) {
		t.Fatal(err)
	}
	if !slices.Equal(res.Used, []int{5, 4, 3}) || res.Bad != nil {
		t.Fatalf("used %v bad %v, want used [5 4 3]", res.Used, res.Bad)
	}
	// Identical copies are neither used twice nor bad.
	res, err = CombineReport(append(slices.Clone(shares), shares...))
	if err != nil || !slices.Equal(res.Used, []int{0, 1, 2}) || res.Bad != nil {
		t.Fatalf("doubled set: used %v bad %v err %v", res.Used, res.Bad, err)
	}
}

func ExampleSplit() {
	msg := []byte("attack at dawn")
	shares, err := Split(msg, 5, 3)
	if err != nil {
		panic(err)
	}
	// Any three shares, in any order, give the message back.
	got, err := Combine([]Share{shares[4], shares[0], shares[2]})
	fmt.Printf("%s %v\n", got, err)
	// Two are not enough.
	_, err = Combine(shares[:2])
	fmt.Println(errors.Is(err, ErrNotEnoughShares))
	// Output:
	// attack at dawn <nil>
	// true
}

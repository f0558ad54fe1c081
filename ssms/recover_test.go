package ssms

import (
	"bytes"
	mathrand "math/rand/v2"
	"testing"

	"github.com/hashicorp/vault/shamir"
)

// TestGFMatchesVault checks our field and interpolation against
// hashicorp/vault/shamir: whatever Split makes, interpolateSecret of any k
// parts gives the secret, as shamir.Combine does.
func TestGFMatchesVault(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(3, 4))
	for _, p := range [][2]int{{2, 2}, {3, 2}, {6, 3}, {20, 7}, {255, 16}} {
		n, k := p[0], p[1]
		secret := make([]byte, keySize)
		for i := range secret {
			secret[i] = byte(rng.Uint32())
		}
		parts, err := shamir.Split(secret, n, k)
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			perm := rng.Perm(n)[:k]
			subset := make([][]byte, k)
			for i, j := range perm {
				subset[i] = parts[j]
			}
			got := make([]byte, keySize)
			interpolateSecret(got, subset)
			want, err := shamir.Combine(subset)
			if err != nil || !bytes.Equal(got, secret) || !bytes.Equal(want, secret) {
				t.Fatalf("n=%d k=%d: got %x, vault %x (%v), want %x", n, k, got, want, err, secret)
			}
		}
	}
	// Every product and inverse against the definition.
	for a := range 256 {
		if a != 0 && gfMul(byte(a), gfInv(byte(a))) != 1 {
			t.Fatalf("inverse of %#x", a)
		}
		for b := range 256 {
			if gfMul(byte(a), byte(b)) != slowMul(byte(a), byte(b)) {
				t.Fatalf("%#x·%#x", a, b)
			}
		}
	}
}

// slowMul multiplies by shift-and-add, reducing by 0x11b.
func slowMul(a, b byte) byte {
	var p uint16
	for i := range 8 {
		if b&(1<<i) != 0 {
			p ^= uint16(a) << i
		}
	}
	for i := 15; i >= 8; i-- {
		if p&(1<<i) != 0 {
			p ^= 0x11b << (i - 8)
		}
	}
	return byte(p)
}

func TestGaoDecoder(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(5, 6))
	for _, p := range [][2]int{{4, 2}, {5, 3}, {7, 2}, {30, 10}, {255, 100}} {
		m, k := p[0], p[1]
		xs := make([]byte, m)
		for i, x := range rng.Perm(255)[:m] {
			xs[i] = byte(x + 1)
		}
		dec := newGaoDecoder(xs, k)
		radius := (m - k) / 2
		for trial := range 20 {
			coef := make([]byte, k)
			for i := range coef {
				coef[i] = byte(rng.Uint32())
			}
			ys := make([]byte, m)
			for i, x := range xs {
				ys[i] = evalPoly(coef, x)
			}
			errs := trial % (radius + 1)
			for _, i := range rng.Perm(m)[:errs] {
				ys[i] ^= byte(rng.Uint32()%255 + 1)
			}
			got, ok := dec.decode(ys)
			want := poly(coef).trim()
			if !ok || !bytes.Equal(got, want) {
				t.Fatalf("m=%d k=%d with %d errors: got %x ok=%v, want %x", m, k, errs, got, ok, want)
			}
		}
	}
}

func evalPoly(coef []byte, x byte) byte { return poly(coef).eval(x) }

func TestNextCombination(t *testing.T) {
	idx := []int{0, 1, 2}
	count := 1
	for nextCombination(idx, 7) {
		count++
		if !(idx[0] < idx[1] && idx[1] < idx[2] && idx[2] < 7) {
			t.Fatalf("bad combination %v", idx)
		}
	}
	if count != 35 {
		t.Fatalf("%d combinations of 3 of 7, want 35", count)
	}
}

// TestRecoverKeyBounded checks that a hopeless search (many candidates,
// none right) ends within the budget rather than trying every subset.
func TestRecoverKeyBounded(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(7, 8))
	cands := make([]keyCandidate, 200)
	for i := range cands {
		ks := make([]byte, KeyShareSize)
		for j := range ks {
			ks[j] = byte(rng.Uint32())
		}
		ks[keySize] = byte(i + 1)
		cands[i] = keyCandidate{keyShare: ks, x: ks[keySize]}
	}
	var id [IDSize]byte
	if prk, distinct := recoverKey(cands, 100, &id); prk != nil || distinct != 200 {
		t.Fatalf("found a key among random key shares (distinct %d)", distinct)
	}
}

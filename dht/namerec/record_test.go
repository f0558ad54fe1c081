package namerec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// golden compares got with the hex in testdata/name, or rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(got)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s changed:\n got %x\nwant %x", name, got, want)
	}
}

func TestRecordGoldenAndRoundTrip(t *testing.T) {
	f := newFixture(t)
	r, b := f.record(t, "alice", 0, 1, 2)
	golden(t, "record_v1.hex", b)

	p, err := ParseRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "alice" || p.PeerID != idOf(t, f.owner) || !p.PubKey.Equals(f.owner.GetPublic()) ||
		!bytes.Equal(p.SealKey, f.seal) || p.Seq != 7 || !p.Expiry.Equal(f.now.Add(ClaimTTL)) || len(p.Counters) != 3 {
		t.Fatalf("parsed record differs: %+v", p)
	}
	key := marshalPub(t, f.owner)
	if p.DDTAddr != protocol.DDTAddrFromPublicKey(key) || p.DDTAddr != r.DDTAddr {
		t.Fatalf("DDT address %s, want %s", p.DDTAddr, protocol.DDTAddrFromPublicKey(key))
	}
	again, err := p.Marshal()
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("re-marshal differs: %v\n%x\n%x", err, again, b)
	}
	for i := 1; i < len(p.Counters); i++ {
		if p.Counters[i-1].Authority >= p.Counters[i].Authority {
			t.Fatal("counters not sorted by authority")
		}
	}
}

func TestVerifyGood(t *testing.T) {
	f := newFixture(t)
	_, b := f.record(t, "alice", 2, 0) // a majority (2 of 3), given unsorted
	r, err := ParseRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	until, err := f.set.Verify(r, f.now)
	if err != nil {
		t.Fatal(err)
	}
	if !until.Equal(f.now.Add(ClaimTTL)) {
		t.Fatalf("effective expiry %s, want %s", until, f.now.Add(ClaimTTL))
	}
}

// TestVerifyEffectiveExpiry checks that validity ends when fewer than a
// majority of countersignatures are live, or at the owner's expiry.
func TestVerifyEffectiveExpiry(t *testing.T) {
	f := newFixture(t)
	cs := append(f.counters(t, f.owner, "bob", time.Hour, 0), f.counters(t, f.owner, "bob", 3*time.Hour, 1)...)
	cs = append(cs, f.counters(t, f.owner, "bob", 5*time.Hour, 2)...)
	r, _, err := NewRecord(f.owner, "bob", f.seal, 1, f.now.Add(ClaimTTL), cs)
	if err != nil {
		t.Fatal(err)
	}
	// Majority 2: the quorum lapses at the 2nd latest valid-until, +3h.
	if until, err := f.set.Verify(r, f.now); err != nil || !until.Equal(f.now.Add(3*time.Hour)) {
		t.Fatalf("Verify = %s, %v; want now+3h", until, err)
	}
	if _, err := f.set.Verify(r, f.now.Add(2*time.Hour)); err != nil {
		t.Fatalf("one lapsed countersignature of three: %v", err)
	}
	if _, err := f.set.Verify(r, f.now.Add(3*time.Hour)); !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("after the quorum lapsed: %v, want ErrNoQuorum", err)
	}
	short, _, err := NewRecord(f.owner, "bob", f.seal, 1, f.now.Add(30*time.Minute), cs)
	if err != nil {
		t.Fatal(err)
	}
	if until, err := f.set.Verify(short, f.now); err != nil || !until.Equal(f.now.Add(30*time.Minute)) {
		t.Fatalf("Verify = %s, %v; want the owner's expiry", until, err)
	}
	if _, err := f.set.Verify(short, f.now.Add(30*time.Minute)); !errors.Is(err, ErrExpired) {
		t.Fatalf("at the owner's expiry: %v, want ErrExpired", err)
	}
}

// mutate parses the fixture record for "alice", applies m, re-signs it
// with signer (nil: keep the signature) and returns the encoding.
func mutate(t *testing.T, f *fixture, signer crypto.PrivKey, m func(r *Record)) []byte {
	t.Helper()
	_, b := f.record(t, "alice", 0, 1, 2)
	r, err := ParseRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	m(r)
	if signer != nil {
		if err := r.Sign(signer); err != nil {
			t.Fatal(err)
		}
	}
	out, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyRejects(t *testing.T) {
	f := newFixture(t)
	other := testKey(t, 42)
	stranger := testKey(t, 77) // not an authority
	otherKey := marshalPub(t, other)
	secp, _, err := crypto.GenerateSecp256k1Key(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	_, good := f.record(t, "alice", 0, 1, 2)

	cases := []struct {
		name string
		enc  func() []byte
		at   time.Time
		want error
	}{
		{"forged owner signature", func() []byte {
			return mutate(t, f, nil, func(r *Record) { r.Sig[10] ^= 1 })
		}, f.now, ErrBadSignature},
		{"signed by another key", func() []byte {
			return mutate(t, f, other, func(r *Record) {})
		}, f.now, ErrBadSignature},
		{"changed seal key, old signature", func() []byte {
			return mutate(t, f, nil, func(r *Record) { r.SealKey[0] ^= 1 })
		}, f.now, ErrBadSignature},
		{"expired", func() []byte { return good }, f.now.Add(ClaimTTL), ErrExpired},
		{"DDT address of another key", func() []byte {
			return mutate(t, f, f.owner, func(r *Record) { r.DDTAddr = protocol.DDTAddrFromPublicKey(otherKey) })
		}, f.now, ErrAddrMismatch},
		{"peer ID of another key", func() []byte {
			return mutate(t, f, f.owner, func(r *Record) { r.PeerID = idOf(t, other) })
		}, f.now, ErrPeerIDMismatch},
		{"one countersignature of three", func() []byte {
			return mutate(t, f, f.owner, func(r *Record) { r.Counters = r.Counters[:1] })
		}, f.now, ErrNoQuorum},
		{"forged countersignature", func() []byte {
			return mutate(t, f, f.owner, func(r *Record) { r.Counters[1].Sig[3] ^= 1 })
		}, f.now, ErrBadCountersig},
		{"countersignature valid-until extended", func() []byte {
			return mutate(t, f, f.owner, func(r *Record) { r.Counters[0].ValidUntil = r.Counters[0].ValidUntil.Add(time.Hour) })
		}, f.now, ErrBadCountersig},
		{"countersignatures for another name", func() []byte {
			return mutate(t, f, f.owner, func(r *Record) { r.Counters = SortCounters(f.counters(t, f.owner, "alicf", ClaimTTL, 0, 1, 2)) })
		}, f.now, ErrBadCountersig},
		{"another key's countersignatures, re-signed by that key", func() []byte {
			// A takeover: other copies alice's quorum into its own record.
			return mutate(t, f, other, func(r *Record) {
				r.PubKey = other.GetPublic()
				r.PeerID = idOf(t, other)
				r.DDTAddr = protocol.DDTAddrFromPublicKey(otherKey)
			})
		}, f.now, ErrBadCountersig},
		{"duplicate countersignature", func() []byte {
			return mutate(t, f, f.owner, func(r *Record) { r.Counters = []Countersignature{r.Counters[0], r.Counters[0]} })
		}, f.now, ErrDuplicateCounter},
		{"unsorted countersignatures", func() []byte {
			return mutate(t, f, f.owner, func(r *Record) { r.Counters[0], r.Counters[1] = r.Counters[1], r.Counters[0] })
		}, f.now, ErrDuplicateCounter},
		{"countersignature by a non-authority", func() []byte {
			return mutate(t, f, f.owner, func(r *Record) {
				c, err := Countersign(stranger, "alice", marshalPub(t, f.owner), f.now.Add(ClaimTTL))
				if err != nil {
					t.Fatal(err)
				}
				r.Counters = SortCounters(append(r.Counters[:2], c))
			})
		}, f.now, ErrUnknownAuthority},
		{"lapsed countersignatures", func() []byte {
			return mutate(t, f, f.owner, func(r *Record) { r.Counters = SortCounters(f.counters(t, f.owner, "alice", time.Hour, 0, 1, 2)) })
		}, f.now.Add(2 * time.Hour), ErrNoQuorum},
		{"upper-case name", func() []byte {
			b := bytes.Clone(good)
			b[2] = 'A'
			return b
		}, f.now, ErrInvalidName},
		{"secp256k1 owner key", func() []byte {
			id, _ := peer.IDFromPrivateKey(secp)
			key, _ := crypto.MarshalPublicKey(secp.GetPublic())
			r := &Record{Name: "alice", PeerID: id, PubKey: secp.GetPublic(), DDTAddr: protocol.DDTAddrFromPublicKey(key),
				SealKey: f.seal, Expiry: f.now.Add(time.Hour), Counters: f.counters(t, f.owner, "alice", time.Hour, 0), Sig: make([]byte, SigLen)}
			b, err := r.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, f.now, ErrUnsupportedKey},
		{"trailing byte", func() []byte { return append(bytes.Clone(good), 0) }, f.now, ErrMalformed},
		{"truncated", func() []byte { return good[:len(good)-1] }, f.now, ErrMalformed},
		{"version 2", func() []byte {
			b := bytes.Clone(good)
			b[0] = 2
			return b
		}, f.now, ErrMalformed},
		{"oversize", func() []byte { return append(bytes.Clone(good), make([]byte, MaxRecordSize)...) }, f.now, ErrRecordTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseRecord(c.enc())
			if err == nil {
				_, err = f.set.Verify(r, c.at)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestNoAuthoritiesAcceptNothing(t *testing.T) {
	f := newFixture(t)
	r, _ := f.record(t, "alice", 0, 1, 2)
	empty, err := NewAuthorities(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Verify(r, f.now); !errors.Is(err, ErrNoAuthorities) {
		t.Fatalf("got %v, want ErrNoAuthorities", err)
	}
}

func TestAuthoritiesLimits(t *testing.T) {
	var ids []peer.ID
	for i := 0; i < MaxAuthorities+1; i++ {
		ids = append(ids, idOf(t, testKey(t, byte(100+i))))
	}
	if _, err := NewAuthorities(ids); !errors.Is(err, ErrTooManyAuthorities) {
		t.Fatalf("got %v, want ErrTooManyAuthorities", err)
	}
	a, err := NewAuthorities(append(ids[:3], ids[0], ids[1]))
	if err != nil || a.Len() != 3 || a.Majority() != 2 {
		t.Fatalf("duplicates: %v, len %d", err, a.Len())
	}
	rsa, _, err := crypto.GenerateSecp256k1Key(bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewAuthorities([]peer.ID{idOf(t, rsa)}); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("secp256k1 authority: %v, want ErrUnsupportedKey", err)
	}
}

func TestBetter(t *testing.T) {
	f := newFixture(t)
	mk := func(owner crypto.PrivKey, seq uint64, exp time.Duration) (*Record, []byte) {
		r, b, err := NewRecord(owner, "alice", f.seal, seq, f.now.Add(exp), f.counters(t, owner, "alice", ClaimTTL, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		return r, b
	}
	u := f.now.Add(ClaimTTL)
	a1, b1 := mk(f.owner, 1, time.Hour)
	a2, b2 := mk(f.owner, 2, time.Minute)
	a3, b3 := mk(f.owner, 2, time.Hour)
	if !Better(a2, a1, u, u, b2, b1) || Better(a1, a2, u, u, b1, b2) {
		t.Fatal("higher sequence number must win for the same key")
	}
	if !Better(a3, a2, u, u, b3, b2) || Better(a2, a3, u, u, b2, b3) {
		t.Fatal("later expiry must win at equal sequence numbers")
	}
	o, ob := mk(testKey(t, 50), 1, time.Hour)
	if !Better(o, a3, u.Add(time.Second), u, ob, b3) || Better(a3, o, u, u.Add(time.Second), b3, ob) {
		t.Fatal("for different keys the later quorum must win")
	}
	if Better(o, a3, u, u, ob, b3) == Better(a3, o, u, u, b3, ob) {
		t.Fatal("ties must be broken one way")
	}
}

package envelope

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/ssms"
)

func TestRoundTrip(t *testing.T) {
	s, r := newParty(t, 1), newParty(t, 2)
	for _, tc := range []struct {
		name    string
		n, k    int
		msgLen  int
		chunk   Chunk
		created bool
	}{
		{"empty", 2, 2, 0, Chunk{}, true},
		{"six of three", 6, 3, 10_000, Chunk{}, true},
		{"file chunk", 5, 4, 4097, Chunk{FileID: [16]byte{1, 2, 3}, Index: 7, Count: 9}, true},
		{"created now", 3, 2, 33, Chunk{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := testMessage(tc.msgLen)
			shares, err := ssms.Split(msg, tc.n, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			opts := &Options{Chunk: tc.chunk}
			if tc.created {
				opts.Created = testCreated
			}
			id := protocol.MessageID{9, 8, 7, 6, 5, 4, 3, 2}
			envs, err := Seal(s.id, r.seal.PublicKey(), r.addr, id, shares, opts)
			if err != nil {
				t.Fatal(err)
			}
			pl := PrefixLen(tc.n)
			if pl != 294+32*tc.n {
				t.Fatalf("PrefixLen(%d) = %d", tc.n, pl)
			}
			var opened []ssms.Share
			for i, env := range envs {
				sh := &shares[i]
				if len(env) != pl+len(sh.Fragment) {
					t.Fatalf("envelope %d: %d bytes, want %d", i, len(env), pl+len(sh.Fragment))
				}
				if !bytes.Equal(env[:manifestLen(tc.n)+SignatureSize], envs[0][:manifestLen(tc.n)+SignatureSize]) {
					t.Fatalf("manifest of envelope %d differs from envelope 0", i)
				}
				if !bytes.Equal(env[pl:], sh.Fragment) {
					t.Fatalf("fragment %d is not at offset %d", i, pl)
				}
				p, err := ParsePrefix(env)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Verify(s.addr, r.addr); err != nil {
					t.Fatal(err)
				}
				want := Manifest{N: uint8(tc.n), K: uint8(tc.k), MessageID: id, Dst: r.addr, MsgLen: uint64(tc.msgLen),
					FragmentLen: uint64(len(sh.Fragment)), SSMSID: sh.MsgID, Chunk: tc.chunk}
				if p.N != want.N || p.K != want.K || p.MessageID != id || p.Dst != r.addr || p.MsgLen != want.MsgLen ||
					p.FragmentLen != want.FragmentLen || p.SSMSID != want.SSMSID || p.Chunk != tc.chunk || p.Src() != s.addr {
					t.Fatalf("manifest %+v, want %+v from %s", p.Manifest, want, s.addr)
				}
				if tc.created && !p.Created.Equal(testCreated) {
					t.Fatalf("created %v, want %v", p.Created, testCreated)
				}
				if !tc.created && p.Created.IsZero() {
					t.Fatal("created left zero")
				}
				if p.TransferLen() != len(env) || p.Index != sh.Index || p.Tag != sh.Tag || !p.Sender.Equals(s.id.GetPublic()) {
					t.Fatalf("prefix %d: index %d, tag %x, transfer %d", i, p.Index, p.Tag, p.TransferLen())
				}
				enc, _ := p.AppendBinary(nil)
				if !bytes.Equal(enc, env[:pl]) {
					t.Fatalf("prefix %d re-encodes differently", i)
				}
				ks, err := p.OpenKeyShare(r.seal)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(ks, sh.KeyShare) {
					t.Fatalf("key share %d opened to %x, want %x", i, ks, sh.KeyShare)
				}
				got := p.Share(ks, env[pl:])
				if got.Index != sh.Index || got.N != sh.N || got.K != sh.K || got.MsgLen != sh.MsgLen || got.MsgID != sh.MsgID ||
					got.Tag != sh.Tag || !bytes.Equal(got.KeyShare, sh.KeyShare) || !bytes.Equal(got.Fragment, sh.Fragment) {
					t.Fatalf("rebuilt share %d differs", i)
				}
				o, _, err := Open(env, s.addr, r.addr, r.seal)
				if err != nil {
					t.Fatal(err)
				}
				opened = append(opened, o)
			}
			// The last k shares, which include parity when n > k.
			back, err := ssms.Combine(opened[tc.n-tc.k:])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, msg) {
				t.Fatal("combined message differs")
			}
		})
	}
}

// TestVerifyRejects checks that a prefix verifies only from the right
// sender, for the right receiver, unaltered.
func TestVerifyRejects(t *testing.T) {
	s, r, mallory := newParty(t, 1), newParty(t, 2), newParty(t, 3)
	_, envs := sealed(t, s, r, protocol.MessageID{1}, testMessage(500), 4, 2)
	parse := func(b []byte) *Prefix {
		t.Helper()
		p, err := ParsePrefix(b)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	n := 4
	ml := manifestLen(n)

	t.Run("wrong source", func(t *testing.T) {
		if err := parse(envs[0]).Verify(mallory.addr, r.addr); !errors.Is(err, ErrWrongSender) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrong destination", func(t *testing.T) {
		if err := parse(envs[0]).Verify(s.addr, mallory.addr); !errors.Is(err, ErrWrongDestination) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("signed by another key", func(t *testing.T) {
		b := slices.Clone(envs[1])
		sig, err := mallory.id.Sign(append([]byte(signDomain), b[:ml]...))
		if err != nil {
			t.Fatal(err)
		}
		copy(b[ml:], sig)
		if err := parse(b).Verify(s.addr, r.addr); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("signed without domain", func(t *testing.T) {
		b := slices.Clone(envs[1])
		sig, err := s.id.Sign(b[:ml])
		if err != nil {
			t.Fatal(err)
		}
		copy(b[ml:], sig)
		if err := parse(b).Verify(s.addr, r.addr); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("sender replaced and re-signed", func(t *testing.T) {
		// Mallory puts her key in s's manifest and signs it: the prefix
		// no longer matches s's address, and under her own address the
		// key shares do not open, so she cannot pass s's message off as
		// hers.
		b := slices.Clone(envs[2])
		mk, _ := crypto.MarshalPublicKey(mallory.id.GetPublic())
		copy(b[offSender:], mk)
		sig, err := mallory.id.Sign(append([]byte(signDomain), b[:ml]...))
		if err != nil {
			t.Fatal(err)
		}
		copy(b[ml:], sig)
		p := parse(b)
		if err := p.Verify(s.addr, r.addr); !errors.Is(err, ErrWrongSender) {
			t.Fatalf("err = %v", err)
		}
		if err := p.Verify(mallory.addr, r.addr); err != nil {
			t.Fatalf("mallory's own manifest: %v", err)
		}
		if _, err := p.OpenKeyShare(r.seal); !errors.Is(err, ErrSeal) {
			t.Fatalf("re-attributed key share opened: %v", err)
		}
	})
	t.Run("every byte flipped", func(t *testing.T) {
		pl := PrefixLen(n)
		for off := range pl {
			b := slices.Clone(envs[3][:pl])
			b[off] ^= 0x40
			p, err := ParsePrefix(b)
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("offset %d: parse error %v does not wrap ErrMalformed", off, err)
				}
				continue
			}
			if err := p.Verify(s.addr, r.addr); err == nil {
				t.Fatalf("prefix with byte %d flipped verifies", off)
			}
		}
	})
}

// TestShareSwap checks that a relay cannot move a key share or tag to
// another share or message.
func TestShareSwap(t *testing.T) {
	s, r := newParty(t, 1), newParty(t, 2)
	n := 5
	_, envs := sealed(t, s, r, protocol.MessageID{1}, testMessage(300), n, 3)
	_, other := sealed(t, s, r, protocol.MessageID{2}, testMessage(300), n, 3)
	ml := manifestLen(n) + SignatureSize
	offTag, offSealed := ml+1, ml+1+16
	pl := PrefixLen(n)

	check := func(t *testing.T, b []byte, wantOpen bool) {
		t.Helper()
		p, err := ParsePrefix(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(s.addr, r.addr); !errors.Is(err, ErrShareMismatch) {
			t.Fatalf("Verify: %v, want ErrShareMismatch", err)
		}
		if _, err := p.OpenKeyShare(r.seal); (err == nil) != wantOpen {
			t.Fatalf("OpenKeyShare: %v", err)
		}
	}
	t.Run("key share from another index", func(t *testing.T) {
		b := slices.Clone(envs[0])
		copy(b[offSealed:pl], envs[1][offSealed:pl])
		check(t, b, false) // sealed for index 2, it does not open as index 1
	})
	t.Run("tag from another index", func(t *testing.T) {
		b := slices.Clone(envs[0])
		copy(b[offTag:offSealed], envs[1][offTag:offSealed])
		check(t, b, true) // the key share itself is intact
	})
	t.Run("key share from another message", func(t *testing.T) {
		b := slices.Clone(envs[2])
		copy(b[offSealed:pl], other[2][offSealed:pl])
		check(t, b, false)
	})
	t.Run("share part from another message", func(t *testing.T) {
		b := slices.Clone(envs[2])
		copy(b[ml:pl], other[2][ml:pl])
		check(t, b, false)
	})
	t.Run("share part from another index", func(t *testing.T) {
		// The whole part of share 2 in the transfer of share 1 verifies,
		// as share 2: the prefix names its index, and the receiver holds
		// it to the transfer's VMDT share index.
		b := slices.Clone(envs[0])
		copy(b[ml:pl], envs[1][ml:pl])
		p, err := ParsePrefix(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(s.addr, r.addr); err != nil || p.Index != 2 {
			t.Fatalf("Verify: %v, index %d", err, p.Index)
		}
	})
	t.Run("manifest from another message", func(t *testing.T) {
		b := slices.Clone(envs[3])
		copy(b[:ml], other[3][:ml])
		check(t, b, false)
		p, _ := ParsePrefix(b)
		q, _ := ParsePrefix(envs[0])
		if err := p.VerifyAgainst(q); !errors.Is(err, ErrManifestMismatch) {
			t.Fatalf("VerifyAgainst: %v", err)
		}
	})
	t.Run("VerifyAgainst", func(t *testing.T) {
		q, _ := ParsePrefix(envs[0])
		for i := range envs {
			p, _ := ParsePrefix(envs[i])
			if err := p.VerifyAgainst(q); err != nil {
				t.Fatalf("share %d: %v", i+1, err)
			}
		}
		b := slices.Clone(envs[4])
		copy(b[offSealed:pl], envs[3][offSealed:pl])
		p, _ := ParsePrefix(b)
		if err := p.VerifyAgainst(q); !errors.Is(err, ErrShareMismatch) {
			t.Fatalf("swapped key share: %v", err)
		}
	})
}

func TestOpenRejects(t *testing.T) {
	s, r, other := newParty(t, 1), newParty(t, 2), newParty(t, 3)
	_, envs := sealed(t, s, r, protocol.MessageID{1}, testMessage(100), 3, 2)
	p, err := ParsePrefix(envs[0])
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []*ecdh.PrivateKey{other.seal, p256, nil} {
		if _, err := p.OpenKeyShare(key); !errors.Is(err, ErrSeal) {
			t.Fatalf("OpenKeyShare with %v: %v", key, err)
		}
	}
	if _, _, err := Open(envs[0][:len(envs[0])-1], s.addr, r.addr, r.seal); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short envelope: %v", err)
	}
	if _, _, err := Open(envs[0], s.addr, other.addr, r.seal); !errors.Is(err, ErrWrongDestination) {
		t.Fatalf("wrong destination: %v", err)
	}
}

func TestSealRejects(t *testing.T) {
	s, r := newParty(t, 1), newParty(t, 2)
	shares, err := ssms.Split(testMessage(64), 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	otherShares, err := ssms.Split(testMessage(64), 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	secp, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mixed := slices.Clone(shares)
	mixed[2] = otherShares[2]
	shortKS := slices.Clone(shares)
	shortKS[1].KeyShare = shortKS[1].KeyShare[:32]
	shortFrag := slices.Clone(shares)
	shortFrag[3].Fragment = shortFrag[3].Fragment[1:]
	for _, tc := range []struct {
		name   string
		sender crypto.PrivKey
		recv   *ecdh.PublicKey
		shares []ssms.Share
		opts   *Options
	}{
		{"reordered", s.id, r.seal.PublicKey(), []ssms.Share{shares[1], shares[0], shares[2], shares[3]}, nil},
		{"too few", s.id, r.seal.PublicKey(), shares[:3], nil},
		{"one share", s.id, r.seal.PublicKey(), shares[:1], nil},
		{"two messages", s.id, r.seal.PublicKey(), mixed, nil},
		{"short key share", s.id, r.seal.PublicKey(), shortKS, nil},
		{"short fragment", s.id, r.seal.PublicKey(), shortFrag, nil},
		{"secp256k1 sender", secp, r.seal.PublicKey(), shares, nil},
		{"no sender", nil, r.seal.PublicKey(), shares, nil},
		{"P-256 receiver", s.id, p256.PublicKey(), shares, nil},
		{"no receiver", s.id, nil, shares, nil},
		{"chunk index past count", s.id, r.seal.PublicKey(), shares, &Options{Chunk: Chunk{Index: 3, Count: 3}}},
		{"file id without count", s.id, r.seal.PublicKey(), shares, &Options{Chunk: Chunk{FileID: [16]byte{1}}}},
		{"created out of range", s.id, r.seal.PublicKey(), shares, &Options{Created: testCreated.AddDate(500, 0, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			envs, err := Seal(tc.sender, tc.recv, r.addr, protocol.MessageID{1}, tc.shares, tc.opts)
			if !errors.Is(err, ErrInvalidInput) || envs != nil {
				t.Fatalf("Seal = %d envelopes, %v; want ErrInvalidInput", len(envs), err)
			}
		})
	}
}

// TestFreshEphemeral checks that every message gets its own ephemeral
// key, and so its own sealing keys.
func TestFreshEphemeral(t *testing.T) {
	s, r := newParty(t, 1), newParty(t, 2)
	_, a := sealed(t, s, r, protocol.MessageID{1}, testMessage(10), 2, 2)
	_, b := sealed(t, s, r, protocol.MessageID{1}, testMessage(10), 2, 2)
	if bytes.Equal(a[0][offEphemeral:offEphemeral+EphemeralSize], b[0][offEphemeral:offEphemeral+EphemeralSize]) {
		t.Fatal("two messages share an ephemeral key")
	}
}

// TestKeyOpener: one opener opens every share of its message, and no
// other message's.
func TestKeyOpener(t *testing.T) {
	s, r := newParty(t, 1), newParty(t, 2)
	shares, envs := sealed(t, s, r, protocol.MessageID{1}, testMessage(100), 4, 2)
	_, other := sealed(t, s, r, protocol.MessageID{2}, testMessage(100), 4, 2)
	p0, _ := ParsePrefix(envs[0])
	o, err := p0.KeyOpener(r.seal)
	if err != nil {
		t.Fatal(err)
	}
	for i, env := range envs {
		p, _ := ParsePrefix(env)
		ks, err := o.Open(p)
		if err != nil || !bytes.Equal(ks, shares[i].KeyShare) {
			t.Fatalf("share %d: %x, %v", i+1, ks, err)
		}
	}
	q, _ := ParsePrefix(other[1])
	if _, err := o.Open(q); !errors.Is(err, ErrSeal) {
		t.Fatalf("share of another message: %v", err)
	}
	o.Close()
	if _, err := o.Open(p0); !errors.Is(err, ErrSeal) {
		t.Fatalf("after Close: %v", err)
	}
	if _, err := p0.KeyOpener(nil); !errors.Is(err, ErrSeal) {
		t.Fatalf("nil key: %v", err)
	}
}

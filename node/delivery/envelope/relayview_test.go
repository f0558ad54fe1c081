package envelope

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/hashicorp/vault/shamir"

	"github.com/vmdt/vmdt/protocol"
)

// TestRelayView checks what all n relays together hold, the n envelopes,
// against every secret of the message. The test learns the message key
// as only the receiver can: it opens k key shares with the receiver's
// private key and combines them with vault's shamir.Combine; the key is
// confirmed by deriving the ssms message id from it as the ssms package
// documents. Then no envelope may contain the key, the keys it derives, a
// key share, the X25519 shared secret or a sealing key, nor any 16 bytes
// of the message; and no sealed key share opens without the receiver's
// private key.
func TestRelayView(t *testing.T) {
	s, r, relay := newParty(t, 1), newParty(t, 2), newParty(t, 3)
	n, k := 6, 3
	msg := testMessage(5000)
	shares, envs := sealed(t, s, r, protocol.MessageID{7}, msg, n, k)
	all := bytes.Join(envs, []byte{0xff})

	prefixes := make([]*Prefix, n)
	var keyShares [][]byte
	for i, env := range envs {
		p, err := ParsePrefix(env)
		if err != nil {
			t.Fatal(err)
		}
		prefixes[i] = p
		// A relay, holding no key of the receiver's, cannot open it.
		if _, err := p.OpenKeyShare(relay.seal); !errors.Is(err, ErrSeal) {
			t.Fatalf("key share %d opened with a relay's key: %v", i+1, err)
		}
		ks, err := p.OpenKeyShare(r.seal)
		if err != nil {
			t.Fatal(err)
		}
		keyShares = append(keyShares, ks)
	}

	key, err := shamir.Combine(keyShares[2 : 2+k])
	if err != nil {
		t.Fatal(err)
	}
	prk, err := hkdf.Extract(sha256.New, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := hkdf.Expand(sha256.New, prk, "vmdt/ssms v1 message id", 16)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(id, shares[0].MsgID[:]) {
		t.Fatal("the combined key does not derive the ssms message id; the test does not know the key")
	}
	working, err := hkdf.Expand(sha256.New, prk, "vmdt/ssms v1 keys", 96)
	if err != nil {
		t.Fatal(err)
	}
	eph, err := ecdh.X25519().NewPublicKey(prefixes[0].Ephemeral[:])
	if err != nil {
		t.Fatal(err)
	}
	shared, err := r.seal.ECDH(eph)
	if err != nil {
		t.Fatal(err)
	}

	secrets := map[string][]byte{
		"message key":      key,
		"encryption key":   working[:32],
		"fragment MAC key": working[32:64],
		"share-tag key":    working[64:],
		"shared secret":    shared,
		"HKDF PRK of Z":    mustExtract(t, shared),
	}
	for i, ks := range keyShares {
		secrets["key share "+string(rune('1'+i))] = ks
		secrets["key share y "+string(rune('1'+i))] = ks[:32]
	}
	for _, p := range prefixes {
		sl, err := newSealer(shared, p.MessageID, p.Src(), p.Dst, p.Ephemeral[:], r.seal.PublicKey().Bytes())
		if err != nil {
			t.Fatal(err)
		}
		sl.info[sl.idx] = p.Index
		ki, err := hkdf.Expand(sha256.New, sl.prk, string(sl.info), 32)
		if err != nil {
			t.Fatal(err)
		}
		secrets["sealing key "+string(rune('0'+p.Index))] = ki
	}
	for name, sec := range secrets {
		if bytes.Contains(all, sec) {
			t.Errorf("the relays' view contains the %s", name)
		}
	}
	for off := 0; off+16 <= len(msg); off++ {
		if bytes.Contains(all, msg[off:off+16]) {
			t.Fatalf("the relays' view contains message bytes [%d, %d)", off, off+16)
		}
	}
}

func mustExtract(t *testing.T, secret []byte) []byte {
	t.Helper()
	prk, err := hkdf.Extract(sha256.New, secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	return prk
}

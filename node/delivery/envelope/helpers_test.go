package envelope

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/ssms"
)

// party is a node as the envelope sees it: an Ed25519 identity key with
// its DDT address, and an X25519 seal key.
type party struct {
	id   crypto.PrivKey
	addr protocol.DDTAddr
	seal *ecdh.PrivateKey
}

// newParty derives a party deterministically from seed.
func newParty(t testing.TB, seed byte) party {
	t.Helper()
	edSeed := bytes.Repeat([]byte{seed}, ed25519.SeedSize)
	id, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(edSeed))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := crypto.MarshalPublicKey(id.GetPublic())
	if err != nil {
		t.Fatal(err)
	}
	seal, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{seed ^ 0x5a}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return party{id: id, addr: protocol.DDTAddrFromPublicKey(pub), seal: seal}
}

var testCreated = time.Unix(1_700_000_000, 123456789)

// sealed splits msg and seals the shares from s to r.
func sealed(t testing.TB, s, r party, id protocol.MessageID, msg []byte, n, k int) ([]ssms.Share, [][]byte) {
	t.Helper()
	shares, err := ssms.Split(msg, n, k)
	if err != nil {
		t.Fatal(err)
	}
	envs, err := Seal(s.id, r.seal.PublicKey(), r.addr, id, shares, &Options{Created: testCreated})
	if err != nil {
		t.Fatal(err)
	}
	return shares, envs
}

// testMessage returns a message of n recognisable, non-repeating bytes.
func testMessage(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

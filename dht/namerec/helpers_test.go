package namerec

import (
	"bytes"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// testKey returns a deterministic Ed25519 key made from seed.
func testKey(t testing.TB, seed byte) crypto.PrivKey {
	t.Helper()
	priv, _, err := crypto.GenerateEd25519Key(bytes.NewReader(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func marshalPub(t testing.TB, priv crypto.PrivKey) []byte {
	t.Helper()
	b, err := crypto.MarshalPublicKey(priv.GetPublic())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func idOf(t testing.TB, priv crypto.PrivKey) peer.ID {
	t.Helper()
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// fixture is a network of three authorities and an owner at a fixed time.
type fixture struct {
	now   time.Time
	auths []crypto.PrivKey
	set   *Authorities
	owner crypto.PrivKey
	seal  []byte
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		now:   time.Unix(1_800_000_000, 0).UTC(),
		auths: []crypto.PrivKey{testKey(t, 1), testKey(t, 2), testKey(t, 3)},
		owner: testKey(t, 9),
		seal:  bytes.Repeat([]byte{0x5e}, SealKeyLen),
	}
	ids := make([]peer.ID, len(f.auths))
	for i, a := range f.auths {
		ids[i] = idOf(t, a)
	}
	set, err := NewAuthorities(ids)
	if err != nil {
		t.Fatal(err)
	}
	f.set = set
	return f
}

// counters returns countersignatures by the authorities at idx for name
// and the owner key of owner, valid until f.now + d.
func (f *fixture) counters(t testing.TB, owner crypto.PrivKey, name string, d time.Duration, idx ...int) []Countersignature {
	t.Helper()
	var cs []Countersignature
	for _, i := range idx {
		c, err := Countersign(f.auths[i], name, marshalPub(t, owner), f.now.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	return cs
}

// record builds a record for name by f.owner countersigned by idx.
func (f *fixture) record(t testing.TB, name string, idx ...int) (*Record, []byte) {
	t.Helper()
	r, b, err := NewRecord(f.owner, name, f.seal, 7, f.now.Add(ClaimTTL), f.counters(t, f.owner, name, ClaimTTL, idx...))
	if err != nil {
		t.Fatal(err)
	}
	return r, b
}

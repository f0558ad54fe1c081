package delivery

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"os"
	"testing"

	"github.com/hashicorp/vault/shamir"

	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/protocol"
)

// messageKey recovers the AES key of message id as only the receiver can:
// it opens k key shares of the envelopes with the receiver's seal key and
// combines them (vault's shamir.Combine), then checks the key by deriving
// the ssms message id from it. It also checks that no relay can open the
// key share of any envelope with its own seal key.
func messageKey(t *testing.T, envs map[uint8][]byte, receiver *testNode, relays []*testNode) []byte {
	t.Helper()
	var keyShares [][]byte
	var p *envelope.Prefix
	for i, env := range envs {
		var err error
		if p, err = envelope.ParsePrefix(env); err != nil {
			t.Fatalf("envelope %d: %v", i, err)
		}
		for _, r := range relays {
			if _, err := p.OpenKeyShare(r.seal); !errors.Is(err, envelope.ErrSeal) {
				t.Fatalf("relay %s opened key share %d: %v", r.name, i, err)
			}
		}
		ks, err := p.OpenKeyShare(receiver.seal)
		if err != nil {
			t.Fatal(err)
		}
		keyShares = append(keyShares, ks)
	}
	if p == nil || len(keyShares) < int(p.K) {
		t.Fatalf("%d complete envelopes, too few to learn the key", len(keyShares))
	}
	key, err := shamir.Combine(keyShares[:p.K])
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
	if !bytes.Equal(id, p.SSMSID[:]) {
		t.Fatal("the combined key does not derive the ssms message id; the test does not know the key")
	}
	return key
}

// requireNoSecret fails if hay holds the key or any 16 bytes in a row of
// msg.
func requireNoSecret(t *testing.T, what string, hay, msg, key []byte) {
	t.Helper()
	if bytes.Contains(hay, key) {
		t.Fatalf("%s holds the message key", what)
	}
	windows := make(map[[16]byte]int, len(msg))
	for i := 0; i+16 <= len(msg); i++ {
		windows[[16]byte(msg[i:i+16])] = i
	}
	for j := 0; j+16 <= len(hay); j++ {
		if i, ok := windows[[16]byte(hay[j:j+16])]; ok {
			t.Fatalf("%s holds plaintext bytes [%d, %d)", what, i, i+16)
		}
	}
}

// tapped returns every byte the relays received of message id.
func (tap *shareTap) tapped(id protocol.MessageID) []byte {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	var all [][]byte
	for _, env := range tap.envs[id] {
		all = append(all, env)
	}
	return bytes.Join(all, []byte{0xff})
}

// No relay sees the plaintext or the message key, in what it forwards or
// in what its share pool keeps on disk, and none can open a key share.
func TestRelaysHoldNoSecret(t *testing.T) {
	t.Run("Forwarded", func(t *testing.T) {
		c := newCluster(t)
		ctx := testCtx(t)
		tap := newShareTap(t, c.relays...)
		msg := randomBytes(t, 64<<10)
		rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3)
		if err != nil {
			t.Fatalf("send: %v (%+v)", err, rep)
		}
		checkDelivered(t, c, rep, msg, 6, 3)
		key := messageKey(t, tap.complete(rep.ID), c.bob, c.relays)
		hay := tap.tapped(rep.ID)
		if len(hay) < 3*len(msg)/3 {
			t.Fatalf("the relays saw only %d bytes", len(hay))
		}
		requireNoSecret(t, "what the relays forwarded", hay, msg, key)
	})

	t.Run("Pooled", func(t *testing.T) {
		c := newPoolCluster(t, 6, nil)
		ctx := testCtx(t)
		var nodes []*testNode
		for _, r := range c.relays {
			nodes = append(nodes, r.testNode)
		}
		tap := newShareTap(t, nodes...)
		goOffline(c.bob)
		msg := randomBytes(t, 32<<10)
		rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3)
		if err != nil || rep.Status != StatusPooled {
			t.Fatalf("send to an offline receiver: %v (%+v)", err, rep)
		}
		want := countOutcomes(rep, OutcomePooled)
		waitFor(t, ctx, "shares stored", func() bool { return c.pooledFor(c.bob.ddt) == want })
		key := messageKey(t, tap.complete(rep.ID), c.bob, nodes)
		requireNoSecret(t, "what the relays received", tap.tapped(rep.ID), msg, key)
		stored := 0
		for _, r := range c.relays {
			var disk []byte
			for _, f := range regularFiles(t, r.dir) {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				disk = append(append(disk, b...), 0xff)
			}
			stored += len(disk)
			requireNoSecret(t, r.name+"'s pool directory", disk, msg, key)
		}
		if stored < want*len(msg)/3 {
			t.Fatalf("the pools hold %d bytes on disk for %d pooled shares of %d bytes", stored, want, len(msg)/3)
		}
	})
}

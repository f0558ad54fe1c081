package dht

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/vmdt/vmdt/protocol"
)

// checkRecord asserts that r binds name to n's key, address and seal key.
func checkRecord(t testing.TB, r *NameRecord, name string, n *testNode, seal []byte) {
	t.Helper()
	key, _ := crypto.MarshalPublicKey(n.priv.GetPublic())
	switch {
	case r.Name != name:
		t.Fatalf("name %q, want %q", r.Name, name)
	case r.PeerID != n.h.ID():
		t.Fatalf("%s: peer ID %s, want %s", name, r.PeerID, n.h.ID())
	case r.DDTAddr != protocol.DDTAddrFromPublicKey(key):
		t.Fatalf("%s: DDT address %s, want %s", name, r.DDTAddr, protocol.DDTAddrFromPublicKey(key))
	case !r.PubKey.Equals(n.priv.GetPublic()):
		t.Fatalf("%s: wrong key", name)
	case !bytes.Equal(r.SealKey, seal):
		t.Fatalf("%s: seal key %x, want %x", name, r.SealKey, seal)
	}
}

func TestRegisterResolve(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netConfig{boots: 1, nodes: 4})
	ctx := ctxT(t, 60*time.Second)
	a := tn.nodes[0]
	rec, err := a.d.RegisterName(ctx, "Alice", a.priv, a.seal)
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, rec, "alice", a, a.seal)

	// RegisterName returned only after remote servers hold the record:
	// ask every other node directly, bypassing their lookups.
	val, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	holders := 0
	for _, n := range tn.all()[1:] {
		if n == a {
			continue
		}
		got, _, err := a.d.msgr.GetValue(ctx, n.h.ID(), NameKey("alice"))
		if err == nil && got != nil && bytes.Equal(got.GetValue(), val) {
			holders++
		}
	}
	if holders < 3 {
		t.Fatalf("%d remote nodes hold the record right after RegisterName, want >= 3", holders)
	}

	for _, n := range tn.all() {
		r, err := n.d.Resolve(ctx, "ALICE")
		if err != nil {
			t.Fatalf("resolve from %s: %v", n.h.ID(), err)
		}
		checkRecord(t, r, "alice", a, a.seal)
	}
	if _, err := tn.nodes[1].d.Resolve(ctx, "nobody"); !errors.Is(err, ErrNameNotFound) {
		t.Fatalf("unknown name: %v, want ErrNameNotFound", err)
	}
	if _, err := tn.nodes[1].d.Resolve(ctx, "not a name!"); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("invalid name: %v, want ErrInvalidName", err)
	}
	if _, err := a.d.RegisterName(ctx, "x", a.priv, a.seal[:31]); err == nil {
		t.Fatal("31-byte seal key accepted")
	}

	// The owner renews with a new seal key: everyone sees the new one.
	seal2 := newSealKey(t)
	rec2, err := a.d.RegisterName(ctx, "alice", a.priv, seal2)
	if err != nil {
		t.Fatal(err)
	}
	if rec2.Seq <= rec.Seq {
		t.Fatalf("renewal seq %d <= %d", rec2.Seq, rec.Seq)
	}
	for _, n := range tn.nodes[1:] {
		r, err := n.d.Resolve(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		checkRecord(t, r, "alice", a, seal2)
	}
}

// TestRegisterNeedsRemoteCopy checks that a node alone in its network
// cannot register: kad-dht would store the record locally and report
// success, but no remote peer holds it.
func TestRegisterNeedsRemoteCopy(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netConfig{boots: 1})
	b := tn.boots[0]
	_, err := b.d.RegisterName(ctxT(t, 30*time.Second), "lonely", b.priv, b.seal)
	if !errors.Is(err, ErrNotStored) {
		t.Fatalf("got %v, want ErrNotStored", err)
	}
}

// TestClientModeNode checks that a client-mode node registers and resolves
// through server-mode nodes.
func TestClientModeNode(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netConfig{boots: 1, nodes: 2, clientNodes: true})
	ctx := ctxT(t, 30*time.Second)
	c := tn.nodes[0]
	if _, err := c.d.RegisterName(ctx, "carol", c.priv, c.seal); err != nil {
		t.Fatal(err)
	}
	r, err := tn.nodes[1].d.Resolve(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, r, "carol", c, c.seal)
}

// TestRegisterAfterClockStepBack: a node whose clock went back (and that
// forgot its sequence numbers, as after a restart) signs a record with a
// lower sequence number than the one stored; servers refuse it as older,
// and RegisterName re-signs above the stored one.
func TestRegisterAfterClockStepBack(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netConfig{boots: 1, nodes: 3})
	ctx := ctxT(t, 60*time.Second)
	a := tn.nodes[0]
	rec1, err := a.d.RegisterName(ctx, "alice", a.priv, a.seal)
	if err != nil {
		t.Fatal(err)
	}
	a.d.mu.Lock()
	a.d.seqs = make(map[string]uint64)
	a.d.mu.Unlock()
	a.d.cfg.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	seal2 := newSealKey(t)
	rec2, err := a.d.RegisterName(ctx, "alice", a.priv, seal2)
	if err != nil {
		t.Fatal(err)
	}
	if rec2.Seq != rec1.Seq+1 {
		t.Fatalf("seq %d after %d, want %d", rec2.Seq, rec1.Seq, rec1.Seq+1)
	}
	r, err := tn.nodes[1].d.Resolve(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, r, "alice", a, seal2)
}

package dht

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht/namerec"
	"github.com/vmdt/vmdt/protocol"
)

// servers returns the DHT servers of tn other than skip.
func (tn *testNet) servers(skip *testNode) []*testNode {
	var out []*testNode
	for _, n := range tn.all() {
		if n != skip {
			out = append(out, n)
		}
	}
	return out
}

// TestTakeoverRejected: a name held by one key cannot be taken by another,
// neither through the notaries nor by storing a self-made record.
func TestTakeoverRejected(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netConfig{boots: 3, nodes: 2})
	ctx := ctxT(t, 60*time.Second)
	alice, mallory := tn.nodes[0], tn.nodes[1]
	rec, err := alice.d.RegisterName(ctx, "alice", alice.priv, alice.seal)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := rec.Marshal()

	// 1. Through the notaries: every one of them refuses.
	_, err = mallory.d.RegisterName(ctx, "alice", mallory.priv, mallory.seal)
	var held *HeldError
	if !errors.Is(err, ErrNameTaken) || !errors.As(err, &held) || !held.HeldUntil.After(time.Now().Add(namerec.ClaimTTL-time.Hour)) {
		t.Fatalf("takeover via notaries: %v, want ErrNameTaken with a held-until 7 days ahead", err)
	}

	// 2. Self-made records stored directly at every DHT server.
	mkey, _ := crypto.MarshalPublicKey(mallory.priv.GetPublic())
	mine, err := mallory.d.RegisterName(ctx, "mallory", mallory.priv, mallory.seal)
	if err != nil {
		t.Fatal(err)
	}
	forge := func(counters []namerec.Countersignature, expiry time.Time) []byte {
		r := &NameRecord{
			Name: "alice", PeerID: mallory.h.ID(), PubKey: mallory.priv.GetPublic(),
			DDTAddr: protocol.DDTAddrFromPublicKey(mkey), SealKey: mallory.seal,
			Seq: ^uint64(0), Expiry: expiry, Counters: counters,
		}
		if err := r.Sign(mallory.priv); err != nil {
			t.Fatal(err)
		}
		b, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	forgeries := []struct {
		name string
		val  []byte
		want error
	}{
		{"alice's quorum copied", forge(rec.Counters, rec.Expiry), ErrBadCountersig},
		{"quorum of another name", forge(mine.Counters, rec.Expiry), ErrBadCountersig},
		{"a single notary's signature", forge(rec.Counters[:1], rec.Expiry), ErrBadCountersig},
		{"alice's record re-signed by mallory", func() []byte {
			r := *rec
			if err := r.Sign(mallory.priv); err != nil {
				t.Fatal(err)
			}
			b, _ := r.Marshal()
			return b
		}(), ErrBadSignature},
		{"oversize", append(bytes.Clone(good), make([]byte, namerec.MaxRecordSize)...), ErrRecordTooLarge},
	}
	key := NameKey("alice")
	for _, f := range forgeries {
		if err := mallory.d.Validator().Validate(key, f.val); !errors.Is(err, f.want) {
			t.Errorf("%s: validator says %v, want %v", f.name, err, f.want)
		}
		for _, s := range tn.servers(mallory) {
			if err := mallory.d.msgr.PutValue(ctx, s.h.ID(), recordFor(key, f.val)); err == nil {
				t.Errorf("%s: %s accepted the forged record", f.name, s.h.ID())
			}
		}
	}
	for _, s := range tn.servers(mallory) {
		got, _, err := mallory.d.msgr.GetValue(ctx, s.h.ID(), key)
		if err != nil || got == nil {
			continue // not among the closest peers: holds nothing
		}
		if !bytes.Equal(got.GetValue(), good) {
			t.Fatalf("%s now holds a different record for alice", s.h.ID())
		}
	}
	r, err := mallory.d.Resolve(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, r, "alice", alice, alice.seal)
}

// TestRaceAtDifferentNotaries interleaves two claimants for a fresh name so
// that each first reaches a different notary: only the one that wins the
// third notary gets a majority.
func TestRaceAtDifferentNotaries(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netConfig{boots: 3, nodes: 2})
	ctx := ctxT(t, 60*time.Second)
	a, b := tn.nodes[0], tn.nodes[1]
	n0, n1, n2 := tn.auth[0], tn.auth[1], tn.auth[2]
	grant := func(n *testNode, notary peer.ID, want namerec.Status) {
		t.Helper()
		resp, err := n.d.askNotary(ctx, notary, n.priv, "race", ProbeHold)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != want {
			t.Fatalf("%s at %s: status %d, want %d", n.h.ID(), notary, resp.Status, want)
		}
	}
	grant(a, n0, namerec.StatusGrantedNew)
	grant(b, n2, namerec.StatusGrantedNew)
	grant(a, n1, namerec.StatusGrantedNew) // a wins the tie-breaking notary
	grant(b, n1, namerec.StatusHeld)
	grant(b, n0, namerec.StatusHeld)

	if _, err := b.d.RegisterName(ctx, "race", b.priv, b.seal); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("loser: %v, want ErrNameTaken", err)
	}
	if _, err := a.d.RegisterName(ctx, "race", a.priv, a.seal); err != nil {
		t.Fatalf("winner: %v", err)
	}
	r, err := b.d.Resolve(ctx, "race")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, r, "race", a, a.seal)
}

// TestConcurrentRace starts two registrations of the same fresh name at
// once, several times: exactly one wins each time (with three notaries
// and two claimants a majority always exists), and everyone resolves the
// winner.
func TestConcurrentRace(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netConfig{boots: 3, nodes: 2})
	ctx := ctxT(t, 60*time.Second)
	for round, name := range []string{"r0", "r1", "r2"} {
		ns := tn.nodes
		errs := parallel(2, func(i int) error {
			_, err := ns[i].d.RegisterName(ctx, name, ns[i].priv, ns[i].seal)
			return err
		})
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: both claimants registered %q", round, name)
				}
				winner = i
			case !errors.Is(err, ErrNameTaken):
				t.Fatalf("round %d: loser error %v, want ErrNameTaken", round, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody registered %q: %v", round, name, errs)
		}
		for _, n := range tn.all() {
			r, err := n.d.Resolve(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			checkRecord(t, r, name, ns[winner], ns[winner].seal)
		}
	}
}

// TestBackdatedClaim: a claimant whose clock runs 30 days behind gets
// countersignatures dated by the notaries' clocks, and the record it signs
// with its own backdated expiry is refused by every other node.
func TestBackdatedClaim(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netConfig{boots: 1, nodes: 2})
	ctx := ctxT(t, 60*time.Second)
	past := func() time.Time { return time.Now().Add(-30 * 24 * time.Hour) }
	liar := tn.addNode(t, ctx, []peer.AddrInfo{tn.boots[0].info()}, false)
	liar.d.Close()
	d, err := New(ctx, liar.h, Config{Mode: ModeServer, BootstrapPeers: []peer.AddrInfo{tn.boots[0].info()}, Authorities: tn.auth, Now: past})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := d.askNotary(ctx, tn.auth[0], liar.priv, "old", namerec.ClaimTTL)
	if err != nil {
		t.Fatal(err)
	}
	if lo := time.Now().Add(namerec.ClaimTTL - time.Minute); resp.Counter.ValidUntil.Before(lo) {
		t.Fatalf("countersignature valid until %s: dated by the claimant's clock, not the notary's", resp.Counter.ValidUntil)
	}
	_, err = d.RegisterName(ctx, "old", liar.priv, liar.seal)
	if !errors.Is(err, ErrNotStored) {
		t.Fatalf("backdated registration: %v, want ErrNotStored", err)
	}
	// What the liar signs: a genuine quorum but its own backdated expiry.
	_, val, err := namerec.NewRecord(liar.priv, "old", liar.seal, 1, past().Add(namerec.ClaimTTL), []namerec.Countersignature{resp.Counter})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validator().Validate(NameKey("old"), val); err != nil {
		t.Fatalf("the liar's own clock accepts it: %v", err)
	}
	if err := tn.nodes[0].d.Validator().Validate(NameKey("old"), val); !errors.Is(err, ErrExpired) {
		t.Fatalf("honest validator: %v, want ErrExpired", err)
	}
	if _, err := tn.nodes[0].d.Resolve(ctx, "old"); !errors.Is(err, ErrNameNotFound) {
		t.Fatalf("resolve backdated: %v, want ErrNameNotFound", err)
	}
}

// TestMajorityNeededToRegisterNotToResolve: with one of three notaries
// down names still register; with two down they cannot, but registered
// names still resolve.
func TestMajorityNeededToRegisterNotToResolve(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netConfig{boots: 3, nodes: 3})
	ctx := ctxT(t, 60*time.Second)
	a := tn.nodes[0]
	tn.boots[2].stop()
	rec, err := a.d.RegisterName(ctx, "alice", a.priv, a.seal)
	if err != nil {
		t.Fatalf("with 2 of 3 notaries: %v", err)
	}
	if len(rec.Counters) != 2 {
		t.Fatalf("%d countersignatures, want 2", len(rec.Counters))
	}
	tn.boots[1].stop()
	if _, err := a.d.RegisterName(ctx, "alice2", a.priv, a.seal); !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("with 1 of 3 notaries: %v, want ErrNoQuorum", err)
	}
	r, err := tn.nodes[1].d.Resolve(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, r, "alice", a, a.seal)
}

package dht

import (
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// resolveAll has every node resolve every other node's name and checks
// the answers.
func resolveAll(t *testing.T, tn *testNet) {
	t.Helper()
	ctx := ctxT(t, 60*time.Second)
	ns := tn.nodes
	errs := parallel(len(ns), func(i int) error {
		for j, o := range ns {
			if i == j {
				continue
			}
			r, err := ns[i].d.Resolve(ctx, nodeName(j))
			if err != nil {
				return fmt.Errorf("node %d resolving %s: %w", i, nodeName(j), err)
			}
			if r.PeerID != o.h.ID() || r.DDTAddr != ddtAddrOf(o) || string(r.SealKey) != string(o.seal) {
				return fmt.Errorf("node %d resolved %s to a record of %s", i, nodeName(j), r.PeerID)
			}
		}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestMeshSurvivesBootstrapLoss: ten nodes join through one bootstrap
// node, register and resolve each other; then the bootstrap node goes
// down and they still resolve, find and connect to each other.
func TestMeshSurvivesBootstrapLoss(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netConfig{boots: 1, nodes: 10})
	ctx := ctxT(t, 60*time.Second)
	ns := tn.nodes
	start := time.Now()
	for i, err := range parallel(len(ns), func(i int) error {
		_, err := ns[i].d.RegisterName(ctx, nodeName(i), ns[i].priv, ns[i].seal)
		return err
	}) {
		if err != nil {
			t.Fatalf("register %s: %v", nodeName(i), err)
		}
	}
	t.Logf("registered: %s", time.Since(start))
	resolveAll(t, tn)
	t.Logf("resolved: %s", time.Since(start))

	gone := tn.boots[0].h.ID()
	tn.boots[0].stop()
	// Closing a connection reaches the other side asynchronously; wait
	// until no node is connected to the stopped bootstrap node.
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range ns {
		for n.h.Network().Connectedness(gone) == network.Connected {
			if time.Now().After(deadline) {
				t.Fatal("still connected to the stopped bootstrap node")
			}
			select {
			case <-ctx.Done():
				t.Fatal(ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	t.Logf("stopped: %s", time.Since(start))
	resolveAll(t, tn)
	t.Logf("resolved again: %s", time.Since(start))

	// Find and connect: node 0 forgets node 5 entirely, then finds it
	// through the DHT and connects.
	a, b := ns[0], ns[5]
	a.h.Network().ClosePeer(b.h.ID())
	a.h.Peerstore().ClearAddrs(b.h.ID())
	r, err := a.d.Resolve(ctx, nodeName(5))
	if err != nil {
		t.Fatal(err)
	}
	ai, err := a.d.Kad().FindPeer(ctx, r.PeerID)
	if err != nil {
		t.Fatalf("FindPeer after the bootstrap node left: %v", err)
	}
	if err := a.h.Connect(ctx, peer.AddrInfo{ID: ai.ID, Addrs: ai.Addrs}); err != nil {
		t.Fatal(err)
	}
	if a.h.Network().Connectedness(b.h.ID()) != network.Connected {
		t.Fatal("not connected")
	}
}

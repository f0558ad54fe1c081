// Package p2ptest holds test helpers for libp2p hosts shared by several
// packages' tests.
package p2ptest

import (
	"context"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// Backoff puts every address h knows for p on h's dial backoff, as a
// failed dial does (a peer restarting, a TCP simultaneous open), and
// checks that a plain dial to p is now refused with swarm.ErrDialBackoff.
// h must not be connected to p.
func Backoff(t testing.TB, ctx context.Context, h host.Host, p peer.ID) {
	t.Helper()
	sw, ok := h.Network().(*swarm.Swarm)
	if !ok {
		t.Fatalf("the host's network is a %T, not a swarm", h.Network())
	}
	addrs := h.Peerstore().Addrs(p)
	if len(addrs) == 0 {
		t.Fatalf("the host knows no address of %s", p)
	}
	for _, a := range addrs {
		sw.Backoff().AddBackoff(p, a)
	}
	if _, err := h.Network().DialPeer(ctx, p); !errors.Is(err, swarm.ErrDialBackoff) {
		t.Fatalf("dial to %s on backoff: %v, want %v", p, err, swarm.ErrDialBackoff)
	}
}

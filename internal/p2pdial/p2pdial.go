// Package p2pdial holds the node's one rule for redialing a libp2p peer.
package p2pdial

import (
	"context"
	"errors"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// PastBackoff reports whether a dial that failed with err should be made
// once more, and returns the context to make it with.
//
// It should when the swarm refused it for its dial backoff alone, without
// a packet sent: an earlier dial to the peer's addresses failed (the peer
// was restarting, a handshake packet was lost, or both peers dialed each
// other at once over reused TCP ports, which makes one TCP connection that
// both sides take as their own dial: go-libp2p issue 2925). That says
// little about now, so the retry dials past the backoff.
func PastBackoff(ctx context.Context, err error) (context.Context, bool) {
	if !errors.Is(err, swarm.ErrDialBackoff) || ctx.Err() != nil {
		return ctx, false
	}
	return network.WithForceDirectDial(ctx, "vmdt: dial past the backoff of an earlier failure"), true
}

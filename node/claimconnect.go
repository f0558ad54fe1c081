package node

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/delivery"
)

// Store and forward needs an offline receiver to claim its pooled shares
// when it comes back. The engine claims from all its peers at start and
// every claimInterval; in between, the node claims from each peer that
// connects, at most once per claimPeerGap, so that a receiver that just
// rejoined gets its shares as soon as it reaches their relays.
const (
	// claimInterval is the engine's periodic claim from all peers.
	claimInterval = 3 * time.Minute
	// claimPeerGap is the least time between two claims from one peer.
	claimPeerGap = 30 * time.Second
	// claimPeerTimeout bounds one claim from one peer.
	claimPeerTimeout = 15 * time.Second
	// claimQueue bounds the connected peers waiting to be asked; more
	// are dropped (the periodic claim covers them).
	claimQueue = 256
)

// claimOnConnect asks each newly connected peer for the shares it holds
// for this node. It is started once the engine exists and stopped by
// Close (cancel, then <-done).
type claimOnConnect struct {
	e      *delivery.Engine
	up     chan peer.ID
	done   chan struct{}
	notify *network.NotifyBundle
}

// startClaimOnConnect starts the claim loop for e on n's host.
func (n *Node) startClaimOnConnect(e *delivery.Engine) {
	c := &claimOnConnect{e: e, up: make(chan peer.ID, claimQueue), done: make(chan struct{})}
	c.notify = &network.NotifyBundle{ConnectedF: func(_ network.Network, conn network.Conn) {
		select {
		case c.up <- conn.RemotePeer():
		default:
		}
	}}
	n.claims = c
	n.h.Network().Notify(c.notify)
	go c.run(n.ctx)
}

// stop waits for the loop, which ends with ctx, and stops listening.
func (c *claimOnConnect) stop(n *Node) {
	n.h.Network().StopNotify(c.notify)
	<-c.done
}

func (c *claimOnConnect) run(ctx context.Context) {
	defer close(c.done)
	last := map[peer.ID]time.Time{}
	for {
		var p peer.ID
		select {
		case <-ctx.Done():
			return
		case p = <-c.up:
		}
		now := time.Now()
		if t, ok := last[p]; ok && now.Sub(t) < claimPeerGap {
			continue
		}
		if len(last) >= 4*claimQueue {
			for q, t := range last {
				if now.Sub(t) >= claimPeerGap {
					delete(last, q)
				}
			}
		}
		last[p] = now
		cctx, cancel := context.WithTimeout(delivery.WithRelayCandidates(ctx, []peer.ID{p}), claimPeerTimeout)
		if held, err := c.e.Claim(cctx); held > 0 {
			log.Infow("peer holds shares for this node", "peer", p, "shares", held, "err", err)
		}
		cancel()
	}
}

package node

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"

	"github.com/vmdt/vmdt/node/delivery"
	"github.com/vmdt/vmdt/node/friends"
	"github.com/vmdt/vmdt/node/sharepool"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/rdt"
)

// deliveryDir is the repository's subdirectory for the delivery engine.
const deliveryDir = "delivery"

// poolDir is the share pool's subdirectory of the delivery directory.
const poolDir = "pool"

// poolMaxShareLen caps a share this node keeps for an offline receiver:
// a share of a message up to one file chunk (4 MiB) with k >= 2, with
// its envelope, and room to spare. The pool's other limits are its
// defaults.
const poolMaxShareLen = 8 << 20

// spoolDir is the delivery directory's subdirectory where the API keeps
// the body of a large message while it is sent; it is emptied at start.
const spoolDir = "tmp"

// rdtConfig routes the transport's share hooks to the delivery engine.
// The transport starts before the engine (the control protocol needs the
// one, the engine both), so the hooks read it through engineP and drop
// what arrives while there is none.
func (n *Node) rdtConfig() *rdt.Config {
	return &rdt.Config{
		OnSegment: func(s rdt.Segment) {
			if e := n.engineP.Load(); e != nil {
				e.OnSegment(s)
			}
		},
		Reassemble: func(from net.Addr, h protocol.VMDTHeader) bool {
			if e := n.engineP.Load(); e != nil {
				return e.Reassemble(from, h)
			}
			// Without an engine nobody takes shares from Receive.
			return false
		},
		OnInboundFailed: func(from net.Addr, h protocol.VMDTHeader, err error) {
			if e := n.engineP.Load(); e != nil {
				e.OnInboundFailed(from, h, err)
			}
		},
	}
}

// startDelivery starts the delivery engine in o.DeliveryDir and connects
// it to the transport's hooks and the control protocol.
func (n *Node) startDelivery(o Options) error {
	n.defaultN, n.defaultK = o.DefaultN, o.DefaultK
	if n.defaultN == 0 || n.defaultK == 0 {
		n.defaultN, n.defaultK = DefaultN, DefaultK
	}
	// As a relay the node holds shares for receivers it cannot reach.
	lim := o.PoolLimits
	if lim.MaxShareLen == 0 {
		lim.MaxShareLen = poolMaxShareLen
	}
	pool, err := sharepool.Open(filepath.Join(o.DeliveryDir, poolDir), lim)
	if err != nil {
		return fmt.Errorf("node: share pool: %w", err)
	}
	n.pool = pool
	n.spoolDir = filepath.Join(o.DeliveryDir, spoolDir)
	if err := os.RemoveAll(n.spoolDir); err != nil {
		return fmt.Errorf("node: delivery spool: %w", err)
	}
	if err := os.MkdirAll(n.spoolDir, 0o700); err != nil {
		return fmt.Errorf("node: delivery spool: %w", err)
	}
	e, err := delivery.New(delivery.Config{
		Identity:  n.priv,
		SealKey:   n.seal,
		Transport: n.dp.rdt,
		Control:   n.ctl,
		Names:     n.dht,
		Friends:   nodeFriends{n},
		Peers:     nodePeers{n},
		Finder:    nodeFinder{n},
		Dir:       o.DeliveryDir,
		Pool:      pool,
		// Peers that connect are asked at once (claimconnect.go).
		ClaimInterval: claimInterval,
	})
	if err != nil {
		return fmt.Errorf("node: delivery: %w", err)
	}
	n.engine = e
	n.engineP.Store(e)
	n.ctl.SetDelivery(e)
	n.startClaimOnConnect(e)
	return nil
}

// nodeFriends is the friend store as the engine sees it.
type nodeFriends struct{ n *Node }

func (f nodeFriends) TokenFor(dst protocol.DDTAddr) (friends.Token, bool) {
	return f.n.FriendToken(dst)
}

func (f nodeFriends) Friend(src protocol.DDTAddr) (string, bool) {
	if f.n.friends == nil {
		return "", false
	}
	fr, ok := f.n.friends.Lookup(src)
	if !ok || !fr.IsFriend() {
		return "", false
	}
	return fr.Username, true
}

// nodePeers lists relay candidates: connected peers and the peers of the
// DHT's routing table.
type nodePeers struct{ n *Node }

func (p nodePeers) Candidates() []peer.ID {
	out := p.n.h.Network().Peers()
	if kad := p.n.dht.Kad(); kad != nil {
		out = append(out, kad.RoutingTable().ListPeers()...)
	}
	return out
}

// nodeFinder looks a peer up in the DHT and keeps its addresses in the
// peerstore, so that the next dial finds it.
type nodeFinder struct{ n *Node }

// finderAddrTTL is how long looked-up addresses stay in the peerstore.
const finderAddrTTL = 10 * time.Minute

func (f nodeFinder) FindPeer(ctx context.Context, p peer.ID) error {
	kad := f.n.dht.Kad()
	if kad == nil {
		return fmt.Errorf("node: find %s: no DHT", p)
	}
	ai, err := kad.FindPeer(ctx, p)
	if err != nil {
		return fmt.Errorf("node: find %s: %w", p, err)
	}
	f.n.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, max(finderAddrTTL, peerstore.TempAddrTTL))
	return nil
}

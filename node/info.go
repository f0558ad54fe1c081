package node

import (
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol"
)

// Info describes a node, as the API's id endpoint returns it.
type Info struct {
	PeerID  peer.ID          `json:"peer_id"`
	DDTAddr protocol.DDTAddr `json:"ddt_address"`
	// Addrs are the full libp2p multiaddrs, each ending in /p2p/<peer ID>.
	Addrs []string `json:"addrs"`
	// UDP is the data plane's host:port; empty on a bootstrap node.
	UDP         string    `json:"udp,omitempty"`
	Role        string    `json:"role"`
	SealKey     string    `json:"seal_key"` // hex X25519 public key
	Authorities []peer.ID `json:"authorities"`
}

// PeerInfo describes a connected peer.
type PeerInfo struct {
	PeerID peer.ID `json:"peer_id"`
	// Addrs are the remote addresses of the open connections.
	Addrs     []string `json:"addrs"`
	Direction string   `json:"direction"` // of the oldest connection
	// LatencyMillis is the smoothed round-trip time, 0 if unknown.
	LatencyMillis float64 `json:"latency_ms"`
}

// Info returns the node's identity and addresses.
func (n *Node) Info() Info {
	info := Info{
		PeerID:      n.h.ID(),
		DDTAddr:     n.ddt,
		Role:        n.role.String(),
		SealKey:     hex.EncodeToString(n.SealPublicKey()),
		Authorities: n.Authorities(),
	}
	for _, a := range n.Addrs() {
		info.Addrs = append(info.Addrs, a.String())
	}
	if u := n.UDPAddr(); u != nil {
		info.UDP = u.String()
	}
	return info
}

// Peers returns the connected peers, sorted by peer ID.
func (n *Node) Peers() []PeerInfo {
	net := n.h.Network()
	var out []PeerInfo
	for _, p := range net.Peers() {
		conns := net.ConnsToPeer(p)
		if len(conns) == 0 {
			continue
		}
		slices.SortFunc(conns, func(a, b network.Conn) int {
			return a.Stat().Opened.Compare(b.Stat().Opened)
		})
		pi := PeerInfo{
			PeerID:        p,
			Direction:     conns[0].Stat().Direction.String(),
			LatencyMillis: float64(n.h.Peerstore().LatencyEWMA(p)) / float64(time.Millisecond),
		}
		for _, c := range conns {
			pi.Addrs = append(pi.Addrs, c.RemoteMultiaddr().String())
		}
		out = append(out, pi)
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return strings.Compare(string(a.PeerID), string(b.PeerID)) })
	return out
}

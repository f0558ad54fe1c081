package control

import (
	"net"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// ProtocolID is the libp2p protocol the control streams run on.
const ProtocolID = "/vmdt/ctl/1.0.0"

// DataPlane is the node's RDT transport as the control layer sees it.
type DataPlane interface {
	// UDPPort returns the port this node's RDT socket listens on.
	UDPPort() int
	// AddPeer installs a per-hop session key for the RDT peer at addr.
	// Exactly one side of a pair is the initiator: the one that generated
	// the key.
	AddPeer(addr net.Addr, keyID uint32, key [32]byte, initiator bool) error
}

// Config tunes a Service. The zero value of every field means its default.
type Config struct {
	// LineTimeout is the read deadline for each line on a served stream
	// (default 30s). A stream idle for longer gets ERR|408 and is closed.
	LineTimeout time.Duration
	// WriteTimeout is the write deadline for each reply (default 10s).
	WriteTimeout time.Duration
	// RequestTimeout bounds one client exchange when the context has no
	// earlier deadline (default 10s).
	RequestTimeout time.Duration
	// MaxErrors is how many ERR replies one stream may earn before the
	// server closes it (default 3).
	MaxErrors int
	// MaxStreamsPerPeer caps concurrent served streams per peer (default 16:
	// a send uses a probe and a RELAY_OPEN per relay, a file several at once,
	// and a peer that restarts claims its shares from every peer at once).
	MaxStreamsPerPeer int
	// LineRate is the sustained number of lines per second a peer may send
	// across all its streams (default 20); LineBurst is the bucket size
	// (default 40).
	LineRate  float64
	LineBurst int
	// MaxPeers caps the peers the server keeps rate state for (default
	// 4096). When full, a new peer's stream is refused with ERR|429 unless
	// an idle peer with a full bucket can be forgotten.
	MaxPeers int
	// MaxClusters caps the clusters this node is a member of (default 64).
	MaxClusters int
	// MaxKnownClients caps the clients remembered from REGISTER_P2P_PORT
	// (default 4096); the oldest is forgotten first.
	MaxKnownClients int
}

// PeerEndpoint is what ConnectDataPlane learned about a peer.
type PeerEndpoint struct {
	PeerID  peer.ID
	DDTAddr protocol.DDTAddr
	UDPAddr net.Addr // the peer's RDT socket (*net.UDPAddr)
	KeyID   uint32   // the per-hop session key installed on both sides
}

// ClientInfo is what a peer told us about a client through GET_CLIENT_INFO.
type ClientInfo struct {
	PeerID  peer.ID
	DDTAddr protocol.DDTAddr
	// UDPAddr is the client's RDT socket if the answering peer knows both
	// IP and port; for the answering peer itself, the IP is the one we
	// reached it at. Nil when unknown.
	UDPAddr *net.UDPAddr
}

// Member is one member of a cluster.
type Member struct {
	PeerID  peer.ID
	DDTAddr protocol.DDTAddr
}

// ClusterInfo is this node's copy of a cluster.
type ClusterInfo struct {
	ID        ctl.ClusterID
	N, K      int     // default shares and threshold, 2 <= K <= N <= 255
	Creator   peer.ID // issued the id and signed the charter
	Signature []byte  // the creator's signature over the charter
	Members   []Member
}

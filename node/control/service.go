package control

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	logging "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

var log = logging.Logger("vmdt/control")

// serviceName names the control service to libp2p's resource manager.
const serviceName = "vmdt.control"

// Service serves the control protocol on a host and speaks it to peers.
// Its methods are safe for concurrent use.
type Service struct {
	h    host.Host
	dp   DataPlane // nil: REGISTER_P2P_PORT is not served
	cfg  Config    // defaults applied
	self protocol.DDTAddr
	priv crypto.PrivKey

	ctx    context.Context // cancelled by Close; parent of all work
	cancel context.CancelFunc
	once   sync.Once

	mu       sync.Mutex
	closed   bool
	streams  map[network.Stream]struct{} // served streams, reset by Close
	peers    map[peer.ID]*peerState      // per-peer rate and stream count
	known    map[protocol.DDTAddr]*knownClient
	knownSeq uint64 // orders known clients for eviction
	clusters map[ctl.ClusterID]*cluster
	handlers sync.WaitGroup // served streams in flight

	deliv atomic.Pointer[deliveryHolder] // serves RELAY_OPEN and DELIVERED; see SetDelivery
}

// New creates a Service on h and registers the ProtocolID stream handler.
// dp may be nil on nodes without a data plane (bootstrap nodes); they
// answer REGISTER_P2P_PORT with ERR|501. cfg may be nil.
func New(h host.Host, dp DataPlane, cfg *Config) (*Service, error) {
	if h == nil {
		return nil, fmt.Errorf("control: nil host")
	}
	priv := h.Peerstore().PrivKey(h.ID())
	if priv == nil {
		return nil, fmt.Errorf("control: host %s has no private key in its peerstore", h.ID())
	}
	self, err := ddtAddrOf(h.ID())
	if err != nil {
		return nil, fmt.Errorf("control: host identity: %w", err)
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.applyDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		h:        h,
		dp:       dp,
		cfg:      c,
		self:     self,
		priv:     priv,
		ctx:      ctx,
		cancel:   cancel,
		streams:  make(map[network.Stream]struct{}),
		peers:    make(map[peer.ID]*peerState),
		known:    make(map[protocol.DDTAddr]*knownClient),
		clusters: make(map[ctl.ClusterID]*cluster),
	}
	h.SetStreamHandler(ProtocolID, s.handleStream)
	return s, nil
}

func (c *Config) applyDefaults() {
	setDuration(&c.LineTimeout, 30*time.Second)
	setDuration(&c.WriteTimeout, 10*time.Second)
	setDuration(&c.RequestTimeout, 10*time.Second)
	setInt(&c.MaxErrors, 3)
	setInt(&c.MaxStreamsPerPeer, 16)
	if c.LineRate <= 0 {
		c.LineRate = 20
	}
	setInt(&c.LineBurst, 40)
	setInt(&c.MaxPeers, 4096)
	setInt(&c.MaxClusters, 64)
	setInt(&c.MaxKnownClients, 4096)
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

func setInt(v *int, def int) {
	if *v <= 0 {
		*v = def
	}
}

// Self returns this node's DDT address.
func (s *Service) Self() protocol.DDTAddr { return s.self }

// Close removes the stream handler, resets the streams being served,
// cancels outgoing exchanges and waits for the handlers to return. It is
// idempotent.
func (s *Service) Close() error {
	s.once.Do(func() {
		s.h.RemoveStreamHandler(ProtocolID)
		s.mu.Lock()
		s.closed = true
		open := make([]network.Stream, 0, len(s.streams))
		for st := range s.streams {
			open = append(open, st)
		}
		s.mu.Unlock()
		s.cancel()
		for _, st := range open {
			_ = st.Reset()
		}
		s.handlers.Wait()
	})
	return nil
}

// ddtAddrOf derives the DDT address of a peer from the public key its id
// embeds. Ed25519 peer ids always embed it.
func ddtAddrOf(p peer.ID) (protocol.DDTAddr, error) {
	pub, err := p.ExtractPublicKey()
	if err != nil {
		return protocol.DDTAddr{}, fmt.Errorf("peer %s: %w", p, err)
	}
	return ddtAddrOfKey(pub)
}

func ddtAddrOfKey(pub crypto.PubKey) (protocol.DDTAddr, error) {
	b, err := crypto.MarshalPublicKey(pub)
	if err != nil {
		return protocol.DDTAddr{}, err
	}
	return protocol.DDTAddrFromPublicKey(b), nil
}

// withService returns a context that ends with ctx or when s closes.
func (s *Service) withService(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

package consent

import (
	"context"
	"errors"
	"sync"
	"time"

	logging "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/routing"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/internal/p2pdial"
	"github.com/vmdt/vmdt/node/friends"
)

var log = logging.Logger("vmdt/consent")

// ProtocolID is the friend handshake's libp2p protocol.
const ProtocolID protocol.ID = "/vmdt/friend/1.0.0"

// Resolver looks up usernames; *dht.DHT implements it.
type Resolver interface {
	Resolve(ctx context.Context, name string) (*dht.NameRecord, error)
}

// Config sets up a Service. Host, Store and Names are required; the zero
// value of every other field means its default.
type Config struct {
	Host  host.Host
	Store *friends.Store
	// Names resolves usernames: the target's before a request, the
	// requester's when one arrives.
	Names Resolver
	// Peers finds the addresses of peers we are not connected to (the
	// DHT's kad FindPeer); nil means only the peerstore's addresses.
	Peers routing.PeerRouting
	// Username returns this node's registered username, "" if it has
	// none; nil means none.
	Username func() string

	// StreamTimeout bounds a whole exchange on one stream (default 45 s).
	StreamTimeout time.Duration
	// FrameTimeout bounds the wait for an inbound stream's frame
	// (default 10 s).
	FrameTimeout time.Duration
	// LookupTimeout bounds the lookup of a requester's name (default
	// 30 s); it must be shorter than StreamTimeout.
	LookupTimeout time.Duration
	// DeliveryTimeout bounds one attempt to deliver a response,
	// finding and connecting the peer included (default 20 s).
	DeliveryTimeout time.Duration
	// RetryMin and RetryMax bound the outbox's backoff between attempts
	// (defaults 2 s and 2 min); RetryFor is how long it keeps trying
	// (default 24 h).
	RetryMin, RetryMax, RetryFor time.Duration
	// MaxOutbox caps the responses waiting for delivery (default 1024).
	MaxOutbox int
	// MaxDeliveries caps concurrent background deliveries (default 4).
	MaxDeliveries int
	// MaxInbound caps inbound streams served at once (default 64).
	MaxInbound int
	// PeerBurst and PeerRate limit inbound streams per peer: a burst of
	// PeerBurst (default 8), then PeerRate per second (default 0.2).
	PeerBurst int
	PeerRate  float64
}

func (c *Config) setDefaults() {
	setDuration(&c.StreamTimeout, 45*time.Second)
	setDuration(&c.FrameTimeout, 10*time.Second)
	setDuration(&c.LookupTimeout, 30*time.Second)
	setDuration(&c.DeliveryTimeout, 20*time.Second)
	setDuration(&c.RetryMin, 2*time.Second)
	setDuration(&c.RetryMax, 2*time.Minute)
	setDuration(&c.RetryFor, 24*time.Hour)
	setInt(&c.MaxOutbox, 1024)
	setInt(&c.MaxDeliveries, 4)
	setInt(&c.MaxInbound, 64)
	setInt(&c.PeerBurst, 8)
	if c.PeerRate <= 0 {
		c.PeerRate = 0.2
	}
	if c.Username == nil {
		c.Username = func() string { return "" }
	}
	c.LookupTimeout = min(c.LookupTimeout, c.StreamTimeout*2/3)
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

// Service serves the friend protocol on a host and sends requests and
// responses to peers. Its methods are safe for concurrent use.
type Service struct {
	cfg   Config
	h     host.Host
	store *friends.Store
	rate  *peerLimiter
	out   *outbox
	notif *network.NotifyBundle

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // handlers, the outbox loop and its deliveries

	mu      sync.Mutex
	closed  bool
	streams map[network.Stream]struct{} // inbound streams being served

	closeOnce sync.Once
}

// New starts the Service: it registers the stream handler, watches new
// connections (to deliver what we owe their peers) and starts the
// outbox.
func New(cfg Config) (*Service, error) {
	if cfg.Host == nil || cfg.Store == nil || cfg.Names == nil {
		return nil, errors.New("consent: Host, Store and Names are required")
	}
	cfg.setDefaults()
	s := &Service{
		cfg:     cfg,
		h:       cfg.Host,
		store:   cfg.Store,
		rate:    newPeerLimiter(cfg.PeerRate, cfg.PeerBurst, 4096),
		out:     newOutbox(cfg),
		streams: make(map[network.Stream]struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.notif = &network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) { s.out.kick(c.RemotePeer()) },
	}
	s.h.Network().Notify(s.notif)
	s.h.SetStreamHandler(ProtocolID, s.handle)
	s.wg.Add(1)
	go s.runOutbox()
	return s, nil
}

// Close removes the stream handler, resets the streams being served,
// stops the outbox and waits for every goroutine of the Service. It is
// idempotent. Responses still owed are dropped (see the package doc).
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.h.RemoveStreamHandler(ProtocolID)
		s.h.Network().StopNotify(s.notif)
		s.mu.Lock()
		s.closed = true
		open := make([]network.Stream, 0, len(s.streams))
		for st := range s.streams {
			open = append(open, st)
		}
		s.mu.Unlock()
		s.cancel()
		for _, st := range open {
			st.Reset()
		}
		s.wg.Wait()
	})
	return nil
}

// Store returns the friend store the Service keeps.
func (s *Service) Store() *friends.Store { return s.store }

// Owed returns the usernames whose responses wait in the outbox.
func (s *Service) Owed() []string { return s.out.users() }

// enter registers an inbound stream, unless the Service is closed or
// serves MaxInbound streams already.
func (s *Service) enter(st network.Stream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.streams) >= s.cfg.MaxInbound {
		return false
	}
	s.streams[st] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Service) leave(st network.Stream) {
	s.mu.Lock()
	delete(s.streams, st)
	s.mu.Unlock()
	s.wg.Done()
}

// alive returns ErrClosed once the Service is closed.
func (s *Service) alive() error {
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	return nil
}

// connect makes sure we have a connection to p: an existing one, one to
// the addresses in the peerstore, or one to the addresses Peers finds.
func (s *Service) connect(ctx context.Context, p peer.ID) error {
	if s.h.Network().Connectedness(p) == network.Connected {
		return nil
	}
	var first error
	if len(s.h.Peerstore().Addrs(p)) > 0 {
		if first = s.h.Connect(ctx, peer.AddrInfo{ID: p}); first == nil {
			return nil
		}
		if rctx, ok := p2pdial.PastBackoff(ctx, first); ok {
			if first = s.h.Connect(rctx, peer.AddrInfo{ID: p}); first == nil {
				return nil
			}
		}
	}
	if s.cfg.Peers == nil {
		if first == nil {
			first = errors.New("no known addresses")
		}
		return errors.Join(ErrUnreachable, first)
	}
	ai, err := s.cfg.Peers.FindPeer(ctx, p)
	if err != nil {
		return errors.Join(ErrUnreachable, first, err)
	}
	// A failed first dial puts p's addresses on the swarm's dial backoff;
	// this dial is a deliberate retry with freshly looked-up addresses, so
	// it must not be refused by that backoff.
	if err := s.h.Connect(network.WithForceDirectDial(ctx, "retry after peer lookup"), ai); err != nil {
		return errors.Join(ErrUnreachable, err)
	}
	return nil
}

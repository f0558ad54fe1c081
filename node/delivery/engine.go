package delivery

import (
	"context"
	"crypto/ecdh"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"time"

	logging "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/control"
	"github.com/vmdt/vmdt/node/friends"
	"github.com/vmdt/vmdt/node/sharepool"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
	"github.com/vmdt/vmdt/rdt"
)

var log = logging.Logger("vmdt/delivery")

// Transport is the node's RDT transport as the engine uses it;
// *rdt.Transport implements it.
type Transport interface {
	Send(ctx context.Context, to net.Addr, h protocol.VMDTHeader, share []byte) error
	OpenSend(to net.Addr, h protocol.VMDTHeader) (*rdt.Outgoing, error)
	AbandonMessage(src protocol.DDTAddr, id protocol.MessageID)
}

// Control is the control protocol as the engine uses it; *control.Service
// implements it.
type Control interface {
	ConnectDataPlane(ctx context.Context, p peer.ID) (control.PeerEndpoint, error)
	RelayOpen(ctx context.Context, relay peer.ID, cmd ctl.RelayOpen) error
	Delivered(ctx context.Context, p peer.ID, id protocol.MessageID, used []int) error
}

// Names resolves usernames; *dht.DHT implements it.
type Names interface {
	Resolve(ctx context.Context, name string) (*dht.NameRecord, error)
}

// Friends is what the engine needs of the friend store.
type Friends interface {
	// TokenFor returns the friend token dst issued to this node, if any.
	TokenFor(dst protocol.DDTAddr) (friends.Token, bool)
	// Friend reports whether src is a friend whose messages this node
	// accepts, and its username ("" if unknown).
	Friend(src protocol.DDTAddr) (username string, ok bool)
}

// Peers lists the peers that might relay: connected peers and the DHT
// routing table. The engine probes them; order does not matter.
type Peers interface {
	Candidates() []peer.ID
}

// PeerFinder makes a peer that is not connected reachable, for example
// by a DHT lookup that puts its addresses in the peerstore.
type PeerFinder interface {
	FindPeer(ctx context.Context, p peer.ID) error
}

// Config sets up an Engine. Identity, SealKey, Transport, Control, Names,
// Friends, Peers and Dir are required; zero durations and limits mean
// the defaults.
type Config struct {
	Identity  crypto.PrivKey   // Ed25519; signs envelopes
	SealKey   *ecdh.PrivateKey // X25519; opens key shares sent to us
	Transport Transport
	Control   Control
	Names     Names
	Friends   Friends
	Peers     Peers
	Finder    PeerFinder // optional
	// Dir holds the inbox (Dir/inbox).
	Dir string

	// ProbeTimeout bounds the data-plane handshake with one candidate
	// relay (default 3 s). RelayOpenTimeout bounds one RELAY_OPEN
	// (default 10 s).
	ProbeTimeout     time.Duration
	RelayOpenTimeout time.Duration
	// DeliveryTimeout bounds a Send after its relays are chosen (default
	// 60 s).
	DeliveryTimeout time.Duration
	// EndpointTTL is how long a data-plane session to a peer is reused
	// before a new handshake (default 2 min).
	EndpointTTL time.Duration
	// UnresponsiveTTL is how long a candidate relay whose probe failed is
	// skipped (default 90 s); NoDataPlaneTTL is that time for a peer that
	// answered it has no data plane, like a bootstrap node (default
	// 10 min). ProbeGrace is how long relay selection waits, once n
	// candidates answered, for others that would spread the relays over
	// more network prefixes (default 50 ms).
	UnresponsiveTTL time.Duration
	NoDataPlaneTTL  time.Duration
	ProbeGrace      time.Duration
	// DeliveredRetry bounds the time the receiver retries a DELIVERED that
	// could not be sent (default 30 s).
	DeliveredRetry time.Duration
	// MaxCandidates caps the relays probed per Send (default 32).
	MaxCandidates int

	// MaxShareLen caps a share this node relays (default 64 MiB);
	// MaxRelaysPerSender and MaxRelays cap the shares it forwards or
	// pools at once per sender and in all (defaults 64 and 256). A
	// forwarded share holds up to its length in the RDT send buffer and,
	// with a Pool, as much again in a copy for the pool fallback
	// (fallback.go).
	MaxShareLen        int
	MaxRelaysPerSender int
	MaxRelays          int
	// MaxKeepBytes caps the bytes of all those copies together (default
	// 256 MiB); a share announced beyond it is forwarded without a copy,
	// so it is not pooled if its forward fails.
	MaxKeepBytes int64

	// NameCacheTTL is how long a resolved username record is used again
	// (default 1 min; names.go).
	NameCacheTTL time.Duration

	// EarlyShareLen is the largest share a sender sends while its
	// announcement is on the way, and a relay keeps before the
	// announcement is accepted (default 64 KiB). A relay keeps such
	// segments for EarlyTTL (default 10 s), at most EarlyPerSession bytes
	// per RDT session (default 2 MiB) and MaxEarlyBytes in all (default
	// 32 MiB). See early.go.
	EarlyShareLen   int
	EarlyTTL        time.Duration
	EarlyPerSession int
	MaxEarlyBytes   int

	// MaxInbound caps the messages being assembled at once (default 64);
	// MaxMessageBytes caps the memory of one (default 256 MiB);
	// InboundTimeout frees a message that makes no progress (default
	// 2 min).
	MaxInbound      int
	MaxMessageBytes int
	InboundTimeout  time.Duration

	// OnMessage, if not nil, is called with each message stored in the
	// inbox, on an engine goroutine.
	OnMessage func(Entry)

	// Pool, if not nil, is where this node, as a relay, keeps shares for
	// receivers it cannot reach (see pool.go); its limits apply. The
	// engine does not close it.
	Pool *sharepool.Pool
	// ClaimInterval is how often this node asks its peers for shares they
	// hold for it (default 30 s; it also asks once at start). Negative
	// disables claiming.
	ClaimInterval time.Duration

	// PartialFileTTL is how long a file being received is kept without a
	// new chunk before it is deleted (default 14 days, twice the time
	// relays pool shares for an offline receiver); the engine looks for
	// such files at start and then hourly.
	PartialFileTTL time.Duration

	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(i *int, v int) {
		if *i <= 0 {
			*i = v
		}
	}
	def(&c.ProbeTimeout, 3*time.Second)
	def(&c.RelayOpenTimeout, 10*time.Second)
	def(&c.DeliveryTimeout, 60*time.Second)
	def(&c.EndpointTTL, 2*time.Minute)
	def(&c.UnresponsiveTTL, 90*time.Second)
	def(&c.NoDataPlaneTTL, 10*time.Minute)
	def(&c.ProbeGrace, 50*time.Millisecond)
	def(&c.DeliveredRetry, 30*time.Second)
	def(&c.InboundTimeout, 2*time.Minute)
	if c.ClaimInterval == 0 {
		c.ClaimInterval = 30 * time.Second
	}
	defInt(&c.MaxCandidates, 32)
	defInt(&c.MaxShareLen, rdt.DefaultMaxShareLen)
	defInt(&c.MaxRelaysPerSender, 64)
	defInt(&c.MaxRelays, 256)
	if c.MaxKeepBytes <= 0 {
		c.MaxKeepBytes = 256 << 20
	}
	def(&c.NameCacheTTL, time.Minute)
	defInt(&c.EarlyShareLen, 64<<10)
	def(&c.EarlyTTL, 10*time.Second)
	defInt(&c.EarlyPerSession, 2<<20)
	defInt(&c.MaxEarlyBytes, 32<<20)
	def(&c.PartialFileTTL, 14*24*time.Hour)
	defInt(&c.MaxInbound, 64)
	defInt(&c.MaxMessageBytes, 256<<20)
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Engine sends messages over n relays, relays shares for others, and
// receives messages into its inbox. Its methods are safe for concurrent
// use. Close stops its goroutines.
type Engine struct {
	cfg      Config
	self     protocol.DDTAddr
	selfPeer peer.ID
	inbox    *Inbox
	files    *chunkStore // files being received in chunks
	swept    time.Time   // last sweep of stopped files; decode loop only

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu        sync.Mutex
	sends     map[protocol.MessageID]*pendingSend
	relays    map[relayKey]*relayed
	perSender map[protocol.DDTAddr]int
	kept      int64 // bytes of relayed.keep copies, at most cfg.MaxKeepBytes
	inbound   map[inKey]*inbound
	finished  map[inKey]time.Time // decoded or refused; later segments are dropped
	decodeQ   []*inbound
	endpoints map[peer.ID]endpoint
	// unresponsive holds candidate relays whose probe failed, until when
	// they are skipped (endpoints.go).
	unresponsive map[peer.ID]time.Time

	wake chan struct{} // the decode loop has work

	pushing map[pushKey]bool // pooled shares being pushed to their receivers (pool.go)

	// Segments of shares not announced yet (early.go).
	early           map[relayKey]*earlyShare
	earlyBytes      int
	earlyPerSession map[string]int
	earlySwept      time.Time // last expireEarlyLocked

	names map[string]cachedName // resolved usernames (names.go)
}

// New starts an engine. The caller wires it in: rdt.Config.OnSegment,
// Reassemble and OnInboundFailed to the methods of the same names, and
// control.Service.SetDelivery(engine).
func New(cfg Config) (*Engine, error) {
	switch {
	case cfg.Identity == nil || cfg.Identity.Type() != crypto.Ed25519:
		return nil, fmt.Errorf("%w: an Ed25519 identity key is required", ErrInvalidConfig)
	case cfg.SealKey == nil || cfg.SealKey.Curve() != ecdh.X25519():
		return nil, fmt.Errorf("%w: an X25519 seal key is required", ErrInvalidConfig)
	case cfg.Transport == nil || cfg.Control == nil || cfg.Names == nil || cfg.Friends == nil || cfg.Peers == nil:
		return nil, fmt.Errorf("%w: transport, control, names, friends and peers are required", ErrInvalidConfig)
	case cfg.Dir == "":
		return nil, fmt.Errorf("%w: no directory", ErrInvalidConfig)
	}
	cfg.setDefaults()
	selfPeer, err := peer.IDFromPrivateKey(cfg.Identity)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	pub, err := crypto.MarshalPublicKey(cfg.Identity.GetPublic())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	inbox, err := OpenInbox(cfg.Dir)
	if err != nil {
		return nil, err
	}
	files, err := openChunkStore(filepath.Join(cfg.Dir, filesDir), inbox)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		files:        files,
		cfg:          cfg,
		self:         protocol.DDTAddrFromPublicKey(pub),
		selfPeer:     selfPeer,
		inbox:        inbox,
		sends:        make(map[protocol.MessageID]*pendingSend),
		relays:       make(map[relayKey]*relayed),
		perSender:    make(map[protocol.DDTAddr]int),
		inbound:      make(map[inKey]*inbound),
		finished:     make(map[inKey]time.Time),
		endpoints:    make(map[peer.ID]endpoint),
		unresponsive: make(map[peer.ID]time.Time),
		wake:         make(chan struct{}, 1),
		pushing:      make(map[pushKey]bool),

		early:           make(map[relayKey]*earlyShare),
		earlyPerSession: make(map[string]int),
		names:           make(map[string]cachedName),
	}
	e.sweepFiles()
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.wg.Add(1)
	go e.decodeLoop()
	if cfg.ClaimInterval > 0 {
		e.wg.Add(1)
		go e.claimLoop()
	}
	return e, nil
}

// Inbox returns the engine's inbox.
func (e *Engine) Inbox() *Inbox { return e.inbox }

// Self returns this node's DDT address.
func (e *Engine) Self() protocol.DDTAddr { return e.self }

// Close stops the decode loop and the forwarding watchers, abandons the
// transfers this node relays and waits for its goroutines. Sends in
// progress fail with ErrClosed. It is idempotent.
func (e *Engine) Close() error {
	e.once.Do(func() {
		e.cancel()
		// Goroutines are started under e.mu after checking e.ctx, so once
		// this lock is taken no new one can start.
		e.mu.Lock()
		e.mu.Unlock() //nolint:staticcheck // a barrier, see above
		e.wg.Wait()
	})
	return nil
}

// OnSegment takes a newly arrived piece of an inbound share (wire it to
// rdt.Config.OnSegment): a piece of a message for this node goes to the
// message's assembler; a piece of a share this node agreed to relay is
// forwarded at once; anything else is dropped.
func (e *Engine) OnSegment(s rdt.Segment) {
	h := s.Header
	if h.Type != protocol.TypeShare || e.ctx.Err() != nil {
		return
	}
	if h.Dst == e.self {
		e.receiveSegment(s)
		return
	}
	e.forwardSegment(s)
}

// Reassemble tells rdt not to buffer share transfers (wire it to
// rdt.Config.Reassemble): the engine assembles messages and forwards
// shares segment by segment.
func (e *Engine) Reassemble(net.Addr, protocol.VMDTHeader) bool { return false }

// OnInboundFailed learns that an inbound transfer ended early (wire it to
// rdt.Config.OnInboundFailed): a share being relayed is abandoned towards
// the receiver too.
func (e *Engine) OnInboundFailed(_ net.Addr, h protocol.VMDTHeader, _ error) {
	e.mu.Lock()
	if r := e.relays[headerKey(h)]; r != nil {
		r.stopOnce.Do(func() { close(r.stop) }) // its watcher abandons the forward
	}
	e.takeEarlyLocked(headerKey(h))
	e.mu.Unlock()
}

// The node's parts implement the engine's interfaces, and the engine the
// control service's.
var (
	_ control.Delivery = (*Engine)(nil)
	_ Transport        = (*rdt.Transport)(nil)
	_ Control          = (*control.Service)(nil)
	_ Names            = (*dht.DHT)(nil)
)

func ddtOfKey(pub crypto.PubKey) (protocol.DDTAddr, error) {
	b, err := crypto.MarshalPublicKey(pub)
	if err != nil {
		return protocol.DDTAddr{}, err
	}
	return protocol.DDTAddrFromPublicKey(b), nil
}

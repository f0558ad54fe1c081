package dht

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	ds "github.com/ipfs/go-datastore"
	logging "github.com/ipfs/go-log/v2"
	kaddht "github.com/libp2p/go-libp2p-kad-dht"
	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/vmdt/vmdt/dht/namerec"
)

var log = logging.Logger("vmdt/dht")

const (
	// ProtocolPrefix is the prefix of VMDT's DHT protocols: the DHT speaks
	// /vmdt/kad/1.0.0 and never joins the public IPFS DHT.
	ProtocolPrefix protocol.ID = "/vmdt"
	// kadProtocol is the DHT's stream protocol under ProtocolPrefix.
	kadProtocol = ProtocolPrefix + "/kad/1.0.0"
)

// Mode selects whether this node answers DHT queries.
type Mode int

const (
	// ModeClient queries the DHT but neither stores records nor answers.
	ModeClient Mode = iota
	// ModeServer stores records and answers queries; bootstrap and publicly
	// reachable nodes run in this mode. Names stay resolvable only while
	// server-mode nodes hold them.
	ModeServer
	// ModeAuto lets kad-dht switch by the host's observed reachability.
	ModeAuto
)

func (m Mode) kad() (kaddht.ModeOpt, error) {
	switch m {
	case ModeClient:
		return kaddht.ModeClient, nil
	case ModeServer:
		return kaddht.ModeServer, nil
	case ModeAuto:
		return kaddht.ModeAuto, nil
	}
	return 0, fmt.Errorf("dht: unknown mode %d", m)
}

// Config configures a DHT node. Zero values mean the defaults.
type Config struct {
	Mode           Mode
	BootstrapPeers []peer.AddrInfo // where to join
	// Authorities are the network's configured bootstrap nodes, the
	// notaries of names. The list is part of the network's definition:
	// every node must use the same one, or nodes disagree on which
	// records are valid. A name claim needs countersignatures from a
	// strict majority of them. Each ID must be an Ed25519 peer ID; at most
	// namerec.MaxAuthorities.
	Authorities []peer.ID
	Datastore   ds.Batching // optional; nil = in-memory

	// MinRemoteCopies is how many remote DHT servers must hold a record
	// before RegisterName returns; default 3. In a network with fewer
	// servers, all of those found (at least one) must hold it.
	MinRemoteCopies int
	// RepublishInterval is how often KeepName re-registers; default 1 h.
	RepublishInterval time.Duration
	// NotaryTimeout bounds one notary exchange; default 10 s.
	NotaryTimeout time.Duration
	// LocalNotary answers claims addressed to this node itself, for a
	// bootstrap node that registers a name of its own: a host cannot open
	// a stream to itself. *bootstrap.Notary implements it. Optional.
	LocalNotary LocalNotary
	// Now is the clock used to validate records; default time.Now. Tests
	// only.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.MinRemoteCopies <= 0 {
		c.MinRemoteCopies = 3
	}
	if c.RepublishInterval <= 0 {
		c.RepublishInterval = time.Hour
	}
	if c.NotaryTimeout <= 0 {
		c.NotaryTimeout = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// LocalNotary is a notary in the same process; see Config.LocalNotary.
type LocalNotary interface {
	// Answer decides an encoded notary request and returns the encoded
	// response.
	Answer(req []byte) []byte
}

var (
	// ErrClosed is returned by operations on a closed DHT.
	ErrClosed = errors.New("dht: closed")
	// ErrNoBootstrap reports that no bootstrap peer could be joined.
	ErrNoBootstrap = errors.New("dht: no bootstrap peer reachable")
)

// DHT is a VMDT DHT node with the username registry on top.
type DHT struct {
	h     host.Host
	cfg   Config
	auth  *namerec.Authorities
	names *NameValidator
	kad   *kaddht.IpfsDHT
	msgr  *pb.ProtocolMessenger

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // KeepName loops

	mu    sync.Mutex           // guards the fields below
	seqs  map[string]uint64    // last sequence number used per name
	regs  map[string]time.Time // last successful registration per name
	keeps map[string]*keeper
	done  bool
}

// New starts kad-dht on h with ProtocolPrefix, the name validator as its
// only validator, providers disabled, and no bootstrap peers but
// cfg.BootstrapPeers. ctx carries values only: the DHT runs until Close,
// even after ctx is cancelled. Call Bootstrap to join the network.
func New(ctx context.Context, h host.Host, cfg Config) (*DHT, error) {
	cfg.setDefaults()
	mode, err := cfg.Mode.kad()
	if err != nil {
		return nil, err
	}
	auth, err := namerec.NewAuthorities(cfg.Authorities)
	if err != nil {
		return nil, fmt.Errorf("dht: %w", err)
	}
	names := &NameValidator{auth: auth, now: cfg.Now}
	opts := []kaddht.Option{
		kaddht.ProtocolPrefix(ProtocolPrefix),
		kaddht.Mode(mode),
		kaddht.Validator(record.NamespacedValidator{NameNamespace: names}),
		kaddht.DisableProviders(),
		kaddht.MaxRecordAge(namerec.ClaimTTL),
	}
	if len(cfg.BootstrapPeers) > 0 {
		opts = append(opts, kaddht.BootstrapPeers(cfg.BootstrapPeers...))
	}
	if cfg.Datastore != nil {
		opts = append(opts, kaddht.Datastore(cfg.Datastore))
	}
	// kad-dht runs until its context ends; tie it to Close, not to the
	// caller's ctx, which may be a start-up deadline.
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	kad, err := kaddht.New(dctx, h, opts...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("dht: start kad-dht: %w", err)
	}
	msgr, err := pb.NewProtocolMessenger(&kadSender{h: h})
	if err != nil {
		kad.Close()
		cancel()
		return nil, err
	}
	return &DHT{
		h: h, cfg: cfg, auth: auth, names: names, kad: kad, msgr: msgr,
		ctx: dctx, cancel: cancel,
		seqs:  make(map[string]uint64),
		regs:  make(map[string]time.Time),
		keeps: make(map[string]*keeper),
	}, nil
}

// Kad returns the underlying kad-dht, for FindPeer and the routing table.
func (d *DHT) Kad() *kaddht.IpfsDHT { return d.kad }

// Validator returns the validator this node applies to name records.
func (d *DHT) Validator() *NameValidator { return d.names }

// Close stops every KeepName loop and the DHT. It is idempotent.
func (d *DHT) Close() error {
	d.mu.Lock()
	if d.done {
		d.mu.Unlock()
		return nil
	}
	d.done = true
	d.mu.Unlock()
	d.cancel() // stops the KeepName loops
	d.wg.Wait()
	return d.kad.Close()
}

func (d *DHT) closed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.done
}

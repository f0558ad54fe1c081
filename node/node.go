package node

import (
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	logging "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vmdt/vmdt/bootstrap"
	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/consent"
	"github.com/vmdt/vmdt/node/control"
	"github.com/vmdt/vmdt/node/delivery"
	"github.com/vmdt/vmdt/node/friends"
	"github.com/vmdt/vmdt/node/sharepool"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/rdt"
)

var log = logging.Logger("vmdt/node")

// Node is a running VMDT node: a libp2p host, the DHT with the username
// registry and, depending on the role, the name notary or the control
// protocol with its UDP data plane.
type Node struct {
	role        Role
	priv        crypto.PrivKey
	seal        *ecdh.PrivateKey
	ddt         protocol.DDTAddr
	authorities []peer.ID
	bootstrap   []peer.AddrInfo

	h      host.Host
	dht    *dht.DHT
	notary *bootstrap.Notary // bootstrap nodes only
	dp     *dataPlane        // ordinary nodes only
	ctl    *control.Service

	// The friend store and handshake; nil on bootstrap nodes and without
	// Options.FriendsDir.
	friends *friends.Store
	consent *consent.Service

	// The delivery engine; nil on bootstrap nodes and without
	// Options.DeliveryDir. engineP holds it for the transport's
	// goroutines, which start before the engine exists.
	engine   *delivery.Engine
	engineP  atomic.Pointer[delivery.Engine]
	pool     *sharepool.Pool // the engine's share pool; closed after it
	defaultN int
	defaultK int
	spoolDir string          // the API's large send bodies (delivery/tmp)
	claims   *claimOnConnect // claims pooled shares from peers that connect

	nameMu   sync.Mutex
	username string // registered or kept; "" if none

	// ctx ends when the node closes; it bounds the name-keeping loops
	// (which the DHT runs and waits for in its Close).
	ctx    context.Context
	cancel context.CancelFunc

	closeOnce sync.Once
	closeErr  error
}

// New starts a node as o describes. ctx bounds only the construction.
// When New fails it has released everything it started.
func New(ctx context.Context, o Options) (_ *Node, err error) {
	if o.PrivKey == nil || o.PrivKey.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("%w: an Ed25519 identity key is required", ErrBadConfig)
	}
	if o.SealKey == nil || o.SealKey.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("%w: an X25519 seal key is required", ErrBadConfig)
	}
	mode, modeName := dht.ModeServer, "server"
	if o.Role != RoleBootstrap && o.DHTMode != "" {
		if mode, err = parseDHTMode(o.DHTMode); err != nil {
			return nil, err
		}
		modeName = o.DHTMode
	}

	n := &Node{
		role:      o.Role,
		priv:      o.PrivKey,
		seal:      o.SealKey,
		ddt:       ddtAddrOf(o.PrivKey.GetPublic()),
		bootstrap: slices.Clone(o.Bootstrap),
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			n.Close()
		}
	}()

	if n.h, err = newHost(&o); err != nil {
		return nil, err
	}
	n.authorities = slices.Clone(o.Authorities)
	if len(n.authorities) == 0 {
		n.authorities = DefaultAuthorities(o.Role, n.h.ID(), o.Bootstrap)
	}
	cfg := dht.Config{
		Mode:           mode,
		BootstrapPeers: n.bootstrap,
		Authorities:    n.authorities,
	}
	if o.Role == RoleBootstrap {
		if n.notary, err = bootstrap.NewNotary(n.h, o.NotaryDir); err != nil {
			return nil, fmt.Errorf("node: notary: %w", err)
		}
		// A bootstrap node that registers a name of its own asks its own
		// notary in-process.
		cfg.LocalNotary = n.notary
	}
	if n.dht, err = dht.New(ctx, n.h, cfg); err != nil {
		return nil, fmt.Errorf("node: dht: %w", err)
	}
	if o.Role != RoleBootstrap {
		udp := o.UDP
		if udp == "" {
			udp = DefaultUDP
		}
		if n.dp, err = startDataPlane(udp, n.rdtConfig()); err != nil {
			return nil, err
		}
	}
	// A bootstrap node serves the control protocol without a data plane:
	// it answers GET_CLIENT_INFO and refuses REGISTER_P2P_PORT.
	var dp control.DataPlane
	if n.dp != nil {
		dp = n.dp
	}
	if n.ctl, err = control.New(n.h, dp, nil); err != nil {
		return nil, fmt.Errorf("node: control: %w", err)
	}
	if o.Role != RoleBootstrap && o.FriendsDir != "" {
		if err := n.startFriends(o.FriendsDir); err != nil {
			return nil, err
		}
	}
	if o.Role != RoleBootstrap && o.DeliveryDir != "" {
		if err := n.startDelivery(o); err != nil {
			return nil, err
		}
	}
	log.Infow("node started", "role", o.Role, "peer", n.h.ID(), "ddt", n.ddt, "dht", modeName, "authorities", n.authorities)
	return n, nil
}

// Close stops the node: name keeping, the friend protocol, the delivery
// engine, the control
// protocol, the data plane, the DHT, the notary and finally the host. It
// is idempotent: later calls return the errors of the first.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.cancel()
		var errs []error
		if n.consent != nil {
			errs = append(errs, n.consent.Close())
		}
		// The engine uses the control protocol and the transport: it
		// stops first.
		if n.claims != nil {
			n.claims.stop(n)
		}
		if n.engine != nil {
			n.engineP.Store(nil)
			errs = append(errs, n.engine.Close())
		}
		if n.pool != nil {
			errs = append(errs, n.pool.Close())
		}
		if n.ctl != nil {
			errs = append(errs, n.ctl.Close())
		}
		if n.dp != nil {
			errs = append(errs, n.dp.close())
		}
		if n.dht != nil {
			errs = append(errs, n.dht.Close())
		}
		if n.notary != nil {
			errs = append(errs, n.notary.Close())
		}
		if n.h != nil {
			errs = append(errs, n.h.Close())
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// Bootstrap joins the network: it connects to the bootstrap nodes and
// fills the DHT's routing table.
func (n *Node) Bootstrap(ctx context.Context) error {
	if err := n.dht.Bootstrap(ctx); err != nil {
		return fmt.Errorf("node: join: %w", err)
	}
	return nil
}

// Role returns the node's role.
func (n *Node) Role() Role { return n.role }

// ID returns the node's peer ID.
func (n *Node) ID() peer.ID { return n.h.ID() }

// DDTAddr returns the node's DDT address.
func (n *Node) DDTAddr() protocol.DDTAddr { return n.ddt }

// SealPublicKey returns the node's X25519 seal public key (32 bytes).
func (n *Node) SealPublicKey() []byte { return n.seal.PublicKey().Bytes() }

// Host returns the libp2p host.
func (n *Node) Host() host.Host { return n.h }

// Control returns the node's control protocol service.
func (n *Node) Control() *control.Service { return n.ctl }

// DHT returns the node's DHT.
func (n *Node) DHT() *dht.DHT { return n.dht }

// Authorities returns the peer IDs whose majority countersigns names.
func (n *Node) Authorities() []peer.ID { return slices.Clone(n.authorities) }

// Addrs returns the node's full multiaddrs, each ending in /p2p/<peer ID>.
func (n *Node) Addrs() []ma.Multiaddr {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.h.ID(), Addrs: n.h.Addrs()})
	if err != nil {
		// Only fails for an empty peer ID, which a host never has.
		log.Errorw("node addresses", "err", err)
	}
	return addrs
}

// AddrInfo returns the node's peer ID and listen addresses.
func (n *Node) AddrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: n.h.ID(), Addrs: n.h.Addrs()}
}

// Transport returns the data plane's RDT transport, or nil on a
// bootstrap node.
func (n *Node) Transport() *rdt.Transport {
	if n.dp == nil {
		return nil
	}
	return n.dp.rdt
}

// UDPAddr returns the local address of the data plane's UDP socket, or
// nil on a bootstrap node.
func (n *Node) UDPAddr() net.Addr {
	if n.dp == nil {
		return nil
	}
	return n.dp.localAddr()
}

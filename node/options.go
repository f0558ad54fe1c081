package node

import (
	"crypto/ecdh"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/sharepool"
)

// Role is what a node does in the network.
type Role int

const (
	// RoleNode is an ordinary node: DHT, control protocol, data plane.
	RoleNode Role = iota
	// RoleBootstrap is a bootstrap node: DHT server and name notary, no
	// data plane.
	RoleBootstrap
)

// String returns "node" or "bootstrap".
func (r Role) String() string {
	if r == RoleBootstrap {
		return "bootstrap"
	}
	return "node"
}

// Options configure New. PrivKey and SealKey are required; zero values of
// the other fields mean the defaults documented on each field.
type Options struct {
	Role Role
	// PrivKey is the Ed25519 libp2p identity.
	PrivKey crypto.PrivKey
	// SealKey is the X25519 key senders seal key shares to.
	SealKey *ecdh.PrivateKey
	// Listen are the libp2p listen addresses; nil means DefaultListen.
	Listen []ma.Multiaddr
	// TCPOnly leaves the QUIC transport out (tests with many hosts).
	TCPOnly bool
	// Bootstrap are the network's bootstrap nodes.
	Bootstrap []peer.AddrInfo
	// Authorities set the network's authorities explicitly; nil means
	// DefaultAuthorities(Role, self, Bootstrap).
	Authorities []peer.ID
	// UDP is the data plane's UDP socket address; "" means DefaultUDP.
	// Bootstrap nodes have no data plane and ignore it.
	UDP string
	// DHTMode is the DHT's mode on ordinary nodes: "server", "client" or
	// "auto"; "" means "server" (see ParseDHTMode). Bootstrap nodes always
	// serve.
	DHTMode string
	// NotaryDir is where a bootstrap node persists its notary state; ""
	// keeps it in memory.
	NotaryDir string
	// FriendsDir is where an ordinary node keeps its friend store
	// (friends.json); "" runs the node without friend requests.
	// Bootstrap nodes ignore it.
	FriendsDir string
	// DeliveryDir is where an ordinary node's delivery engine keeps its
	// inbox (DeliveryDir/inbox); "" runs the node without the engine (it
	// then neither sends, relays nor receives messages). Bootstrap nodes
	// ignore it.
	DeliveryDir string
	// PoolLimits bound the share pool the node keeps, as a relay, for
	// offline receivers; zero fields mean sharepool's defaults, except
	// MaxShareLen, whose default here is 8 MiB.
	PoolLimits sharepool.Limits
	// DefaultN and DefaultK are the shares and threshold of a Send that
	// names none; 0 means DefaultN and DefaultK.
	DefaultN, DefaultK int
	// DialTimeout bounds a dial including the security handshake, for
	// every address; 0 keeps libp2p's defaults (15 s, 5 s for private and
	// loopback addresses). In-process networks on a busy machine raise it.
	DialTimeout time.Duration
	// ConnLow, ConnHigh and ConnGrace override the connection manager's
	// defaults for the role (see ConnLimitsFor).
	ConnLow, ConnHigh int
	ConnGrace         time.Duration
	// TrustedNets are networks whose hosts are exempt from the resource
	// manager's per-address connection limits, as loopback is (see
	// newResourceManager).
	TrustedNets []netip.Prefix
}

// DefaultAuthorities returns the authority set a node derives when none
// is configured: the peer IDs of its bootstrap nodes, and on a bootstrap
// node also its own peer ID. The result is sorted, so every node that
// knows the same bootstrap set derives the same list.
func DefaultAuthorities(role Role, self peer.ID, bootstrap []peer.AddrInfo) []peer.ID {
	var out []peer.ID
	for _, ai := range bootstrap {
		if ai.ID != self {
			out = append(out, ai.ID)
		}
	}
	if role == RoleBootstrap {
		out = append(out, self)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ParseDHTMode parses "server", "client" or "auto"; "" means "server".
// Ordinary VMDT nodes relay shares for each other and must be reachable
// anyway, so by default they also serve the DHT; a node behind a NAT that
// cannot be reached should run "client".
func ParseDHTMode(s string) (dht.Mode, error) { return parseDHTMode(s) }

func parseDHTMode(s string) (dht.Mode, error) {
	switch s {
	case "", "server":
		return dht.ModeServer, nil
	case "client":
		return dht.ModeClient, nil
	case "auto":
		return dht.ModeAuto, nil
	}
	return 0, fmt.Errorf("%w: dht mode %q, want server, client or auto", ErrBadConfig, s)
}

// OptionsFromRepo builds Options for role from the repository's keys and
// cfg (the repository's configuration with any command-line overrides
// applied).
func OptionsFromRepo(r *Repo, cfg Config, role Role) (Options, error) {
	if err := cfg.Validate(); err != nil {
		return Options{}, err
	}
	listen := cfg.Listen
	if len(listen) == 0 {
		listen = DefaultListen
	}
	laddrs, err := parseMultiaddrs(listen)
	if err != nil {
		return Options{}, fmt.Errorf("%w: listen: %v", ErrBadConfig, err)
	}
	boot, err := ParseBootstrapAddrs(cfg.Bootstrap)
	if err != nil {
		return Options{}, err
	}
	auth, err := ParseAuthorities(cfg.Authorities)
	if err != nil {
		return Options{}, err
	}
	trusted, err := parseTrustedNets(cfg.Limits.TrustedNets)
	if err != nil {
		return Options{}, err
	}
	o := Options{
		Role:        role,
		PrivKey:     r.PrivKey(),
		SealKey:     r.SealKey(),
		Listen:      laddrs,
		Bootstrap:   boot,
		Authorities: auth,
		UDP:         cfg.UDP,
		DHTMode:     cfg.DHTMode,
		ConnLow:     cfg.Limits.ConnLow,
		ConnHigh:    cfg.Limits.ConnHigh,
		ConnGrace:   time.Duration(cfg.Limits.ConnGrace),
		TrustedNets: trusted,
	}
	if role == RoleBootstrap {
		o.NotaryDir = r.NotaryDir()
	} else {
		o.FriendsDir = r.Dir()
		o.DeliveryDir = filepath.Join(r.Dir(), deliveryDir)
		o.DefaultN, o.DefaultK = cfg.DefaultN, cfg.DefaultK
		sp := cfg.SharePool
		o.PoolLimits = sharepool.Limits{PerRecipient: sp.PerRecipient, PerSender: sp.PerSender, Total: sp.Total,
			MaxShareLen: sp.MaxShareLen, TTL: time.Duration(sp.TTL)}
	}
	return o, nil
}

package node

import (
	"maps"
	"math"
	"net/netip"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/x/rate"

	"github.com/vmdt/vmdt/node/consent"
	"github.com/vmdt/vmdt/node/control"
)

// Protocol IDs the resource manager limits explicitly.
const (
	// kadProtocol is the DHT's protocol: kad-dht's "/kad/1.0.0" under
	// the "/vmdt" prefix that package dht uses.
	kadProtocol protocol.ID = "/vmdt/kad/1.0.0"
	// notaryProtocol is the bootstrap notary's countersigning protocol.
	notaryProtocol protocol.ID = "/vmdt/notary/1.0.0"
	// ctlProtocol is the control protocol (control.ProtocolID).
	ctlProtocol protocol.ID = control.ProtocolID
	// friendProtocol is the friend handshake (consent.ProtocolID).
	friendProtocol protocol.ID = consent.ProtocolID
	// ctlService is the resource manager service the control protocol's
	// streams join.
	ctlService = "vmdt.control"
)

// ConnLimits are a connection manager's water marks.
type ConnLimits struct {
	Low, High int
	Grace     time.Duration
}

// ConnLimitsFor returns the default connection manager limits of role.
//
// An ordinary node keeps up to 96 connections and trims to 48. Kademlia
// does not need a live connection per routing-table entry (kad-dht dials
// on demand from the peerstore), so 48 covers the DHT peers a lookup
// touches repeatedly, the relays of the node's own messages (n = 5 by
// default, at most 255 but then rare) and control sessions, while keeping
// an idle node small. New connections are safe from trimming for 30 s,
// long enough for a DHT query or a control handshake to finish.
//
// A bootstrap node is the first contact of every joining node, so it
// keeps four times as many (192..384) and trims sooner (20 s grace): a
// joiner needs it only until its own routing table is filled.
func ConnLimitsFor(role Role) ConnLimits {
	if role == RoleBootstrap {
		return ConnLimits{Low: 192, High: 384, Grace: 20 * time.Second}
	}
	return ConnLimits{Low: 48, High: 96, Grace: 30 * time.Second}
}

// connLimits applies the overrides of o to the defaults of its role.
func connLimits(o *Options) ConnLimits {
	l := ConnLimitsFor(o.Role)
	if o.ConnLow > 0 {
		l.Low = o.ConnLow
	}
	if o.ConnHigh > 0 {
		l.High = o.ConnHigh
	}
	if l.Low > l.High {
		l.Low = l.High
	}
	if o.ConnGrace > 0 {
		l.Grace = o.ConnGrace
	}
	return l
}

// newConnManager builds the connection manager for l.
func newConnManager(l ConnLimits) (*connmgr.BasicConnMgr, error) {
	return connmgr.NewConnManager(l.Low, l.High, connmgr.WithGracePeriod(l.Grace))
}

// resourceLimits returns the resource manager's limits: libp2p's defaults
// scaled to this machine (1/8 of its memory, half its file descriptors)
// with libp2p's limits for its own services, plus explicit limits for
// VMDT's protocols:
//
//   - /vmdt/kad/1.0.0 (DHT): kad-dht reuses one stream per remote peer for
//     its requests and queries at most 10 peers at once (alpha), so a peer
//     needs few streams: 16 each way per peer leaves room for concurrent
//     lookups without letting one peer hold hundreds. In total 512 inbound
//     streams (+256 per GiB of the scaled memory) serve a bootstrap node
//     that every joiner queries.
//   - /vmdt/ctl/1.0.0 (control): a control exchange is a few text lines on
//     a short-lived stream; 8 concurrent streams per peer and direction
//     cover a data-plane handshake plus cluster operations (the service
//     itself serves at most 4 per peer), 256 inbound in total (+128 per
//     GiB); the same for its resource manager service "vmdt.control".
//   - /vmdt/notary/1.0.0 (name countersigning, bootstrap nodes only): one
//     short stream per claim; 4 per peer, 256 inbound in total (+128 per
//     GiB).
//   - /vmdt/friend/1.0.0 (friend handshake): one short stream per request,
//     response or token, a handful per friendship; 4 per peer and
//     direction, 64 inbound in total (+32 per GiB). The service itself
//     also serves at most 64 at once and rate-limits each peer.
//
// Each protocol may reserve little memory (its messages are small; stream
// buffers are accounted to connections): 8 MiB per peer for the DHT, 1 MiB
// for the others.
//
// The system-wide connection limits are raised, if needed, to 1.5 times
// the connection manager's high water mark, so the connection manager and
// not the resource manager decides which connections go.
func resourceLimits(connHigh int) rcmgr.ConcreteLimitConfig {
	cfg := rcmgr.DefaultLimits
	cfg.ServiceLimits = maps.Clone(cfg.ServiceLimits)
	cfg.ServicePeerLimits = maps.Clone(cfg.ServicePeerLimits)
	cfg.ProtocolLimits = maps.Clone(cfg.ProtocolLimits)
	cfg.ProtocolPeerLimits = maps.Clone(cfg.ProtocolPeerLimits)
	cfg.PeerLimits = maps.Clone(cfg.PeerLimits)
	libp2p.SetDefaultServiceLimits(&cfg)

	cfg.AddProtocolLimit(kadProtocol,
		rcmgr.BaseLimit{StreamsInbound: 512, StreamsOutbound: 512, Streams: 1024, Memory: 64 << 20},
		rcmgr.BaseLimitIncrease{StreamsInbound: 256, StreamsOutbound: 256, Streams: 512, Memory: 64 << 20})
	cfg.AddProtocolPeerLimit(kadProtocol,
		rcmgr.BaseLimit{StreamsInbound: 16, StreamsOutbound: 16, Streams: 32, Memory: 8 << 20},
		rcmgr.BaseLimitIncrease{})

	for _, p := range []protocol.ID{ctlProtocol, notaryProtocol} {
		cfg.AddProtocolLimit(p,
			rcmgr.BaseLimit{StreamsInbound: 256, StreamsOutbound: 256, Streams: 512, Memory: 16 << 20},
			rcmgr.BaseLimitIncrease{StreamsInbound: 128, StreamsOutbound: 128, Streams: 256, Memory: 16 << 20})
	}
	cfg.AddProtocolPeerLimit(ctlProtocol,
		rcmgr.BaseLimit{StreamsInbound: 8, StreamsOutbound: 8, Streams: 16, Memory: 1 << 20},
		rcmgr.BaseLimitIncrease{})
	// The control service's own streams (outbound exchanges included)
	// get the same budget as its protocol.
	cfg.AddServiceLimit(ctlService,
		rcmgr.BaseLimit{StreamsInbound: 256, StreamsOutbound: 256, Streams: 512, Memory: 16 << 20},
		rcmgr.BaseLimitIncrease{StreamsInbound: 128, StreamsOutbound: 128, Streams: 256, Memory: 16 << 20})
	cfg.AddServicePeerLimit(ctlService,
		rcmgr.BaseLimit{StreamsInbound: 8, StreamsOutbound: 8, Streams: 16, Memory: 1 << 20},
		rcmgr.BaseLimitIncrease{})
	cfg.AddProtocolLimit(friendProtocol,
		rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20},
		rcmgr.BaseLimitIncrease{StreamsInbound: 32, StreamsOutbound: 32, Streams: 64, Memory: 4 << 20})
	cfg.AddProtocolPeerLimit(friendProtocol,
		rcmgr.BaseLimit{StreamsInbound: 4, StreamsOutbound: 4, Streams: 8, Memory: 256 << 10},
		rcmgr.BaseLimitIncrease{})
	cfg.AddProtocolPeerLimit(notaryProtocol,
		rcmgr.BaseLimit{StreamsInbound: 4, StreamsOutbound: 4, Streams: 8, Memory: 1 << 20},
		rcmgr.BaseLimitIncrease{})

	scaled := cfg.AutoScale()
	sys := scaled.ToPartialLimitConfig().System
	want := connHigh + connHigh/2
	var raise rcmgr.PartialLimitConfig
	if below(sys.ConnsInbound, want) {
		raise.System.ConnsInbound = rcmgr.LimitVal(want)
	}
	if below(sys.Conns, want) {
		raise.System.Conns = rcmgr.LimitVal(want)
	}
	return raise.Build(scaled)
}

// newResourceManager builds the resource manager for connection
// manager limits l. Hosts in trusted networks are exempt from its limits
// per remote address (see trustedNetOptions).
func newResourceManager(l ConnLimits, trusted []netip.Prefix) (network.ResourceManager, error) {
	opts := append([]rcmgr.Option{rcmgr.WithMetricsDisabled()}, trustedNetOptions(trusted)...)
	return rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(resourceLimits(l.High)), opts...)
}

// Per-address connection limits.
//
// libp2p's resource manager limits, per remote IPv4 address (IPv6 /56 and
// /48), how many connections may be open at once (8) and how fast new
// ones may be opened in either direction: a token bucket of 16 refilled at
// 0.2 per second. Loopback is exempt. Across the internet that is a fair
// defence against one host flooding a node. Inside a network the operator
// controls (a cluster, a test bed, a LAN behind one NAT) it is not: a node
// that restarts a few dozen times in a minute, or many nodes behind one
// address, drain the bucket, and the peer then refuses every new
// connection from that address for a while ("rate limit exceeded";
// QUIC answers CONNECTION_REFUSED), so sends find the receiver
// unreachable. Config.Limits.TrustedNets (--trusted-net) lists networks
// whose hosts are exempt from both limits, as loopback is; the limits
// per peer and in total still apply.

// Per-address limits of libp2p's resource manager (rcmgr's defaults,
// which it does not export), kept for addresses outside trusted networks.
var (
	connRateV4 = []rate.SubnetLimit{{PrefixLength: 32, Limit: rate.Limit{RPS: 0.2, Burst: 16}}}
	connRateV6 = []rate.SubnetLimit{
		{PrefixLength: 56, Limit: rate.Limit{RPS: 0.2, Burst: 16}},
		{PrefixLength: 48, Limit: rate.Limit{RPS: 0.5, Burst: 80}},
	}
)

// trustedNetOptions returns the resource manager options that exempt
// trusted (and loopback) networks from the per-address limits; none if
// trusted is empty, which keeps libp2p's own.
func trustedNetOptions(trusted []netip.Prefix) []rcmgr.Option {
	if len(trusted) == 0 {
		return nil
	}
	exempt := append([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, trusted...)
	var v4, v6 []rcmgr.NetworkPrefixLimit
	var unlimited []rate.PrefixLimit
	for _, p := range exempt {
		p = p.Masked()
		unlimited = append(unlimited, rate.PrefixLimit{Prefix: p}) // a zero Limit is no limit
		if p.Addr().Is4() {
			v4 = append(v4, rcmgr.NetworkPrefixLimit{Network: p, ConnCount: math.MaxInt})
		} else {
			v6 = append(v6, rcmgr.NetworkPrefixLimit{Network: p, ConnCount: math.MaxInt})
		}
	}
	return []rcmgr.Option{
		rcmgr.WithNetworkPrefixLimit(v4, v6),
		rcmgr.WithConnRateLimiters(&rate.Limiter{
			NetworkPrefixLimits: unlimited,
			SubnetRateLimiter: rate.SubnetLimiter{
				IPv4SubnetLimits: connRateV4,
				IPv6SubnetLimits: connRateV6,
				GracePeriod:      time.Minute,
			},
		}),
	}
}

// below reports whether v is a finite limit smaller than want.
func below(v rcmgr.LimitVal, want int) bool { return v > 0 && int(v) < want }

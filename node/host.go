package node

import (
	"fmt"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// userAgent is what identify tells peers this node runs.
const userAgent = "vmdt/0.1"

// newHost builds the libp2p host of o. Every option that could reach
// outside the configured network is explicit: TCP and QUIC only (no
// WebSocket, WebTransport or WebRTC), Noise and TLS, yamux, no relay
// client or service, no NAT port mapping, no hole punching, no AutoNAT
// service, no metrics registry, and no bootstrap peers of its own (the
// DHT dials only o.Bootstrap).
func newHost(o *Options) (host.Host, error) {
	cl := connLimits(o)
	cm, err := newConnManager(cl)
	if err != nil {
		return nil, fmt.Errorf("node: connection manager: %w", err)
	}
	rm, err := newResourceManager(cl, o.TrustedNets)
	if err != nil {
		cm.Close()
		return nil, fmt.Errorf("node: resource manager: %w", err)
	}
	transports := libp2p.Transport(tcp.NewTCPTransport)
	if !o.TCPOnly {
		transports = libp2p.ChainOptions(transports, libp2p.Transport(quic.NewTransport))
	}
	listen := o.Listen
	if len(listen) == 0 {
		listen, err = parseMultiaddrs(DefaultListen)
		if err != nil {
			rm.Close()
			cm.Close()
			return nil, err
		}
	}
	var dial libp2p.Option = libp2p.ChainOptions()
	if o.DialTimeout > 0 {
		dial = libp2p.ChainOptions(
			libp2p.WithDialTimeout(o.DialTimeout),
			libp2p.SwarmOpts(swarm.WithDialTimeoutLocal(o.DialTimeout)))
	}
	// libp2p.New releases cm and rm itself when it fails.
	h, err := libp2p.New(
		dial,
		libp2p.Identity(o.PrivKey),
		libp2p.ListenAddrs(listen...),
		transports,
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(tls.ID, tls.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.UserAgent(userAgent),
		libp2p.Ping(true),
	)
	if err != nil {
		return nil, fmt.Errorf("node: libp2p host: %w", err)
	}
	return h, nil
}

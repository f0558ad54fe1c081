package main

import "github.com/vmdt/vmdt/node"

// netFlags are the flags that configure a node's network.
type netFlags struct {
	listen, bootstrap, authority, trusted stringList
	udp, dhtMode                          string
}

// addNetFlags adds the network flags to f; ordinary nodes (withDataPlane)
// also get --udp and --dht-mode.
func addNetFlags(f *cmdFlags, withDataPlane bool) *netFlags {
	n := &netFlags{}
	f.Var(&n.listen, "listen", "libp2p listen multiaddr; repeat for more (default: loopback TCP and QUIC, any port)")
	f.Var(&n.bootstrap, "bootstrap", "bootstrap node multiaddr ending in /p2p/<peer ID>; repeat for more")
	f.Var(&n.authority, "authority", "peer ID of a name authority; repeat for more (default: the bootstrap nodes' peer IDs, plus itself on a bootstrap node)")
	f.Var(&n.trusted, "trusted-net", "CIDR prefix whose hosts are exempt from libp2p's per-address connection limits, as loopback is; repeat for more (for networks you control)")
	if withDataPlane {
		f.StringVar(&n.udp, "udp", "", "host:port of the data plane's UDP socket (default "+node.DefaultUDP+")")
		f.StringVar(&n.dhtMode, "dht-mode", "", "DHT mode: server, client or auto (default server)")
	}
	return n
}

// apply overrides cfg with the flags that were given.
func (n *netFlags) apply(cfg *node.Config) {
	if len(n.listen) > 0 {
		cfg.Listen = n.listen
	}
	if len(n.bootstrap) > 0 {
		cfg.Bootstrap = n.bootstrap
	}
	if len(n.authority) > 0 {
		cfg.Authorities = n.authority
	}
	if len(n.trusted) > 0 {
		cfg.Limits.TrustedNets = n.trusted
	}
	if n.udp != "" {
		cfg.UDP = n.udp
	}
	if n.dhtMode != "" {
		cfg.DHTMode = n.dhtMode
	}
}

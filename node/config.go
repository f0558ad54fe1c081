package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Config is a repository's config.json. Zero or missing fields take the
// defaults of DefaultConfig when a node starts (see Options).
type Config struct {
	// Listen are the libp2p listen multiaddrs.
	Listen []string `json:"listen"`
	// Bootstrap are the multiaddrs, with /p2p/<peer ID>, of the network's
	// bootstrap nodes.
	Bootstrap []string `json:"bootstrap"`
	// Authorities are the peer IDs whose majority countersigns usernames.
	// Empty means: the peer IDs of Bootstrap (and the node itself on a
	// bootstrap node).
	Authorities []string `json:"authorities,omitempty"`
	// UDP is the host:port of the data plane's UDP socket.
	UDP string `json:"udp"`
	// DHTMode is "server", "client" or "auto"; empty means "server".
	DHTMode string `json:"dht_mode,omitempty"`
	// DefaultN and DefaultK are the default number of shares and the
	// threshold for messages this node sends.
	DefaultN int `json:"default_n"`
	DefaultK int `json:"default_k"`
	// Limits bound the node's connections.
	Limits Limits `json:"limits"`
	// SharePool bounds what this node holds, as a relay, for receivers
	// that are offline. Zero values mean the defaults of package
	// sharepool (64 MiB per recipient, 16 MiB per sender, 1 GiB in all,
	// shares of at most 8 MiB, kept 7 days).
	SharePool SharePoolLimits `json:"share_pool,omitzero"`
}

// SharePoolLimits are the share pool's limits in config.json.
type SharePoolLimits struct {
	PerRecipient int64    `json:"per_recipient,omitempty"` // bytes held for one receiver
	PerSender    int64    `json:"per_sender,omitempty"`    // bytes held from one sender
	Total        int64    `json:"total,omitempty"`         // bytes held in all
	MaxShareLen  int      `json:"max_share_len,omitempty"` // bytes of the largest share held
	TTL          Duration `json:"ttl,omitempty"`           // how long a share is held
}

// validate checks that no limit is negative.
func (l SharePoolLimits) validate() error {
	if l.PerRecipient < 0 || l.PerSender < 0 || l.Total < 0 || l.MaxShareLen < 0 || l.TTL < 0 {
		return fmt.Errorf("%w: share_pool: limits must not be negative", ErrBadConfig)
	}
	return nil
}

// Limits are the connection manager's watermarks. Zero values mean the
// defaults of the node's role (see ConnLimitsFor).
type Limits struct {
	// ConnLow and ConnHigh are the connection manager's low and high water
	// marks: above ConnHigh connections it trims down to ConnLow.
	ConnLow  int `json:"conn_low,omitempty"`
	ConnHigh int `json:"conn_high,omitempty"`
	// ConnGrace protects new connections from trimming for this long.
	ConnGrace Duration `json:"conn_grace,omitempty"`
	// TrustedNets are CIDR prefixes ("10.0.0.0/8") whose hosts are
	// exempt, as loopback is, from libp2p's limits per remote address: at
	// most 8 connections at once and new ones at 0.2 per second after a
	// burst of 16. For networks the operator controls, such as a cluster
	// or a test bed whose nodes restart often.
	TrustedNets []string `json:"trusted_nets,omitempty"`
}

// parseTrustedNets parses CIDR prefixes.
func parseTrustedNets(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%w: trusted_nets: %v", ErrBadConfig, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Duration is a time.Duration that reads and writes JSON as "20s".
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%w: duration %q: %v", ErrBadConfig, b, err)
	}
	*d = Duration(v)
	return nil
}

// Default data-plane parameters.
const (
	DefaultN = 5
	DefaultK = 3
	// DefaultUDP is the default data-plane socket: loopback, any port.
	// Reaching other hosts needs an explicit --udp 0.0.0.0:PORT.
	DefaultUDP = "127.0.0.1:0"
)

// DefaultListen are the default libp2p listen addresses: loopback only,
// TCP and QUIC, any port. A node meant for other hosts sets --listen.
var DefaultListen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}

// DefaultConfig returns the configuration vmdt init writes.
func DefaultConfig() Config {
	return Config{
		Listen:    append([]string(nil), DefaultListen...),
		Bootstrap: []string{},
		UDP:       DefaultUDP,
		DHTMode:   "server",
		DefaultN:  DefaultN,
		DefaultK:  DefaultK,
	}
}

// maxConfigFile bounds config.json.
const maxConfigFile = 1 << 20

// ParseConfig decodes and validates config.json. Unknown fields are
// rejected, so a misspelt key is an error rather than silently ignored.
func ParseConfig(b []byte) (Config, error) {
	if len(b) > maxConfigFile {
		return Config{}, fmt.Errorf("%w: config is %d bytes, at most %d", ErrBadConfig, len(b), maxConfigFile)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%w: config.json: %v", ErrBadConfig, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Config{}, fmt.Errorf("%w: config.json: data after the object", ErrBadConfig)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Marshal encodes c as indented JSON.
func (c Config) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("node: marshal config: %w", err)
	}
	return append(b, '\n'), nil
}

// Validate checks every field; errors wrap ErrBadConfig.
func (c Config) Validate() error {
	if _, err := parseMultiaddrs(c.Listen); err != nil {
		return fmt.Errorf("%w: listen: %v", ErrBadConfig, err)
	}
	if _, err := ParseBootstrapAddrs(c.Bootstrap); err != nil {
		return err
	}
	if _, err := ParseAuthorities(c.Authorities); err != nil {
		return err
	}
	if c.UDP != "" {
		if _, _, err := net.SplitHostPort(c.UDP); err != nil {
			return fmt.Errorf("%w: udp %q: %v", ErrBadConfig, c.UDP, err)
		}
	}
	if err := c.SharePool.validate(); err != nil {
		return err
	}
	if _, err := parseDHTMode(c.DHTMode); err != nil {
		return err
	}
	if c.DefaultN != 0 || c.DefaultK != 0 {
		if c.DefaultN < 2 || c.DefaultN > 255 || c.DefaultK < 2 || c.DefaultK > c.DefaultN {
			return fmt.Errorf("%w: default_n=%d default_k=%d, want 2 <= k <= n <= 255", ErrBadConfig, c.DefaultN, c.DefaultK)
		}
	}
	l := c.Limits
	if l.ConnLow < 0 || l.ConnHigh < 0 || l.ConnGrace < 0 {
		return fmt.Errorf("%w: negative limit", ErrBadConfig)
	}
	if l.ConnHigh != 0 && l.ConnLow > l.ConnHigh {
		return fmt.Errorf("%w: conn_low %d above conn_high %d", ErrBadConfig, l.ConnLow, l.ConnHigh)
	}
	if _, err := parseTrustedNets(l.TrustedNets); err != nil {
		return err
	}
	return nil
}

// parseMultiaddrs parses multiaddr strings.
func parseMultiaddrs(ss []string) ([]ma.Multiaddr, error) {
	out := make([]ma.Multiaddr, 0, len(ss))
	for _, s := range ss {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// ParseBootstrapAddrs parses bootstrap multiaddrs, each ending in
// /p2p/<peer ID>, and merges addresses of the same peer, keeping the order
// in which peers first appear.
func ParseBootstrapAddrs(ss []string) ([]peer.AddrInfo, error) {
	addrs, err := parseMultiaddrs(ss)
	if err != nil {
		return nil, fmt.Errorf("%w: bootstrap: %v", ErrBadConfig, err)
	}
	var infos []peer.AddrInfo
	index := make(map[peer.ID]int)
	for i, a := range addrs {
		transport, id := peer.SplitAddr(a)
		if id == "" {
			return nil, fmt.Errorf("%w: bootstrap %q: must end in /p2p/<peer ID>", ErrBadConfig, ss[i])
		}
		j, ok := index[id]
		if !ok {
			j = len(infos)
			index[id] = j
			infos = append(infos, peer.AddrInfo{ID: id})
		}
		if transport != nil {
			infos[j].Addrs = append(infos[j].Addrs, transport)
		}
	}
	return infos, nil
}

// ParseAuthorities parses peer IDs.
func ParseAuthorities(ss []string) ([]peer.ID, error) {
	out := make([]peer.ID, 0, len(ss))
	for _, s := range ss {
		id, err := peer.Decode(s)
		if err != nil {
			return nil, fmt.Errorf("%w: authority %q: %v", ErrBadConfig, s, err)
		}
		out = append(out, id)
	}
	return out, nil
}

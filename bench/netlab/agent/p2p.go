package agent

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// xferProtocol carries one framed message per stream.
const xferProtocol = "/netlab/xfer/1.0.0"

// P2PSettings describes the libp2p configuration for reports.
const P2PSettings = "go-libp2p v0.51.0 defaults (TCP: TLS 1.3 or Noise negotiated, yamux, 5 s TCP connect timeout; QUIC: quic-v1), one stream per message, no relay, no resource limits; TCP sender sockets use CUBIC"

func p2pHost(kind string, listen []string) (host.Host, error) {
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	opts := []libp2p.Option{
		libp2p.Identity(priv),
		libp2p.DisableRelay(),
		libp2p.Ping(false),
		libp2p.DisableMetrics(),
		libp2p.DisableIdentifyAddressDiscovery(),
		libp2p.ResourceManager(&network.NullResourceManager{}),
		libp2p.UDPBlackHoleSuccessCounter(nil),
		libp2p.IPv6BlackHoleSuccessCounter(nil),
	}
	if len(listen) == 0 {
		opts = append(opts, libp2p.NoListenAddrs)
	} else {
		opts = append(opts, libp2p.ListenAddrStrings(listen...))
	}
	switch kind {
	case "libp2p-tcp":
		dialer := &net.Dialer{Control: ccControl("cubic")}
		opts = append(opts, libp2p.Transport(tcp.NewTCPTransport, tcp.WithDialerForAddr(func(ma.Multiaddr) (tcp.ContextDialer, error) {
			return dialer, nil
		})))
	case "libp2p-quic":
		opts = append(opts, libp2p.Transport(libp2pquic.NewTransport))
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownKind, kind)
	}
	return libp2p.New(opts...)
}

type p2pReceiver struct {
	h    host.Host
	addr string
	wg   sync.WaitGroup
}

func listenP2P(kind, listen string, report func(message)) (receiver, error) {
	ap, err := netip.ParseAddrPort(listen)
	if err != nil || !ap.Addr().Is4() {
		return nil, fmt.Errorf("listen address %q: want ipv4:port", listen)
	}
	maddr := fmt.Sprintf("/ip4/%s/tcp/%d", ap.Addr(), ap.Port())
	if kind == "libp2p-quic" {
		maddr = fmt.Sprintf("/ip4/%s/udp/%d/quic-v1", ap.Addr(), ap.Port())
	}
	h, err := p2pHost(kind, []string{maddr})
	if err != nil {
		return nil, err
	}
	if len(h.Addrs()) == 0 {
		h.Close()
		return nil, errors.New("libp2p host has no listen address")
	}
	r := &p2pReceiver{h: h, addr: fmt.Sprintf("%s/p2p/%s", h.Addrs()[0], h.ID())}
	h.SetStreamHandler(xferProtocol, func(s network.Stream) {
		r.wg.Add(1)
		defer r.wg.Done()
		buf := make([]byte, 256<<10)
		m, err := readMessage(s, buf)
		if err != nil {
			_ = s.Reset()
			return
		}
		report(m)
		_ = s.Close()
	})
	return r, nil
}

func (r *p2pReceiver) Addr() string { return r.addr }
func (r *p2pReceiver) Info() string { return P2PSettings }
func (r *p2pReceiver) Close() error {
	r.h.RemoveStreamHandler(xferProtocol)
	err := r.h.Close()
	r.wg.Wait()
	return err
}

type p2pSender struct {
	h    host.Host
	peer peer.AddrInfo
}

func newP2PSender(kind, target string) (*p2pSender, error) {
	info, err := peer.AddrInfoFromString(target)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", target, err)
	}
	h, err := p2pHost(kind, nil)
	if err != nil {
		return nil, err
	}
	return &p2pSender{h: h, peer: *info}, nil
}

func (p *p2pSender) Connected() bool {
	return p.h.Network().Connectedness(p.peer.ID) == network.Connected
}

func (p *p2pSender) Connect(ctx context.Context) error { return p.h.Connect(ctx, p.peer) }

func (p *p2pSender) Disconnect() error {
	return p.h.Network().ClosePeer(p.peer.ID)
}

func (p *p2pSender) Send(ctx context.Context, id uint64, data []byte) error {
	s, err := p.h.NewStream(ctx, p.peer.ID, xferProtocol)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	if err := writeMessage(s, id, data); err != nil {
		_ = s.Reset()
		return err
	}
	return s.CloseWrite()
}

func (p *p2pSender) Info() string { return P2PSettings }
func (p *p2pSender) Close() error { return p.h.Close() }

package agent

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"errors"
	"net"

	kcp "github.com/xtaci/kcp-go/v5"
)

// KCP settings: kcptun's defaults (server side, which has the larger
// windows) with its default "fast" mode, raw KCP streams without smux or
// compression.
const (
	kcpDataShards   = 10
	kcpParityShards = 3
	kcpMTU          = 1350
	kcpSndWnd       = 1024
	kcpRcvWnd       = 1024
	kcpNoDelay      = 0 // "fast": nodelay=0, interval=30ms, resend=2, nc=1
	kcpInterval     = 30
	kcpResend       = 2
	kcpNoCongestion = 1
	kcpSockBuf      = 4 << 20
	kcpKey          = "it's a secrect" // kcptun's default key (sic)
	kcpSalt         = "kcp-go"
)

// KCPSettings describes the KCP configuration for reports.
const KCPSettings = "kcp-go v5.6.24, kcptun defaults: AES-256 (pbkdf2-sha1 key), FEC 10 data + 3 parity shards, mode fast (nodelay=0 interval=30ms resend=2 nc=1), mtu 1350, sndwnd=rcvwnd=1024, ack nodelay off, stream mode, no smux, no compression"

func kcpBlock() (kcp.BlockCrypt, error) {
	key, err := pbkdf2.Key(sha1.New, kcpKey, []byte(kcpSalt), 4096, 32)
	if err != nil {
		return nil, err
	}
	return kcp.NewAESBlockCrypt(key)
}

func tuneKCP(s *kcp.UDPSession) {
	s.SetStreamMode(true)
	s.SetWriteDelay(false)
	s.SetNoDelay(kcpNoDelay, kcpInterval, kcpResend, kcpNoCongestion)
	s.SetWindowSize(kcpSndWnd, kcpRcvWnd)
	s.SetMtu(kcpMTU)
	s.SetACKNoDelay(false)
}

// kcpListener adapts a kcp.Listener so that accepted sessions are tuned.
type kcpListener struct{ *kcp.Listener }

func (l kcpListener) Accept() (net.Conn, error) {
	s, err := l.AcceptKCP()
	if err != nil {
		return nil, err
	}
	tuneKCP(s)
	return s, nil
}

func listenKCP(addr string, report func(message)) (receiver, error) {
	block, err := kcpBlock()
	if err != nil {
		return nil, err
	}
	l, err := kcp.ListenWithOptions(addr, block, kcpDataShards, kcpParityShards)
	if err != nil {
		return nil, err
	}
	_ = l.SetReadBuffer(kcpSockBuf)
	_ = l.SetWriteBuffer(kcpSockBuf)
	return serveStreams(kcpListener{l}, KCPSettings, report), nil
}

type kcpSender struct {
	target string
	block  kcp.BlockCrypt
	sess   *kcp.UDPSession
}

func newKCPSender(target string) (*kcpSender, error) {
	block, err := kcpBlock()
	if err != nil {
		return nil, err
	}
	return &kcpSender{target: target, block: block}, nil
}

func (k *kcpSender) Connected() bool { return k.sess != nil }

// Connect creates a new KCP session. KCP has no handshake: the session
// exists at the receiver once its first packet arrives.
func (k *kcpSender) Connect(context.Context) error {
	if k.sess != nil {
		return errors.New("already connected")
	}
	s, err := kcp.DialWithOptions(k.target, k.block, kcpDataShards, kcpParityShards)
	if err != nil {
		return err
	}
	tuneKCP(s)
	_ = s.SetReadBuffer(kcpSockBuf)
	_ = s.SetWriteBuffer(kcpSockBuf)
	k.sess = s
	return nil
}

func (k *kcpSender) Disconnect() error {
	if k.sess == nil {
		return nil
	}
	err := k.sess.Close()
	k.sess = nil
	return err
}

func (k *kcpSender) Send(ctx context.Context, id uint64, data []byte) error {
	if k.sess == nil {
		return net.ErrClosed
	}
	s := k.sess
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	return writeMessage(s, id, data)
}

func (k *kcpSender) Info() string { return KCPSettings }
func (k *kcpSender) Close() error { return k.Disconnect() }

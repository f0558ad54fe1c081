package control

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// fakeDataPlane records AddPeer calls.
type fakeDataPlane struct {
	port int

	mu    sync.Mutex
	err   error // returned by AddPeer when set
	peers []addedPeer
}

type addedPeer struct {
	addr      string
	keyID     uint32
	key       [32]byte
	initiator bool
}

func (d *fakeDataPlane) UDPPort() int { return d.port }

func (d *fakeDataPlane) AddPeer(addr net.Addr, keyID uint32, key [32]byte, initiator bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	d.peers = append(d.peers, addedPeer{addr: addr.String(), keyID: keyID, key: key, initiator: initiator})
	return nil
}

func (d *fakeDataPlane) added() []addedPeer {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]addedPeer(nil), d.peers...)
}

// node is a real libp2p host on loopback TCP with a Service.
type node struct {
	h  host.Host
	s  *Service
	dp *fakeDataPlane
}

func (n *node) addr(t testing.TB) protocol.DDTAddr {
	t.Helper()
	a, err := ddtAddrOf(n.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// newHost starts a libp2p host on 127.0.0.1. seed, if not zero, fixes its
// identity.
func newHost(t testing.TB, seed byte) host.Host {
	t.Helper()
	opts := []libp2p.Option{
		libp2p.NoTransports,
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.DisableRelay(),
	}
	if seed != 0 {
		priv, _, err := crypto.GenerateEd25519Key(bytes.NewReader(bytes.Repeat([]byte{seed}, 64)))
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, libp2p.Identity(priv))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// newNode starts a host and a Service with a fake data plane on port
// udpPort (0 = no data plane).
func newNode(t testing.TB, udpPort int, cfg *Config) *node {
	t.Helper()
	return newNodeSeed(t, 0, udpPort, cfg)
}

func newNodeSeed(t testing.TB, seed byte, udpPort int, cfg *Config) *node {
	t.Helper()
	h := newHost(t, seed)
	n := &node{h: h}
	var dp DataPlane
	if udpPort != 0 {
		n.dp = &fakeDataPlane{port: udpPort}
		dp = n.dp
	}
	s, err := New(h, dp, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	n.s = s
	return n
}

func connect(t testing.TB, a, b host.Host) {
	t.Helper()
	if err := a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rawStream is a control stream driven line by line by a test.
type rawStream struct {
	t  testing.TB
	st network.Stream
	r  *bufio.Reader
}

func openRaw(t testing.TB, from, to host.Host) *rawStream {
	t.Helper()
	st, err := from.NewStream(testCtx(t), to.ID(), ProtocolID)
	if err != nil {
		t.Fatal(err)
	}
	_ = st.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { st.Reset() })
	return &rawStream{t: t, st: st, r: bufio.NewReaderSize(st, 1<<16)}
}

func (r *rawStream) write(s string) {
	r.t.Helper()
	if _, err := r.st.Write([]byte(s)); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// read returns the next line without "\n", or the read error.
func (r *rawStream) read() (string, error) {
	line, err := r.r.ReadString('\n')
	if err != nil {
		return line, err
	}
	return strings.TrimSuffix(line, "\n"), nil
}

func (r *rawStream) mustRead() string {
	r.t.Helper()
	line, err := r.read()
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	return line
}

// expectErr reads a line and checks it is ERR with code.
func (r *rawStream) expectErr(code ctl.Code) string {
	r.t.Helper()
	line := r.mustRead()
	e, err := ctl.ParseError(line)
	if err != nil || e.Code != code {
		r.t.Fatalf("got %q, want ERR|%d", line, code)
	}
	return line
}

// expectEnd checks that the server ended the stream: the next read fails.
func (r *rawStream) expectEnd() {
	r.t.Helper()
	line, err := r.read()
	if err == nil {
		r.t.Fatalf("got %q, want end of stream", line)
	}
	if isTimeout(err) {
		r.t.Fatalf("stream not closed by server: %v", err)
	}
}

// remoteCode returns the code of a remote ERR reply in err, or 0.
func remoteCode(err error) ctl.Code {
	var e *ctl.Error
	if errors.As(err, &e) && e.Remote {
		return e.Code
	}
	return 0
}

func localCode(err error) ctl.Code {
	var e *ctl.Error
	if errors.As(err, &e) && !e.Remote {
		return e.Code
	}
	return 0
}

func getInfoLine(from, target protocol.DDTAddr) string {
	return fmt.Sprintf("GET_CLIENT_INFO|%s|%s\n", from, target)
}

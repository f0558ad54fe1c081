package delivery

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/control"
	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/node/friends"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/rdt"
)

// switchConn is a PacketConn that drops every datagram, both ways, while
// drop is set.
type switchConn struct {
	net.PacketConn
	drop atomic.Bool
}

func (c *switchConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, a, err := c.PacketConn.ReadFrom(b)
		if err != nil || !c.drop.Load() {
			return n, a, err
		}
	}
}

func (c *switchConn) WriteTo(b []byte, a net.Addr) (int, error) {
	if c.drop.Load() {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, a)
}

// dataPlane adapts an rdt.Transport to control.DataPlane.
type dataPlane struct {
	*rdt.Transport
	port int
}

func (d dataPlane) UDPPort() int { return d.port }

// names is a fake name registry shared by the test nodes.
type names struct {
	mu       sync.Mutex
	recs     map[string]*dht.NameRecord
	resolved atomic.Int64 // Resolve calls
}

func (n *names) Resolve(_ context.Context, name string) (*dht.NameRecord, error) {
	n.resolved.Add(1)
	n.mu.Lock()
	defer n.mu.Unlock()
	r, ok := n.recs[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", dht.ErrNameNotFound, name)
	}
	return r, nil
}

// friendBook is a fake friend store.
type friendBook struct {
	mu     sync.Mutex
	tokens map[protocol.DDTAddr]friends.Token
	names  map[protocol.DDTAddr]string
}

func (f *friendBook) TokenFor(dst protocol.DDTAddr) (friends.Token, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tokens[dst]
	return t, ok
}

func (f *friendBook) Friend(src protocol.DDTAddr) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.names[src]
	return n, ok
}

// hostPeers lists a host's connected peers.
type hostPeers struct{ h host.Host }

func (p hostPeers) Candidates() []peer.ID { return p.h.Network().Peers() }

// testNode is a host with control protocol and, unless it plays a
// bootstrap node, an RDT data plane and a delivery engine.
type testNode struct {
	name    string
	priv    crypto.PrivKey
	seal    *ecdh.PrivateKey
	ddt     protocol.DDTAddr
	h       host.Host
	ctl     *control.Service
	conn    *switchConn
	tr      *rdt.Transport
	eng     *Engine
	friends *friendBook
	engP    atomic.Pointer[Engine] // eng, for the transport's goroutines

	// hook, if set, sees every share segment this node's transport
	// delivers, before the engine does, and may change it; drop=true
	// keeps it from the engine.
	hook atomic.Pointer[func(s *rdt.Segment) (drop bool)]

	flip   atomic.Bool // alter the fragment bytes of shares this node forwards
	record atomic.Bool // keep every payload byte of relayed shares in seen
	seenMu sync.Mutex
	seen   []byte
}

func (n *testNode) onSegment(s rdt.Segment) {
	e := n.engP.Load()
	if e == nil {
		return
	}
	if f := n.hook.Load(); f != nil && (*f)(&s) {
		return
	}
	h := s.Header
	if h.Dst != n.ddt {
		if n.record.Load() {
			n.seenMu.Lock()
			n.seen = append(n.seen, s.Payload...)
			n.seenMu.Unlock()
		}
		if n.flip.Load() {
			p := slices.Clone(s.Payload)
			pl := envelope.PrefixLen(int(h.N))
			for j := range p {
				if int(h.Offset)+j >= pl {
					p[j] ^= 0x5a
				}
			}
			s.Payload = p
		}
	}
	e.OnSegment(s)
}

func (n *testNode) seenBytes() []byte {
	n.seenMu.Lock()
	defer n.seenMu.Unlock()
	return slices.Clone(n.seen)
}

// newTestNode starts a node on loopback; dataPlane false makes a node
// like a bootstrap node, with control protocol only.
func newTestNode(t testing.TB, name string, reg *names, withDataPlane bool) *testNode {
	t.Helper()
	return newTestNodeTimeout(t, name, reg, withDataPlane, 5*time.Second)
}

// newTestNodeTimeout is newTestNode with the given rdt TransferTimeout.
func newTestNodeTimeout(t testing.TB, name string, reg *names, withDataPlane bool, transferTimeout time.Duration) *testNode {
	t.Helper()
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	seal, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{name: name, priv: priv, seal: seal,
		friends: &friendBook{tokens: map[protocol.DDTAddr]friends.Token{}, names: map[protocol.DDTAddr]string{}}}
	if n.ddt, err = ddtOfKey(priv.GetPublic()); err != nil {
		t.Fatal(err)
	}
	n.h, err = libp2p.New(libp2p.NoTransports, libp2p.Transport(tcp.NewTCPTransport),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(), libp2p.Identity(priv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.h.Close() })
	if !withDataPlane {
		if n.ctl, err = control.New(n.h, nil, nil); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.ctl.Close() })
		return n
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.conn = &switchConn{PacketConn: pc}
	n.tr, err = rdt.New(n.conn, &rdt.Config{
		TransferTimeout: transferTimeout,
		OnSegment:       n.onSegment,
		Reassemble:      func(net.Addr, protocol.VMDTHeader) bool { return false },
		OnInboundFailed: func(a net.Addr, h protocol.VMDTHeader, err error) {
			if e := n.engP.Load(); e != nil {
				e.OnInboundFailed(a, h, err)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.tr.Close() })
	if n.ctl, err = control.New(n.h, dataPlane{n.tr, pc.LocalAddr().(*net.UDPAddr).Port}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.ctl.Close() })
	n.eng, err = New(Config{
		Identity: priv, SealKey: seal, Transport: n.tr, Control: n.ctl, Names: reg,
		Friends: n.friends, Peers: hostPeers{n.h}, Dir: t.TempDir(),
		DeliveryTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	n.engP.Store(n.eng)
	n.ctl.SetDelivery(n.eng)
	t.Cleanup(func() { n.eng.Close() })
	reg.mu.Lock()
	reg.recs[name] = &dht.NameRecord{Name: name, PeerID: n.h.ID(), PubKey: priv.GetPublic(), DDTAddr: n.ddt,
		SealKey: seal.PublicKey().Bytes(), Expiry: time.Now().Add(time.Hour)}
	reg.mu.Unlock()
	return n
}

// befriend makes sender a friend of receiver: receiver issues a token
// that sender keeps, and knows sender by name.
func befriend(t testing.TB, sender, receiver *testNode) {
	t.Helper()
	tok, err := friends.IssueToken(receiver.priv, sender.ddt, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sender.friends.mu.Lock()
	sender.friends.tokens[receiver.ddt] = tok
	sender.friends.mu.Unlock()
	receiver.friends.mu.Lock()
	receiver.friends.names[sender.ddt] = sender.name
	receiver.friends.mu.Unlock()
}

func connectAll(t testing.TB, nodes ...*testNode) {
	t.Helper()
	for i, a := range nodes {
		for _, b := range nodes[i+1:] {
			if err := a.h.Connect(context.Background(), peer.AddrInfo{ID: b.h.ID(), Addrs: b.h.Addrs()}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

package dht

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/vmdt/vmdt/bootstrap"
	"github.com/vmdt/vmdt/protocol"
)

// testNode is one VMDT node in a test network: a real libp2p host on
// loopback TCP with its DHT, and for bootstrap nodes a notary.
type testNode struct {
	h      host.Host
	d      *DHT
	priv   crypto.PrivKey
	seal   []byte
	notary *bootstrap.Notary
}

func (n *testNode) info() peer.AddrInfo { return peer.AddrInfo{ID: n.h.ID(), Addrs: n.h.Addrs()} }

// stop closes the node's notary, DHT and host, as a crash would.
func (n *testNode) stop() {
	if n.notary != nil {
		n.notary.Close()
	}
	n.d.Close()
	n.h.Close()
}

func newKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSealKey(t testing.TB) []byte {
	t.Helper()
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey().Bytes()
}

func newHost(t testing.TB, priv crypto.PrivKey) host.Host {
	t.Helper()
	h, err := libp2p.New(
		libp2p.Identity(priv),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.DisableRelay(),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// netConfig describes a test network.
type netConfig struct {
	boots, nodes int
	now          func() time.Time // validators' and notaries' clock; nil = time.Now
	clientNodes  bool
	republish    time.Duration
}

type testNet struct {
	boots, nodes []*testNode
	auth         []peer.ID
	cfg          netConfig
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// startNet starts the bootstrap nodes (notaries and DHT servers that
// know each other), then the other nodes, which join through them.
func startNet(t testing.TB, cfg netConfig) *testNet {
	t.Helper()
	ctx := ctxT(t, 60*time.Second)
	tn := &testNet{cfg: cfg}
	for i := 0; i < cfg.boots; i++ {
		priv := newKey(t)
		tn.boots = append(tn.boots, &testNode{h: newHost(t, priv), priv: priv, seal: newSealKey(t)})
		tn.auth = append(tn.auth, tn.boots[i].h.ID())
	}
	var bootInfos []peer.AddrInfo
	for _, b := range tn.boots {
		bootInfos = append(bootInfos, b.info())
	}
	for _, b := range tn.boots {
		n, err := bootstrap.NewNotaryWithConfig(b.h, bootstrap.NotaryConfig{Now: cfg.now})
		if err != nil {
			t.Fatal(err)
		}
		b.notary = n
		t.Cleanup(func() { n.Close() })
		b.d = tn.newDHT(t, ctx, b.h, ModeServer, bootInfos, n)
	}
	tn.bootstrapAll(t, ctx, tn.boots)
	for i := 0; i < cfg.nodes; i++ {
		tn.nodes = append(tn.nodes, tn.addNode(t, ctx, bootInfos, false))
	}
	tn.bootstrapAll(t, ctx, tn.nodes)
	return tn
}

func (tn *testNet) newDHT(t testing.TB, ctx context.Context, h host.Host, mode Mode, boots []peer.AddrInfo, local LocalNotary) *DHT {
	t.Helper()
	d, err := New(ctx, h, Config{
		Mode:              mode,
		BootstrapPeers:    boots,
		Authorities:       tn.auth,
		Now:               tn.cfg.now,
		RepublishInterval: tn.cfg.republish,
		LocalNotary:       local,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// addNode starts a non-bootstrap node; with join it also bootstraps it.
func (tn *testNet) addNode(t testing.TB, ctx context.Context, boots []peer.AddrInfo, join bool) *testNode {
	t.Helper()
	priv := newKey(t)
	n := &testNode{h: newHost(t, priv), priv: priv, seal: newSealKey(t)}
	mode := ModeServer // test nodes on loopback count as reachable
	if tn.cfg.clientNodes {
		mode = ModeClient
	}
	n.d = tn.newDHT(t, ctx, n.h, mode, boots, nil)
	if join {
		if err := n.d.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func (tn *testNet) bootstrapAll(t testing.TB, ctx context.Context, ns []*testNode) {
	t.Helper()
	errs := make(chan error, len(ns))
	for _, n := range ns {
		go func(n *testNode) { errs <- n.d.Bootstrap(ctx) }(n)
	}
	for range ns {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// all returns bootstrap and other nodes.
func (tn *testNet) all() []*testNode {
	return append(append([]*testNode(nil), tn.boots...), tn.nodes...)
}

// parallel runs f(i) for i in 0..n-1 concurrently and returns the errors.
func parallel(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); errs[i] = f(i) }(i)
	}
	wg.Wait()
	return errs
}

func nodeName(i int) string { return fmt.Sprintf("node%02d", i) }

// fakeClock is a settable clock shared by notaries and validators.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func ddtAddrOf(n *testNode) protocol.DDTAddr {
	key, _ := crypto.MarshalPublicKey(n.priv.GetPublic())
	return protocol.DDTAddrFromPublicKey(key)
}

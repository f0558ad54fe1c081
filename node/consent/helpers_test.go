package consent

import (
	"context"
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

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/friends"
	"github.com/vmdt/vmdt/protocol"
)

// fakeNames is an in-memory username registry.
type fakeNames struct {
	mu   sync.Mutex
	recs map[string]*dht.NameRecord
}

func newFakeNames() *fakeNames { return &fakeNames{recs: make(map[string]*dht.NameRecord)} }

func (n *fakeNames) register(t testing.TB, name string, priv crypto.PrivKey) {
	t.Helper()
	pub := priv.GetPublic()
	key, err := crypto.MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.recs[name] = &dht.NameRecord{Name: name, PeerID: id, PubKey: pub, DDTAddr: protocol.DDTAddrFromPublicKey(key)}
}

func (n *fakeNames) Resolve(ctx context.Context, name string) (*dht.NameRecord, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if r := n.recs[name]; r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("%w: %q", dht.ErrNameNotFound, name)
}

// testPeer is a libp2p host on loopback with a friend store and a Service.
type testPeer struct {
	name  string
	priv  crypto.PrivKey
	dir   string
	h     host.Host
	store *friends.Store
	svc   *Service
}

func (p *testPeer) ddt() protocol.DDTAddr {
	key, _ := crypto.MarshalPublicKey(p.priv.GetPublic())
	return protocol.DDTAddrFromPublicKey(key)
}

// fastConfig retries quickly and does not rate-limit much.
func fastConfig() Config {
	return Config{RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, PeerBurst: 1000, PeerRate: 1000}
}

// newTestPeer starts a peer named name (registered in names unless name
// is "") with a fresh key.
func newTestPeer(t testing.TB, names *fakeNames, name string, cfg Config) *testPeer {
	t.Helper()
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPeer{name: name, priv: priv, dir: t.TempDir()}
	if name != "" {
		names.register(t, name, priv)
	}
	p.start(t, names, cfg)
	return p
}

// start starts p's host and Service on p's key and store directory.
func (p *testPeer) start(t testing.TB, names *fakeNames, cfg Config) {
	t.Helper()
	h, err := libp2p.New(
		libp2p.Identity(p.priv),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
	)
	if err != nil {
		t.Fatal(err)
	}
	store, err := friends.Open(p.dir, friends.Config{Identity: p.priv})
	if err != nil {
		h.Close()
		t.Fatal(err)
	}
	cfg.Host, cfg.Store, cfg.Names = h, store, names
	name := p.name
	cfg.Username = func() string { return name }
	svc, err := New(cfg)
	if err != nil {
		h.Close()
		t.Fatal(err)
	}
	p.h, p.store, p.svc = h, store, svc
	t.Cleanup(p.stop)
}

// stop closes p's Service and host; it is idempotent.
func (p *testPeer) stop() {
	p.svc.Close()
	p.h.Close()
}

// link tells a's peerstore where b listens.
func link(a, b *testPeer) {
	a.h.Peerstore().AddAddrs(b.h.ID(), b.h.Addrs(), time.Hour)
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition of other goroutines' network I/O
	}
}

func testKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

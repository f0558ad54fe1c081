package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/rdt"
)

// testOptions returns node options for a loopback TCP-only node on r.
func testOptions(t testing.TB, r *Repo, role Role, boot []peer.AddrInfo) Options {
	t.Helper()
	c := DefaultConfig()
	c.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	o, err := OptionsFromRepo(r, c, role)
	if err != nil {
		t.Fatal(err)
	}
	o.TCPOnly = true
	o.Bootstrap = boot
	o.DialTimeout = 30 * time.Second // tests share a busy machine
	return o
}

func TestIdentityPersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	r, err := InitRepo(dir, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := StartDaemon(ctx, r, DaemonOptions{Node: testOptions(t, r, RoleBootstrap, nil)})
	if err != nil {
		t.Fatal(err)
	}
	first := d.Node().Info()
	if first.PeerID != r.PeerID() || first.DDTAddr != r.DDTAddr() {
		t.Fatalf("node runs as %s/%s, repository holds %s/%s", first.PeerID, first.DDTAddr, r.PeerID(), r.DDTAddr())
	}
	apiAddr, err := readAPIAddr(dir)
	if err != nil {
		t.Fatal(err)
	}
	if apiAddr != d.APIAddr() {
		t.Fatalf("api file says %s, daemon listens on %s", apiAddr, d.APIAddr())
	}
	st, err := os.Stat(filepath.Join(dir, apiFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("api file mode %v, want 0600", st.Mode().Perm())
	}
	// A second daemon on the same repository is refused.
	if d2, err := StartDaemon(ctx, r, DaemonOptions{Node: testOptions(t, r, RoleBootstrap, nil)}); !errors.Is(err, ErrRepoLocked) {
		if d2 != nil {
			d2.Close()
		}
		t.Fatalf("second daemon: %v, want ErrRepoLocked", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, apiFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("api file after Close: %v, want it removed", err)
	}

	r2, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := StartDaemon(ctx, r2, DaemonOptions{Node: testOptions(t, r2, RoleBootstrap, nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	second := d2.Node().Info()
	if second.PeerID != first.PeerID || second.DDTAddr != first.DDTAddr || second.SealKey != first.SealKey {
		t.Fatalf("identity changed across restart: %s/%s -> %s/%s", first.PeerID, first.DDTAddr, second.PeerID, second.DDTAddr)
	}
}

func TestNewRejectsMissingKeys(t *testing.T) {
	r, err := InitRepo(t.TempDir(), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	o := testOptions(t, r, RoleNode, nil)
	o.PrivKey = nil
	if n, err := New(context.Background(), o); !errors.Is(err, ErrBadConfig) {
		if n != nil {
			n.Close()
		}
		t.Fatalf("no identity: %v, want ErrBadConfig", err)
	}
	o = testOptions(t, r, RoleNode, nil)
	o.SealKey = nil
	if n, err := New(context.Background(), o); !errors.Is(err, ErrBadConfig) {
		if n != nil {
			n.Close()
		}
		t.Fatalf("no seal key: %v, want ErrBadConfig", err)
	}
}

func TestNewCleansUpWhenTheDataPlaneFails(t *testing.T) {
	r, err := InitRepo(t.TempDir(), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	o := testOptions(t, r, RoleNode, nil)
	o.Listen = []ma.Multiaddr{ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port))}
	o.UDP = "127.0.0.1:notaport"
	if n, err := New(context.Background(), o); !errors.Is(err, ErrBadConfig) {
		if n != nil {
			n.Close()
		}
		t.Fatalf("New with a bad UDP address: %v, want ErrBadConfig", err)
	}
	// The failed New released its host: a node can listen on the same
	// TCP port at once.
	o.UDP = ""
	n, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New on the port the failed node used: %v", err)
	}
	n.Close()
}

// TestDaemonsRegisterAndResolveThroughAPI runs a bootstrap daemon and two
// ordinary daemons in-process and uses the API clients, as the CLI does.
func TestDaemonsRegisterAndResolveThroughAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := func(role Role, boot []peer.AddrInfo) (*Daemon, *APIClient) {
		dir := t.TempDir()
		r, err := InitRepo(dir, DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		d, err := StartDaemon(ctx, r, DaemonOptions{Node: testOptions(t, r, role, boot)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		c, err := NewAPIClient(dir)
		if err != nil {
			t.Fatal(err)
		}
		return d, c
	}
	bd, bc := start(RoleBootstrap, nil)
	boot := []peer.AddrInfo{bd.Node().AddrInfo()}
	ad, ac := start(RoleNode, boot)
	cd, cc := start(RoleNode, boot)

	binfo, err := bc.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if binfo.Role != "bootstrap" || binfo.UDP != "" || len(binfo.Authorities) != 1 || binfo.Authorities[0] != bd.Node().ID() {
		t.Fatalf("bootstrap id: %+v", binfo)
	}
	ainfo, err := ac.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ainfo.Role != "node" || ainfo.UDP == "" || len(ainfo.Addrs) == 0 {
		t.Fatalf("node id: %+v", ainfo)
	}
	if _, err := ma.NewMultiaddr(ainfo.Addrs[0]); err != nil {
		t.Fatalf("addr %q: %v", ainfo.Addrs[0], err)
	}
	if len(ainfo.Authorities) != 1 || ainfo.Authorities[0] != bd.Node().ID() {
		t.Fatalf("node authorities %v, want the bootstrap node %s", ainfo.Authorities, bd.Node().ID())
	}

	if _, err := ac.RegisterName(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.RegisterName(ctx, "Carol"); err != nil {
		t.Fatal(err)
	}
	if n, err := cd.Repo().Name(); err != nil || n != "carol" {
		t.Fatalf("repository records name %q (%v), want carol", n, err)
	}
	got, err := cc.Resolve(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.PeerID != ad.Node().ID() || got.DDTAddr != ad.Node().DDTAddr() || got.Username != "alice" {
		t.Fatalf("carol resolves alice to %+v, want %s", got, ad.Node().ID())
	}
	got, err = ac.Resolve(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if got.PeerID != cd.Node().ID() {
		t.Fatalf("alice resolves carol to %s, want %s", got.PeerID, cd.Node().ID())
	}
	if _, err := ac.Resolve(ctx, "nobody"); !errors.Is(err, dht.ErrNameNotFound) {
		t.Fatalf("resolve nobody: %v, want ErrNameNotFound", err)
	}
	peers, err := ac.Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !containsPeer(peers, bd.Node().ID()) {
		t.Fatalf("alice's peers %v lack the bootstrap node", peers)
	}
	// Nothing dials outside the configured network: every connection of
	// every node is on loopback.
	for _, d := range []*Daemon{bd, ad, cd} {
		for _, p := range d.Node().Peers() {
			for _, a := range p.Addrs {
				if !manet.IsIPLoopback(ma.StringCast(a)) {
					t.Errorf("%s has a connection to %s at %s", d.Node().ID(), p.PeerID, a)
				}
			}
		}
	}
}

func containsPeer(ps []PeerInfo, id peer.ID) bool {
	for _, p := range ps {
		if p.PeerID == id {
			return true
		}
	}
	return false
}

// TestIdleNodeMemory reports (does not assert) how much heap an idle
// ordinary node holds after start.
func TestIdleNodeMemory(t *testing.T) {
	for _, tcpOnly := range []bool{true, false} {
		r, err := InitRepo(t.TempDir(), DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		o := testOptions(t, r, RoleNode, nil)
		o.TCPOnly = tcpOnly
		if !tcpOnly {
			o.Listen = append(o.Listen, ma.StringCast("/ip4/127.0.0.1/udp/0/quic-v1"))
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		g0 := runtime.NumGoroutine()
		n, err := New(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		g1 := runtime.NumGoroutine()
		if n.UDPAddr() == nil {
			t.Fatal("node has no data plane")
		}
		n.Close()
		t.Logf("idle node (TCP only: %v, no peers): live heap +%d KiB, %d goroutines",
			tcpOnly, (int64(after.HeapAlloc)-int64(before.HeapAlloc))/1024, g1-g0)
	}
}

// TestControlConnectsDataPlanes checks the wiring of control and rdt: a
// control handshake between two nodes installs a session on both RDT
// transports, at the UDP port each node's data plane listens on.
func TestControlConnectsDataPlanes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var nodes [2]*Node
	for i := range nodes {
		r, err := InitRepo(t.TempDir(), DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		n, err := New(ctx, testOptions(t, r, RoleNode, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		nodes[i] = n
	}
	a, b := nodes[0], nodes[1]
	if err := a.Host().Connect(ctx, b.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	ep, err := a.Control().ConnectDataPlane(ctx, b.ID())
	if err != nil {
		t.Fatal(err)
	}
	want := b.UDPAddr().(*net.UDPAddr)
	got, ok := ep.UDPAddr.(*net.UDPAddr)
	if !ok || got.Port != want.Port || !got.IP.Equal(want.IP) {
		t.Fatalf("endpoint %v, want %v", ep.UDPAddr, want)
	}
	if ep.PeerID != b.ID() || ep.DDTAddr != b.DDTAddr() {
		t.Fatalf("endpoint names %s/%s, want %s/%s", ep.PeerID, ep.DDTAddr, b.ID(), b.DDTAddr())
	}
	// The session exists on a's transport: adding the same key id again
	// is refused.
	if err := a.Transport().AddPeer(ep.UDPAddr, ep.KeyID, [32]byte{}, true); !errors.Is(err, rdt.ErrPeerExists) {
		t.Fatalf("adding the negotiated session again: %v, want rdt.ErrPeerExists", err)
	}
}

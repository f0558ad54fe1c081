package control

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vmdt/vmdt/internal/p2ptest"
	"github.com/vmdt/vmdt/protocol/ctl"
)

func TestConnectDataPlaneInstallsSameKeyOnBothSides(t *testing.T) {
	a := newNode(t, 4001, nil)
	b := newNode(t, 4002, nil)
	connect(t, a.h, b.h)

	ep, err := a.s.ConnectDataPlane(testCtx(t), b.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if ep.PeerID != b.h.ID() || ep.DDTAddr != b.addr(t) || ep.UDPAddr.String() != "127.0.0.1:4002" || ep.KeyID == 0 {
		t.Fatalf("endpoint %+v", ep)
	}
	onA, onB := a.dp.added(), b.dp.added()
	if len(onA) != 1 || len(onB) != 1 {
		t.Fatalf("AddPeer calls: A %d, B %d", len(onA), len(onB))
	}
	// B generated the key, so B is the initiator.
	if onA[0].initiator || !onB[0].initiator {
		t.Fatalf("initiator flags: A %v, B %v", onA[0].initiator, onB[0].initiator)
	}
	if onA[0].key != onB[0].key || onA[0].keyID != onB[0].keyID || onA[0].keyID != ep.KeyID {
		t.Fatal("the two sides installed different keys")
	}
	if onA[0].key == [32]byte{} {
		t.Fatal("zero key")
	}
	if onA[0].addr != "127.0.0.1:4002" || onB[0].addr != "127.0.0.1:4001" {
		t.Fatalf("addresses: A sends to %s, B sends to %s", onA[0].addr, onB[0].addr)
	}

	// A second exchange agrees a fresh key.
	ep2, err := a.s.ConnectDataPlane(testCtx(t), b.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	onA, onB = a.dp.added(), b.dp.added()
	if len(onA) != 2 || onA[1].key != onB[1].key || onA[1].key == onA[0].key || ep2.KeyID != onB[1].keyID {
		t.Fatal("re-registration did not install one fresh shared key")
	}
}

func TestConnectDataPlaneErrors(t *testing.T) {
	a := newNode(t, 4001, nil)
	noDP := newNode(t, 0, nil)
	connect(t, a.h, noDP.h)

	// The peer has no data plane.
	if _, err := a.s.ConnectDataPlane(testCtx(t), noDP.h.ID()); remoteCode(err) != ctl.CodeNotImplemented {
		t.Fatalf("peer without data plane: %v", err)
	}
	// We have none.
	if _, err := noDP.s.ConnectDataPlane(testCtx(t), a.h.ID()); localCode(err) != ctl.CodeNotImplemented {
		t.Fatalf("no local data plane: %v", err)
	}
	// The peer's data plane refuses: ERR|500 without the local reason.
	b := newNode(t, 4002, nil)
	b.dp.err = errors.New("socket on fire")
	connect(t, a.h, b.h)
	_, err := a.s.ConnectDataPlane(testCtx(t), b.h.ID())
	if remoteCode(err) != ctl.CodeInternal {
		t.Fatalf("refusing data plane: %v", err)
	}
	if len(a.dp.added()) != 0 {
		t.Fatal("A installed a key although B failed")
	}
	// Our data plane refuses after the peer installed its side.
	b.dp.err = nil
	a.dp.err = errors.New("full")
	if _, err := a.s.ConnectDataPlane(testCtx(t), b.h.ID()); err == nil || !errors.Is(err, a.dp.err) {
		t.Fatalf("local refusal: %v", err)
	}
}

func TestGetClientInfo(t *testing.T) {
	a := newNode(t, 4001, nil)
	b := newNode(t, 4002, nil)
	c := newNode(t, 4003, nil)
	connect(t, a.h, b.h)
	connect(t, c.h, b.h)

	// About the answering peer itself: its port, the IP we reach it at.
	info, err := c.s.GetClientInfo(testCtx(t), b.h.ID(), b.addr(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.PeerID != b.h.ID() || info.DDTAddr != b.addr(t) || info.UDPAddr.String() != "127.0.0.1:4002" {
		t.Fatalf("self info %+v", info)
	}

	// About a stranger: 404.
	if _, err := c.s.GetClientInfo(testCtx(t), b.h.ID(), a.addr(t)); remoteCode(err) != ctl.CodeUnknown {
		t.Fatalf("unknown client: %v", err)
	}

	// After A registers with B, B tells C where A's RDT socket is.
	if _, err := a.s.ConnectDataPlane(testCtx(t), b.h.ID()); err != nil {
		t.Fatal(err)
	}
	info, err = c.s.GetClientInfo(testCtx(t), b.h.ID(), a.addr(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.PeerID != a.h.ID() || info.UDPAddr.String() != "127.0.0.1:4001" {
		t.Fatalf("registered client info %+v", info)
	}

	// A cluster member B knows only by id: peer id, no address.
	d := newNode(t, 0, nil)
	connect(t, d.h, b.h)
	cl, err := b.s.CreateCluster(testCtx(t), 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.s.JoinCluster(testCtx(t), b.h.ID(), cl.ID.String()); err != nil {
		t.Fatal(err)
	}
	info, err = c.s.GetClientInfo(testCtx(t), b.h.ID(), d.addr(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.PeerID != d.h.ID() || info.UDPAddr != nil {
		t.Fatalf("member info %+v", info)
	}
}

// A peer that answers GET_CLIENT_INFO with a peer id that does not own the
// target is caught by the client.
func TestGetClientInfoRejectsLyingPeer(t *testing.T) {
	a := newNode(t, 0, nil)
	liar := newHost(t, 0)
	other := newHost(t, 0)
	liar.SetStreamHandler(ProtocolID, func(st network.Stream) {
		defer st.Close()
		line, err := bufio.NewReader(st).ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Split(strings.TrimSpace(line), "|")
		fmt.Fprintf(st, "OK|%s|%s|-|0\n", f[len(f)-1], other.ID())
	})
	connect(t, a.h, liar)
	b := newNode(t, 0, nil)
	_, err := a.s.GetClientInfo(testCtx(t), liar.ID(), b.addr(t))
	if localCode(err) != ctl.CodeMalformed {
		t.Fatalf("lying answer: %v", err)
	}
}

// fakeConnStream is a stream whose connection has a given remote address.
type fakeConnStream struct {
	network.Stream
	conn fakeConn
}

type fakeConn struct {
	network.Conn
	remote ma.Multiaddr
}

func (s *fakeConnStream) Conn() network.Conn     { return s.conn }
func (c fakeConn) RemoteMultiaddr() ma.Multiaddr { return c.remote }

func TestRemoteIP(t *testing.T) {
	cases := map[string]string{
		"/ip4/127.0.0.1/tcp/4001":        "127.0.0.1",
		"/ip6/::1/udp/4001/quic-v1":      "::1",
		"/ip6/::ffff:10.0.0.1/tcp/1":     "10.0.0.1",
		"/ip4/1.2.3.4/tcp/1/p2p-circuit": "",
		"/dns4/example.com/tcp/1":        "",
	}
	for a, want := range cases {
		st := &fakeConnStream{conn: fakeConn{remote: ma.StringCast(a)}}
		ip, err := remoteIP(st)
		if want == "" {
			if localCode(err) != ctl.CodeUnavailable {
				t.Errorf("%s: %v, %v; want unavailable", a, ip, err)
			}
			continue
		}
		if err != nil || ip.String() != want {
			t.Errorf("%s: %v, %v; want %s", a, ip, err, want)
		}
	}
}

// TestDialPastBackoff: an earlier failed dial left b's addresses on a's
// dial backoff (as a TCP simultaneous open does). A control command to b
// still gets through: the backoff refused without trying, so Dial dials
// anyway.
func TestDialPastBackoff(t *testing.T) {
	a := newNode(t, 4001, nil)
	b := newNode(t, 4002, nil)
	a.h.Peerstore().AddAddrs(b.h.ID(), b.h.Addrs(), time.Hour)
	ctx := testCtx(t)
	p2ptest.Backoff(t, ctx, a.h, b.h.ID())
	ep, err := a.s.ConnectDataPlane(ctx, b.h.ID())
	if err != nil {
		t.Fatalf("REGISTER_P2P_PORT to b: %v", err)
	}
	if ep.PeerID != b.h.ID() || len(b.dp.added()) != 1 {
		t.Fatalf("endpoint %+v; b installed %d keys, want 1", ep, len(b.dp.added()))
	}
}

package delivery

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/control"
	"github.com/vmdt/vmdt/node/friends"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
	"github.com/vmdt/vmdt/rdt"
)

// offline implements Transport and Control for engines under unit test:
// every network operation fails.
type offline struct{ abandoned []protocol.MessageID }

var errOffline = errors.New("offline")

func (*offline) Send(context.Context, net.Addr, protocol.VMDTHeader, []byte) error { return errOffline }
func (*offline) OpenSend(net.Addr, protocol.VMDTHeader) (*rdt.Outgoing, error) {
	return nil, errOffline
}
func (o *offline) AbandonMessage(_ protocol.DDTAddr, id protocol.MessageID) {
	o.abandoned = append(o.abandoned, id)
}
func (*offline) ConnectDataPlane(context.Context, peer.ID) (control.PeerEndpoint, error) {
	return control.PeerEndpoint{}, errOffline
}
func (*offline) RelayOpen(context.Context, peer.ID, ctl.RelayOpen) error { return errOffline }
func (*offline) Delivered(context.Context, peer.ID, protocol.MessageID, []int) error {
	return errOffline
}

type identity struct {
	priv crypto.PrivKey
	id   peer.ID
	ddt  protocol.DDTAddr
}

func newIdentity(t *testing.T) identity {
	t.Helper()
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	ddt, err := ddtOfKey(priv.GetPublic())
	if err != nil {
		t.Fatal(err)
	}
	return identity{priv, id, ddt}
}

func newOfflineEngine(t *testing.T, self identity, book *friendBook) *Engine {
	t.Helper()
	seal, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	o := &offline{}
	e, err := New(Config{Identity: self.priv, SealKey: seal, Transport: o, Control: o,
		Names: &names{recs: map[string]*dht.NameRecord{}}, Friends: book, Peers: hostPeersFunc(nil), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

type hostPeersFunc []peer.ID

func (p hostPeersFunc) Candidates() []peer.ID { return p }

// relayOpenCmd is alice's valid announcement of share 1 of a 6-of-3
// message for bob, with bob's friend token for alice.
func relayOpenCmd(t *testing.T, alice, bob identity) ctl.RelayOpen {
	t.Helper()
	tok, err := friends.IssueToken(bob.priv, alice.ddt, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := tok.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return ctl.RelayOpen{ClientID: alice.ddt, MessageID: protocol.MessageID{9}, Dst: bob.ddt, DstPeer: bob.id,
		Index: 1, N: 6, K: 3, ShareLen: 4096, Token: tb}
}

func TestRelayOpenRefusals(t *testing.T) {
	relay, alice, bob, eve := newIdentity(t), newIdentity(t), newIdentity(t), newIdentity(t)
	e := newOfflineEngine(t, relay, &friendBook{})
	good := relayOpenCmd(t, alice, bob)
	cases := []struct {
		name string
		mod  func(c *ctl.RelayOpen)
		code ctl.Code
	}{
		{"token for another sender", func(c *ctl.RelayOpen) { c.ClientID = eve.ddt }, ctl.CodeForbidden},
		{"token for another receiver", func(c *ctl.RelayOpen) { c.Dst, c.DstPeer = eve.ddt, eve.id }, ctl.CodeForbidden},
		{"peer does not own receiver", func(c *ctl.RelayOpen) { c.DstPeer = eve.id }, ctl.CodeForbidden},
		{"garbage token", func(c *ctl.RelayOpen) { c.Token = []byte("garbage") }, ctl.CodeForbidden},
		{"share too large", func(c *ctl.RelayOpen) { c.ShareLen = 1 << 30 }, ctl.CodeTooLarge},
		{"relay is the receiver", func(c *ctl.RelayOpen) { c.Dst = relay.ddt }, ctl.CodeForbidden},
		{"receiver unreachable", func(c *ctl.RelayOpen) {}, ctl.CodeUnavailable},
	}
	for _, c := range cases {
		cmd := good
		c.mod(&cmd)
		if err := e.RelayOpen(context.Background(), alice.id, &cmd); ctl.CodeOf(err) != c.code {
			t.Errorf("%s: %v, want code %d", c.name, err, c.code)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.relays) != 0 || len(e.perSender) != 0 {
		t.Fatalf("refused requests left state: %d relays, %d senders", len(e.relays), len(e.perSender))
	}
}

func TestSegmentsFromNonFriendDropped(t *testing.T) {
	bob, alice := newIdentity(t), newIdentity(t)
	e := newOfflineEngine(t, bob, &friendBook{names: map[protocol.DDTAddr]string{}})
	h := protocol.VMDTHeader{Type: protocol.TypeShare, ShareIndex: 1, N: 3, K: 2, MessageID: protocol.MessageID{1},
		Src: alice.ddt, Dst: bob.ddt, ShareLen: 1000}
	e.OnSegment(rdt.Segment{Header: h, Payload: make([]byte, 100)})
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.inbound) != 0 {
		t.Fatalf("a message from a non-friend is being assembled")
	}
	if _, ok := e.finished[inKey{src: alice.ddt, id: h.MessageID}]; !ok {
		t.Fatalf("the refused message is not remembered")
	}
}

func TestSendChecks(t *testing.T) {
	alice := newIdentity(t)
	e := newOfflineEngine(t, alice, &friendBook{})
	if _, err := e.Send(context.Background(), "bob", []byte("x"), 3, 4); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("k > n: %v", err)
	}
	if _, err := e.Send(context.Background(), "nobody", []byte("x"), 3, 2); !errors.Is(err, dht.ErrNameNotFound) {
		t.Errorf("unknown name: %v", err)
	}
	e.Close()
	if _, err := e.Send(context.Background(), "bob", []byte("x"), 3, 2); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/protocol"
)

// cluster is alice and bob, friends, six relays and a bootstrap-like node
// without a data plane, all connected; mallory, no friend of bob's, is
// connected to bob and the relays only.
type cluster struct {
	alice, bob, mallory *testNode
	relays              []*testNode
	boot                *testNode
	reg                 *names
}

func newCluster(t testing.TB) *cluster {
	t.Helper()
	reg := &names{recs: map[string]*dht.NameRecord{}}
	c := &cluster{
		alice:   newTestNode(t, "alice", reg, true),
		bob:     newTestNode(t, "bob", reg, true),
		mallory: newTestNode(t, "mallory", reg, true),
		boot:    newTestNode(t, "boot", reg, false),
		reg:     reg,
	}
	for i := range 6 {
		c.relays = append(c.relays, newTestNode(t, fmt.Sprintf("relay%d", i+1), reg, true))
	}
	befriend(t, c.alice, c.bob)
	connectAll(t, append([]*testNode{c.alice, c.bob, c.boot}, c.relays...)...)
	for _, r := range append([]*testNode{c.bob}, c.relays...) {
		connectAll(t, c.mallory, r)
	}
	return c
}

func (c *cluster) relayByPeer(p peer.ID) *testNode {
	for _, r := range c.relays {
		if r.h.ID() == p {
			return r
		}
	}
	return nil
}

// checkDelivered checks a successful report and bob's inbox entry.
func checkDelivered(t *testing.T, c *cluster, rep Report, msg []byte, n, k int) Entry {
	t.Helper()
	if rep.Status != StatusDelivered {
		t.Fatalf("status %q", rep.Status)
	}
	if len(rep.Shares) != n || len(rep.Used) != k {
		t.Fatalf("report has %d shares and %d used, want %d and %d: %+v", len(rep.Shares), len(rep.Used), n, k, rep)
	}
	seen := map[peer.ID]bool{}
	for i, s := range rep.Shares {
		if s.Index != i+1 || c.relayByPeer(s.RelayPeer) == nil || seen[s.RelayPeer] {
			t.Errorf("share %d: index %d relay %s (not a distinct relay)", i+1, s.Index, s.RelayPeer)
		}
		seen[s.RelayPeer] = true
	}
	ent, got, err := c.bob.eng.Inbox().Get(rep.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("bob got %d bytes, differing from the %d sent", len(got), len(msg))
	}
	if ent.From != "alice" || ent.Src != c.alice.ddt.String() || ent.Size != len(msg) || !slices.Equal(ent.Used, rep.Used) {
		t.Errorf("inbox entry %+v, report used %v", ent, rep.Used)
	}
	return ent
}

func TestDelivery(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)

	t.Run("1KiB", func(t *testing.T) {
		for _, r := range c.relays {
			r.record.Store(true)
		}
		msg := randomBytes(t, 1024)
		rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3)
		for _, r := range c.relays {
			r.record.Store(false)
		}
		if err != nil {
			t.Fatalf("send: %v (%+v)", err, rep)
		}
		checkDelivered(t, c, rep, msg, 6, 3)
		// No relay saw the plaintext, not even 16 bytes of it in a row.
		for _, r := range c.relays {
			seen := r.seenBytes()
			if len(seen) == 0 {
				continue
			}
			for i := 0; i+16 <= len(msg); i += 8 {
				if bytes.Contains(seen, msg[i:i+16]) {
					t.Fatalf("relay %s saw plaintext bytes %d..%d", r.name, i, i+16)
				}
			}
		}
		total := 0
		for _, r := range c.relays {
			total += len(r.seenBytes())
		}
		if total < 3*1024/3 {
			t.Fatalf("relays saw only %d bytes in all", total)
		}
	})

	t.Run("1MiB", func(t *testing.T) {
		msg := randomBytes(t, 1<<20)
		rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3)
		if err != nil {
			t.Fatalf("send: %v (%+v)", err, rep)
		}
		checkDelivered(t, c, rep, msg, 6, 3)
	})

	t.Run("NotFriends", func(t *testing.T) {
		_, err := c.mallory.eng.Send(ctx, "bob", []byte("hello bob"), 6, 3)
		if !errors.Is(err, ErrNotFriends) {
			t.Fatalf("send without a token: %v, want ErrNotFriends", err)
		}
		// With a token bob gave alice, every relay refuses mallory.
		tok, _ := c.alice.friends.TokenFor(c.bob.ddt)
		c.mallory.friends.mu.Lock()
		c.mallory.friends.tokens[c.bob.ddt] = tok
		c.mallory.friends.mu.Unlock()
		rep, err := c.mallory.eng.Send(ctx, "bob", []byte("hello bob"), 6, 3)
		if !errors.Is(err, ErrUndeliverable) {
			t.Fatalf("send with a stolen token: %v, want ErrUndeliverable", err)
		}
		refused := 0
		for _, s := range rep.Shares {
			if s.Outcome == OutcomeRefused {
				refused++
			}
		}
		if rep.Status != StatusFailed || refused < 4 {
			t.Fatalf("report %+v: want failed with at least 4 refusals", rep)
		}
		if l, _ := c.bob.eng.Inbox().List(); len(l) != 2 {
			t.Fatalf("bob's inbox holds %d messages, want the 2 from alice", len(l))
		}
	})

	t.Run("NotEnoughRelays", func(t *testing.T) {
		_, err := c.alice.eng.Send(ctx, "bob", []byte("x"), 7, 3)
		var ne *NotEnoughRelaysError
		if !errors.Is(err, ErrNotEnoughRelays) || !errors.As(err, &ne) || ne.Found != 6 || ne.Need != 7 {
			t.Fatalf("send over 7 relays: %v, want 6 of 7 found", err)
		}
	})

	t.Run("AlteringRelay", func(t *testing.T) {
		bad := c.relays[0]
		bad.flip.Store(true)
		defer bad.flip.Store(false)
		msg := randomBytes(t, 256<<10)
		rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3)
		if err != nil {
			t.Fatalf("send: %v (%+v)", err, rep)
		}
		ent := checkDelivered(t, c, rep, msg, 6, 3)
		idx := 0
		for _, s := range rep.Shares {
			if s.RelayPeer == bad.h.ID() {
				idx = s.Index
			}
		}
		if slices.Contains(ent.Used, idx) {
			t.Fatalf("decoded from share %d, which the relay altered", idx)
		}
		for _, r := range ent.Rejected {
			if r != idx {
				t.Fatalf("share %d rejected, but only %d was altered", r, idx)
			}
		}
		t.Logf("altered share %d; rejected %v, used %v", idx, ent.Rejected, ent.Used)
	})

	t.Run("ThreeRelaysSilent", func(t *testing.T) {
		for _, r := range c.relays[:3] {
			r.conn.drop.Store(true)
		}
		defer func() {
			for _, r := range c.relays[:3] {
				r.conn.drop.Store(false)
			}
		}()
		msg := randomBytes(t, 64<<10)
		rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3)
		if err != nil {
			t.Fatalf("send: %v (%+v)", err, rep)
		}
		checkDelivered(t, c, rep, msg, 6, 3)
		for _, s := range rep.Shares {
			r := c.relayByPeer(s.RelayPeer)
			if r.conn.drop.Load() && s.Outcome == OutcomeUsed {
				t.Errorf("share %d used, but its relay %s is silent", s.Index, r.name)
			}
		}
	})
}

// TestFriendCannotTakeAnotherSendersMessageID: mallory, a friend of bob
// who relays alice's messages and so sees their ids, sends a message to
// bob under the id of alice's next message before alice does. Both
// messages are delivered and kept: alice's under an alias, with her id
// as its message id.
func TestFriendCannotTakeAnotherSendersMessageID(t *testing.T) {
	c := newCluster(t)
	befriend(t, c.mallory, c.bob)
	ctx := testCtx(t)
	id := protocol.MessageID{0xa1, 0x1c, 0xe0}
	sameID := context.WithValue(ctx, messageIDKey{}, id)

	fake := randomBytes(t, 3000)
	rep, err := c.mallory.eng.Send(sameID, "bob", fake, 4, 2)
	if err != nil || rep.Status != StatusDelivered || rep.ID != id {
		t.Fatalf("mallory's send: %+v, %v", rep, err)
	}
	msg := randomBytes(t, 5000)
	rep, err = c.alice.eng.Send(sameID, "bob", msg, 6, 3)
	if err != nil || rep.ID != id {
		t.Fatalf("alice's send: %+v, %v", rep, err)
	}
	if rep.Status != StatusDelivered {
		t.Fatalf("alice's message with an id mallory took: %q, want delivered", rep.Status)
	}
	var fromAlice, fromMallory int
	l, err := c.bob.eng.Inbox().List()
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range l {
		_, body, err := c.bob.eng.Inbox().Get(ent.ID)
		if err != nil || ent.MessageID != id.String() {
			t.Fatalf("entry %+v: %v", ent, err)
		}
		switch {
		case ent.Src == c.alice.ddt.String() && bytes.Equal(body, msg) && ent.ID != id.String():
			fromAlice++
		case ent.Src == c.mallory.ddt.String() && bytes.Equal(body, fake) && ent.ID == id.String():
			fromMallory++
		default:
			t.Errorf("unexpected entry %+v (%d bytes)", ent, len(body))
		}
	}
	if fromAlice != 1 || fromMallory != 1 {
		t.Fatalf("bob's inbox: %d of alice's messages and %d of mallory's, want 1 each", fromAlice, fromMallory)
	}
}

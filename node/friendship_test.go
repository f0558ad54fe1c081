package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/consent"
	"github.com/vmdt/vmdt/node/friends"
)

// findFriend returns n's record of name as the API lists it.
func findFriend(t *testing.T, n *Node, name string) FriendInfo {
	t.Helper()
	for _, f := range n.Friends() {
		if f.Username == name {
			return f
		}
	}
	t.Fatalf("%s has no record of %s", n.Username(), name)
	return FriendInfo{}
}

// TestFriendRequestsBetweenNodes runs a devnet of three nodes: node1 asks
// node2, which accepts; node3 asks node1, which denies; and requests that
// must be refused are.
func TestFriendRequestsBetweenNodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := StartDevnet(ctx, DevnetConfig{Nodes: 3, Dir: t.TempDir(), TCPOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n1, n2, n3 := d.Nodes[0].Node(), d.Nodes[1].Node(), d.Nodes[2].Node()

	if _, err := n1.RequestFriend(ctx, "node2"); !errors.Is(err, ErrNoUsername) {
		t.Fatalf("request before registering a name: %v, want ErrNoUsername", err)
	}
	if _, err := d.RegisterAll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.RequestFriend(ctx, "nobody"); !errors.Is(err, dht.ErrNameNotFound) {
		t.Fatalf("request to an unknown name: %v, want dht.ErrNameNotFound", err)
	}

	// node1 asks node2; node2 has it pending once RequestFriend returns.
	fi, err := n1.RequestFriend(ctx, "node2")
	if err != nil {
		t.Fatal(err)
	}
	if fi.State != "requested" || fi.Direction != "outgoing" || fi.DDTAddr != n2.DDTAddr() || fi.PeerID != n2.ID() {
		t.Fatalf("node1's record of node2 after asking: %+v", fi)
	}
	if got := findFriend(t, n2, "node1"); got.State != "pending" || got.Direction != "incoming" || got.DDTAddr != n1.DDTAddr() {
		t.Fatalf("node2's record of node1: %+v, want pending", got)
	}
	if _, err := n2.CheckFriend("node1"); !errors.Is(err, ErrNotFriends) || n2.IsFriend(n1.DDTAddr()) {
		t.Fatalf("node2 counts node1 as a friend before accepting: %v", err)
	}
	if _, err := n1.CheckFriend("node2"); !errors.Is(err, ErrNotFriends) {
		t.Fatalf("node1 before node2 accepted: %v, want ErrNotFriends", err)
	}

	ans, err := n2.AcceptFriend(ctx, "node1")
	if err != nil {
		t.Fatal(err)
	}
	if !ans.Delivered || ans.Delivery != "delivered" || ans.State != "friends" || ans.Direction != "incoming" {
		t.Fatalf("accept: %+v", ans)
	}
	now := time.Now()
	if f, err := n1.CheckFriend("node2"); err != nil || f.DDT != n2.DDTAddr() {
		t.Fatalf("node1 after node2 accepted: %+v, %v", f, err)
	}
	if !n1.IsFriend(n2.DDTAddr()) || !n2.IsFriend(n1.DDTAddr()) {
		t.Fatal("node1 and node2 do not count each other as friends")
	}
	tok, ok := n1.FriendToken(n2.DDTAddr())
	if !ok {
		t.Fatal("node1 holds no token of node2")
	}
	if err := tok.Verify(n1.DDTAddr(), n2.DDTAddr(), now); err != nil {
		t.Fatalf("node2's token for node1: %v", err)
	}
	if tok, ok = n2.FriendToken(n1.DDTAddr()); !ok {
		t.Fatal("node2 holds no token of node1")
	}
	if err := tok.Verify(n2.DDTAddr(), n1.DDTAddr(), now); err != nil {
		t.Fatalf("node1's token for node2: %v", err)
	}
	if got := findFriend(t, n1, "node2"); got.State != "friends" || got.Direction != "outgoing" || got.TokenExpires.IsZero() {
		t.Fatalf("node1 lists node2 as %+v", got)
	}
	if _, err := n1.RequestFriend(ctx, "node2"); !errors.Is(err, friends.ErrState) {
		t.Fatalf("asking a friend again: %v, want friends.ErrState", err)
	}

	// node3 asks node1, which denies.
	if _, err := n3.RequestFriend(ctx, "node1"); err != nil {
		t.Fatal(err)
	}
	if ans, err = n1.DenyFriend(ctx, "node3"); err != nil || !ans.Delivered || ans.State != "denied" {
		t.Fatalf("deny: %+v, %v", ans, err)
	}
	if got := findFriend(t, n3, "node1"); got.State != "denied" || got.Direction != "outgoing" {
		t.Fatalf("node3 lists node1 as %+v, want denied", got)
	}
	if _, err := n3.CheckFriend("node1"); !errors.Is(err, ErrNotFriends) || n3.IsFriend(n1.DDTAddr()) || n1.IsFriend(n3.DDTAddr()) {
		t.Fatalf("node3 and node1 friends after a denial: %v", err)
	}
	if _, ok := n3.FriendToken(n1.DDTAddr()); ok {
		t.Fatal("node3 holds a token of node1, which denied it")
	}

	// node3 sends a request in node2's name, signed with its own key.
	priv3 := d.Nodes[2].Repo().PrivKey()
	forged, err := friends.NewFriendRequest(priv3, "node2", "node1", n1.DDTAddr(), time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := forged.Marshal()
	if _, err := consent.Exchange(ctx, n3.Host(), n1.ID(), msg, 30*time.Second); !errors.Is(err, consent.ErrNameNotOwned) {
		t.Fatalf("request in someone else's name: %v, want consent.ErrNameNotOwned", err)
	}
	if got := findFriend(t, n1, "node2"); got.State != "friends" {
		t.Fatalf("the forged request changed node1's record of node2: %+v", got)
	}

	// A captured request of node3 to node2, replayed.
	req, err := friends.NewFriendRequest(priv3, "node3", "node2", n2.DDTAddr(), time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ = req.Marshal()
	if _, err := consent.Exchange(ctx, n3.Host(), n2.ID(), msg, 30*time.Second); err != nil {
		t.Fatalf("node3's request to node2: %v", err)
	}
	if got := findFriend(t, n2, "node3"); got.State != "pending" {
		t.Fatalf("node2's record of node3: %+v, want pending", got)
	}
	if _, err := consent.Exchange(ctx, n3.Host(), n2.ID(), msg, 30*time.Second); !errors.Is(err, friends.ErrReplay) {
		t.Fatalf("replayed request: %v, want friends.ErrReplay", err)
	}
}

// TestFriendAcceptanceReachesRestartedRequester: node1 asks node2 and
// stops; node2 accepts while node1 is down; node1 restarts on the same
// repository and gets the acceptance.
func TestFriendAcceptanceReachesRestartedRequester(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d, err := StartDevnet(ctx, DevnetConfig{Nodes: 2, Dir: t.TempDir(), TCPOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.RegisterAll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Nodes[0].Node().RequestFriend(ctx, "node2"); err != nil {
		t.Fatal(err)
	}
	n1ddt := d.Nodes[0].Node().DDTAddr()
	if err := d.StopNode(0); err != nil {
		t.Fatal(err)
	}
	n2 := d.Nodes[1].Node()
	ans, err := n2.AcceptFriend(ctx, "node1")
	if err != nil {
		t.Fatal(err)
	}
	if ans.Delivered || ans.Delivery != "queued" || ans.State != "friends" {
		t.Fatalf("accept while node1 is down: %+v", ans)
	}
	if err := d.RestartNode(ctx, 0); err != nil {
		t.Fatal(err)
	}
	n1 := d.Nodes[0].Node()
	if n1.DDTAddr() != n1ddt || n1.Username() != "node1" {
		t.Fatalf("restarted node1 is %s (%q), want %s (node1)", n1.DDTAddr(), n1.Username(), n1ddt)
	}
	// node2's outbox delivers when node1 connects or at its next retry.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, err := n1.CheckFriend("node2")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node1 did not get node2's acceptance within 2 minutes: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling for a delivery over the network
	}
	now := time.Now()
	tok, ok := n1.FriendToken(n2.DDTAddr())
	if !ok || tok.Verify(n1.DDTAddr(), n2.DDTAddr(), now) != nil {
		t.Fatalf("node1's token from node2: %+v, %v", tok, ok)
	}
	// node1's token came back in its ack; node2 records it right after.
	for {
		if _, ok := n2.FriendToken(n1.DDTAddr()); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node2 holds no token of node1")
		}
		time.Sleep(10 * time.Millisecond) // polling for the delivery to finish
	}
}

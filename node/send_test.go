package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/vmdt/vmdt/node/delivery"
)

// TestSendThroughRelays runs a devnet of five nodes with their APIs:
// node1 and node2 become friends, node1 sends node2 1 KiB and 1 MiB
// through the three other nodes as relays (n=3, k=2) with the API
// client, and node2's inbox holds both, byte for byte. Sending to node3,
// not a friend, fails with ErrNotFriends; asking for more relays than
// exist fails with delivery.ErrNotEnoughRelays.
func TestSendThroughRelays(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d, err := StartDevnet(ctx, DevnetConfig{Nodes: 5, Dir: t.TempDir(), TCPOnly: true, API: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.RegisterAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.MakeFriends(ctx, 0, 1); err != nil {
		t.Fatal(err)
	}
	c1, err := NewAPIClient(d.Nodes[0].Repo().Dir())
	if err != nil {
		t.Fatal(err)
	}
	c2, err := NewAPIClient(d.Nodes[1].Repo().Dir())
	if err != nil {
		t.Fatal(err)
	}
	relays := map[string]string{}
	for i := 2; i < len(d.Nodes); i++ {
		relays[d.Nodes[i].Node().ID().String()] = d.Names[i]
	}

	sent := map[string][]byte{}
	for _, size := range []int{1 << 10, 1 << 20} {
		msg := make([]byte, size)
		if _, err := rand.Read(msg); err != nil {
			t.Fatal(err)
		}
		rep, err := c1.Send(ctx, "node2", bytes.NewReader(msg), int64(len(msg)), SendParams{N: 3, K: 2})
		if err != nil {
			t.Fatalf("send %d bytes: %v", size, err)
		}
		if rep.Status != delivery.StatusDelivered || rep.ID == "" || rep.N != 3 || rep.K != 2 || rep.Size != size || len(rep.Shares) != 3 {
			t.Fatalf("send %d bytes: report %+v", size, rep)
		}
		used := 0
		seen := map[string]bool{}
		for _, s := range rep.Shares {
			if _, ok := relays[s.RelayPeer.String()]; !ok || seen[s.RelayPeer.String()] {
				t.Fatalf("share %d went through %s, not a distinct relay node", s.Index, s.RelayPeer)
			}
			seen[s.RelayPeer.String()] = true
			if s.Outcome == delivery.OutcomeUsed {
				used++
			}
		}
		if used < 2 || len(rep.Used) < 2 {
			t.Fatalf("send %d bytes: %d shares used, want at least k=2: %+v", size, used, rep)
		}
		sent[rep.ID] = msg
	}

	list, err := c2.Inbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(sent) {
		t.Fatalf("node2's inbox holds %d messages, want %d: %+v", len(list), len(sent), list)
	}
	for _, e := range list {
		msg, ok := sent[e.ID]
		if !ok || e.From != "node1" || e.Size != len(msg) || len(e.Shares) < 2 || e.Time.IsZero() {
			t.Fatalf("inbox entry %+v", e)
		}
		var got bytes.Buffer
		ge, err := c2.InboxMessage(ctx, e.ID, &got)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), msg) || ge.From != "node1" || ge.Size != len(msg) {
			t.Fatalf("message %s: %d bytes from %q, want the %d sent by node1", e.ID, got.Len(), ge.From, len(msg))
		}
	}
	if _, err := c2.InboxMessage(ctx, "0011223344556677", &bytes.Buffer{}); !errors.Is(err, delivery.ErrNotFound) {
		t.Fatalf("unknown message: %v, want delivery.ErrNotFound", err)
	}
	if l1, err := c1.Inbox(ctx); err != nil || len(l1) != 0 {
		t.Fatalf("node1's inbox: %v, %v; want empty", l1, err)
	}
	testSendFileAndCluster(ctx, t, d, c1, c2)

	_, err = c1.Send(ctx, "node3", bytes.NewReader([]byte("hi")), 2, SendParams{N: 3, K: 2})
	if !errors.Is(err, ErrNotFriends) {
		t.Fatalf("send to a non-friend: %v, want ErrNotFriends", err)
	}
	_, err = c1.Send(ctx, "node2", bytes.NewReader([]byte("hi")), 2, SendParams{N: 4, K: 2})
	var apiErr *APIError
	if !errors.Is(err, delivery.ErrNotEnoughRelays) || !errors.As(err, &apiErr) || apiErr.Message == "" {
		t.Fatalf("send over 4 relays of 3: %v, want ErrNotEnoughRelays", err)
	}
	_, err = c1.Send(ctx, "node2", bytes.NewReader([]byte("hi")), 2, SendParams{N: 3, K: 1})
	if !errors.Is(err, delivery.ErrInvalidParams) {
		t.Fatalf("send with k=1: %v, want ErrInvalidParams", err)
	}
}

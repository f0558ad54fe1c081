package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/vmdt/vmdt/node/delivery"
)

// TestPooledSharesReachReturningReceiver: node2 is offline when node1
// sends it a message through three relays, which keep the shares in
// their pools (status "pooled"). When node2 comes back, it asks the
// peers it connects to for its shares (claim on connect), long before
// the periodic claim, and its inbox gets the message, byte for byte.
func TestPooledSharesReachReturningReceiver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
	if err := d.StopNode(1); err != nil {
		t.Fatal(err)
	}
	c1, err := NewAPIClient(d.Nodes[0].Repo().Dir())
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 64<<10)
	if _, err := rand.Read(msg); err != nil {
		t.Fatal(err)
	}
	rep, err := c1.Send(ctx, "node2", bytes.NewReader(msg), int64(len(msg)), SendParams{N: 3, K: 2})
	if err != nil {
		t.Fatalf("send to an offline receiver: %v (%+v)", err, rep)
	}
	if rep.Status != delivery.StatusPooled || rep.ID == "" {
		t.Fatalf("send to an offline receiver: %+v, want status pooled", rep)
	}

	if err := d.RestartNode(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c2, err := NewAPIClient(d.Nodes[1].Repo().Dir())
	if err != nil {
		t.Fatal(err)
	}
	// The periodic claim comes after claimInterval (minutes); the
	// message must arrive well before.
	deadline := time.Now().Add(claimInterval / 2)
	for {
		var got bytes.Buffer
		_, err := c2.InboxMessage(ctx, rep.ID, &got)
		if err == nil {
			if !bytes.Equal(got.Bytes(), msg) {
				t.Fatalf("message %s: %d bytes, want the %d sent", rep.ID, got.Len(), len(msg))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s not in node2's inbox after its return: %v", rep.ID, err)
		}
		time.Sleep(100 * time.Millisecond) // polling an external condition
	}
}

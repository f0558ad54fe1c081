package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/vmdt/vmdt/node/delivery"
)

// testSendFileAndCluster continues TestSendThroughRelays on its devnet:
// node1 sends node2 a 9 MiB file through the API (three 4 MiB chunks),
// with NDJSON progress lines that rise to the file's size, and node2
// gets the same bytes back; then node1 creates a cluster that node3 and
// node4 join, and a send within it uses only those two as relays (the
// cluster's n=2), while asking for three fails for want of members.
func testSendFileAndCluster(ctx context.Context, t *testing.T, d *Devnet, c1, c2 *APIClient) {
	const size = 9 << 20
	file := make([]byte, size)
	if _, err := rand.Read(file); err != nil {
		t.Fatal(err)
	}
	var progress []int64
	rep, err := c1.Send(ctx, "node2", bytes.NewReader(file), size, SendParams{N: 3, K: 2, Name: "big.bin",
		Progress: func(sent, total int64) {
			if total != size {
				t.Errorf("progress total %d, want %d", total, size)
			}
			progress = append(progress, sent)
		}})
	if err != nil {
		t.Fatalf("send a 9 MiB file: %v", err)
	}
	if rep.Status != delivery.StatusDelivered || rep.FileSendReport == nil || rep.Chunks != 3 || rep.Sent != 3 ||
		rep.Skipped != 0 || rep.Name != "big.bin" || rep.FileID == "" || rep.ID == "" || rep.Size != size || len(rep.Shares) != 3 {
		t.Fatalf("file report %+v (file %+v)", rep, rep.FileSendReport)
	}
	if len(progress) < 2 || progress[len(progress)-1] != size {
		t.Fatalf("progress lines %v, want several ending at %d", progress, size)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i] < progress[i-1] {
			t.Fatalf("progress went back: %v", progress)
		}
	}
	var got bytes.Buffer
	e, err := c2.InboxMessage(ctx, rep.ID, &got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), file) || e.Name != "big.bin" || e.From != "node1" {
		t.Fatalf("file %s: %d bytes named %q from %q, want the %d sent", rep.ID, got.Len(), e.Name, e.From, size)
	}

	// A cluster of node1, node3 and node4.
	cl, err := c1.CreateCluster(ctx, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	members := map[string]bool{}
	for _, i := range []int{2, 3} {
		c, err := NewAPIClient(d.Nodes[i].Repo().Dir())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.JoinCluster(ctx, cl.ID, d.Nodes[0].Node().ID()); err != nil {
			t.Fatalf("node%d joins: %v", i+1, err)
		}
		members[d.Nodes[i].Node().ID().String()] = true
	}
	list, err := c1.Clusters(ctx)
	if err != nil || len(list) != 1 || list[0].ID != cl.ID || len(list[0].Members) != 3 {
		t.Fatalf("node1's clusters: %+v, %v; want %s with 3 members", list, err, cl.ID)
	}
	msg := []byte("within the cluster")
	var lines int
	rep, err = c1.Send(ctx, "node2", bytes.NewReader(msg), int64(len(msg)), SendParams{Cluster: cl.ID,
		Progress: func(int64, int64) { lines++ }})
	if err != nil {
		t.Fatalf("send within the cluster: %v", err)
	}
	if rep.Status != delivery.StatusDelivered || rep.N != 2 || rep.K != 2 || rep.Cluster != cl.ID || len(rep.Shares) != 2 || lines != 0 {
		t.Fatalf("cluster send: %+v, %d progress lines", rep, lines)
	}
	for _, s := range rep.Shares {
		if !members[s.RelayPeer.String()] {
			t.Fatalf("share %d went through %s, not a cluster member", s.Index, s.RelayPeer)
		}
	}
	_, err = c1.Send(ctx, "node2", bytes.NewReader(msg), int64(len(msg)), SendParams{Cluster: cl.ID, N: 3})
	if !errors.Is(err, delivery.ErrNotEnoughRelays) {
		t.Fatalf("send over 3 relays of a 3-member cluster: %v, want ErrNotEnoughRelays", err)
	}
	_, err = c1.Send(ctx, "node2", bytes.NewReader(msg), int64(len(msg)), SendParams{Cluster: "00"})
	if !errors.Is(err, ErrUnknownCluster) {
		t.Fatalf("send within an unknown cluster: %v, want ErrUnknownCluster", err)
	}
}

package dht

import (
	"context"
	"testing"
	"time"
)

// TestKeepName: the loop republishes with rising sequence numbers until
// its context ends, and Close waits for it.
func TestKeepName(t *testing.T) {
	t.Parallel()
	tn := startNet(t, netConfig{boots: 1, nodes: 2, republish: 100 * time.Millisecond})
	ctx := ctxT(t, 60*time.Second)
	a, b := tn.nodes[0], tn.nodes[1]
	kctx, stop := context.WithCancel(ctx)
	a.d.KeepName(kctx, "keeper", a.priv, a.seal)

	// Wait for two distinct republished records (an external condition:
	// poll with a deadline).
	var seqs []uint64
	for len(seqs) < 2 {
		if ctx.Err() != nil {
			t.Fatalf("saw %d publications before the deadline", len(seqs))
		}
		r, err := b.d.Resolve(ctx, "keeper")
		if err != nil {
			select {
			case <-time.After(10 * time.Millisecond):
			case <-ctx.Done():
			}
			continue
		}
		checkRecord(t, r, "keeper", a, a.seal)
		if len(seqs) == 0 || r.Seq > seqs[len(seqs)-1] {
			seqs = append(seqs, r.Seq)
		}
	}
	stop()
	if err := a.d.Close(); err != nil { // waits for the loop
		t.Fatal(err)
	}
	a.d.KeepName(ctx, "keeper", a.priv, a.seal) // after Close: no loop starts
	a.d.wg.Wait()
}

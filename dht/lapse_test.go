package dht

import (
	"errors"
	"testing"
	"time"

	"github.com/vmdt/vmdt/dht/namerec"
)

// TestNameLapsesAfterClaimTTL: on a shared clock, a name stays held while
// its owner is away for less than 7 days, and becomes free after.
func TestNameLapsesAfterClaimTTL(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{now: time.Now()}
	tn := startNet(t, netConfig{boots: 1, nodes: 3, now: clk.Now})
	ctx := ctxT(t, 60*time.Second)
	old, heir := tn.nodes[0], tn.nodes[1]
	if _, err := old.d.RegisterName(ctx, "alice", old.priv, old.seal); err != nil {
		t.Fatal(err)
	}
	clk.Add(namerec.ClaimTTL - time.Hour)
	if _, err := heir.d.RegisterName(ctx, "alice", heir.priv, heir.seal); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("6 days 23 hours later: %v, want ErrNameTaken", err)
	}
	r, err := tn.nodes[2].d.Resolve(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, r, "alice", old, old.seal)

	clk.Add(time.Hour + time.Second)
	if _, err := tn.nodes[2].d.Resolve(ctx, "alice"); !errors.Is(err, ErrNameNotFound) {
		t.Fatalf("7 days later: %v, want ErrNameNotFound", err)
	}
	if _, err := heir.d.RegisterName(ctx, "alice", heir.priv, heir.seal); err != nil {
		t.Fatalf("7 days later: %v", err)
	}
	r, err = tn.nodes[2].d.Resolve(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, r, "alice", heir, heir.seal)
}

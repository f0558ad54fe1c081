package bootstrap

import (
	"testing"
	"time"

	"github.com/vmdt/vmdt/dht/namerec"
)

func TestClaimTable(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	tab := newClaimTable(2)
	week := namerec.ClaimTTL

	d := tab.claim("alice", "k1", week, now)
	if d.status != namerec.StatusGrantedNew || !d.until.Equal(now.Add(week)) {
		t.Fatalf("first claim: %+v", d)
	}
	// Another key is refused with the holder's held-until, at any time
	// before it.
	if d := tab.claim("alice", "k2", week, now.Add(week-time.Second)); d.status != namerec.StatusHeld || !d.until.Equal(now.Add(week)) {
		t.Fatalf("other key: %+v", d)
	}
	// The owner renews: the hold moves to its now + hold.
	d = tab.claim("alice", "k1", week, now.Add(time.Hour))
	if d.status != namerec.StatusGrantedRenewed || !d.until.Equal(now.Add(time.Hour+week)) {
		t.Fatalf("renewal: %+v", d)
	}
	// A short hold or a clock that went back never shrinks the hold.
	for _, at := range []time.Time{now.Add(2 * time.Hour), now.Add(-24 * time.Hour)} {
		d = tab.claim("alice", "k1", time.Minute, at)
		if !d.until.Equal(now.Add(time.Hour + week)) {
			t.Fatalf("hold shrank to %s at %s", d.until, at)
		}
	}
	// Once the hold lapsed, another key gets the name as a new claim.
	lapse := now.Add(time.Hour + week)
	if d := tab.claim("alice", "k2", time.Minute, lapse); d.status != namerec.StatusGrantedNew || !d.until.Equal(lapse.Add(time.Minute)) {
		t.Fatalf("after lapse: %+v", d)
	}
	// Full table: a new name is refused unless a lapsed hold can go.
	if d := tab.claim("bob", "k3", time.Minute, lapse); d.status != namerec.StatusGrantedNew {
		t.Fatalf("bob: %+v", d)
	}
	if d := tab.claim("carol", "k4", time.Minute, lapse); d.status != namerec.StatusUnavailable {
		t.Fatalf("carol in a full table: %+v", d)
	}
	if d := tab.claim("carol", "k4", time.Minute, lapse.Add(time.Minute)); d.status != namerec.StatusGrantedNew {
		t.Fatalf("carol after holds lapsed: %+v", d)
	}
	// undo restores the previous state.
	prev := tab.holds["carol"]
	d = tab.claim("carol", "k4", week, lapse.Add(time.Minute))
	tab.undo("carol", d)
	if tab.holds["carol"] != prev {
		t.Fatalf("undo: %+v, want %+v", tab.holds["carol"], prev)
	}
}

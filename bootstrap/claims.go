package bootstrap

import (
	"time"

	"github.com/vmdt/vmdt/dht/namerec"
)

// hold is a notary's claim for one name: the owner key (marshaled) and
// when the hold lapses.
type hold struct {
	key   string
	until time.Time
}

// claimTable is the notary's state, without I/O or locking.
type claimTable struct {
	holds map[string]hold
	max   int
}

func newClaimTable(max int) *claimTable {
	return &claimTable{holds: make(map[string]hold), max: max}
}

// decision is what claim decided; prev is the state to restore if the
// decision cannot be made durable.
type decision struct {
	status  namerec.Status
	until   time.Time // hold for the claimant, or another key's held-until
	prev    hold
	hadPrev bool
}

// claim decides a claim of name for key at now, asking for a hold of d,
// and updates the table. The hold never shrinks, even if the clock went
// backwards, so it always covers every countersignature already given.
func (t *claimTable) claim(name, key string, d time.Duration, now time.Time) decision {
	prev, had := t.holds[name]
	dec := decision{prev: prev, hadPrev: had}
	live := had && now.Before(prev.until)
	if live && prev.key != key {
		dec.status = namerec.StatusHeld
		dec.until = prev.until
		return dec
	}
	if !had && len(t.holds) >= t.max {
		t.prune(now)
		if len(t.holds) >= t.max {
			dec.status = namerec.StatusUnavailable
			return dec
		}
	}
	until := now.Add(d).Truncate(time.Second)
	if had && prev.key == key && prev.until.After(until) {
		until = prev.until
	}
	t.holds[name] = hold{key: key, until: until}
	dec.until = until
	if live {
		dec.status = namerec.StatusGrantedRenewed
	} else {
		dec.status = namerec.StatusGrantedNew
	}
	return dec
}

// undo restores name to its state before claim.
func (t *claimTable) undo(name string, dec decision) {
	if dec.hadPrev {
		t.holds[name] = dec.prev
	} else {
		delete(t.holds, name)
	}
}

// prune drops lapsed holds.
func (t *claimTable) prune(now time.Time) {
	for n, h := range t.holds {
		if !now.Before(h.until) {
			delete(t.holds, n)
		}
	}
}

// set installs a hold read from the log, keeping the later one.
func (t *claimTable) set(name string, h hold) {
	if old, ok := t.holds[name]; ok && old.key == h.key && old.until.After(h.until) {
		return
	}
	t.holds[name] = h
}

package sharepool

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	c := newClock()
	one := EntryCost(1)
	p := openPool(t, t.TempDir(), c, Limits{PerRecipient: one, TTL: time.Hour, MaxShareLen: 1 << 20})
	if err := p.Check(addr(1), addr(2), 10); err != nil {
		t.Fatalf("empty pool: %v", err)
	}
	mustAdd(t, p, share(1, 1, 2, 1, "held"))
	var le *LimitError
	if err := p.Check(addr(1), addr(2), 10); !errors.Is(err, ErrFull) || !errors.As(err, &le) || le.Limit != LimitPerRecipient {
		t.Fatalf("full recipient: %v, want the per-recipient limit", err)
	}
	if err := p.Check(addr(1), addr(3), 10); err != nil {
		t.Fatalf("another recipient: %v", err)
	}
	if got := p.RecipientUsage(addr(2)).Entries; got != 1 {
		t.Fatalf("Check changed the pool: %d entries", got)
	}
	if err := p.Check(addr(1), addr(3), 2<<20); !errors.Is(err, ErrInvalid) {
		t.Fatalf("share above MaxShareLen: %v", err)
	}
	// Once the held share expires it no longer counts.
	c.Advance(2 * time.Hour)
	if err := p.Check(addr(1), addr(2), 10); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}

// A share of a MiB, the size of a sealed envelope, survives a restart.
func TestLargeShareRestart(t *testing.T) {
	c := newClock()
	dir := t.TempDir()
	p := openPool(t, dir, c, Limits{MaxShareLen: MaxDataLen})
	e := share(1, 1, 2, 1, "")
	e.Data = bytes.Repeat([]byte{0xa5, 0x5a, 1}, 1<<20/3+1)
	mustAdd(t, p, e)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = openPool(t, dir, c, Limits{MaxShareLen: MaxDataLen})
	got := claim(t, p, addr(2), nil)
	if len(got) != 1 || !bytes.Equal(got[0].Data, e.Data) {
		t.Fatalf("after restart: %d shares", len(got))
	}
}

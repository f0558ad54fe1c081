package sharepool

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func addr(b byte) protocol.DDTAddr {
	var a protocol.DDTAddr
	for i := range a {
		a[i] = b
	}
	return a
}

func msg(b byte) protocol.MessageID { return protocol.MessageID{b, b, b, b, b, b, b, b} }

func share(m, src, dst, index byte, data string) Entry {
	return Entry{MsgID: msg(m), Src: addr(src), Dst: addr(dst), ShareIndex: index, N: 3, K: 2, Data: []byte(data)}
}

// openPool opens a pool in dir with a fake clock and no janitor unless
// lim says otherwise.
func openPool(t *testing.T, dir string, c *clock, lim Limits) *Pool {
	t.Helper()
	if lim.Clock == nil {
		lim.Clock = c.Now
	}
	if lim.SweepInterval == 0 {
		lim.SweepInterval = -1
	}
	p, err := Open(dir, lim)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func mustAdd(t *testing.T, p *Pool, es ...Entry) {
	t.Helper()
	for _, e := range es {
		if err := p.Add(e); err != nil {
			t.Fatalf("add %s/%d: %v", e.MsgID, e.ShareIndex, err)
		}
	}
}

func claim(t *testing.T, p *Pool, dst protocol.DDTAddr, id *protocol.MessageID) []Entry {
	t.Helper()
	es, err := p.Claim(dst, id)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// sameShares checks that got holds exactly the shares of want, in order,
// comparing the fields a sender sets.
func sameShares(t *testing.T, got []Entry, want ...Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d shares, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.key() != w.key() || g.N != w.N || g.K != w.K || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("share %d: got %s/%d %q, want %s/%d %q", i, g.MsgID, g.ShareIndex, g.Data, w.MsgID, w.ShareIndex, w.Data)
		}
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

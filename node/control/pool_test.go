package control

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// memPool is a SharePool in memory; Claim removes what it returns.
type memPool struct {
	mu     sync.Mutex
	shares []ctl.PoolShare
	err    error
}

func (p *memPool) Add(_ context.Context, s ctl.PoolShare) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.shares = append(p.shares, s)
	return nil
}

func (p *memPool) held() []ctl.PoolShare {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ctl.PoolShare(nil), p.shares...)
}

func (p *memPool) Claim(_ context.Context, dst protocol.DDTAddr, id *protocol.MessageID, max int) ([]ctl.PoolShare, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out, keep []ctl.PoolShare
	for _, s := range p.shares {
		if s.Dst == dst && (id == nil || s.MessageID == *id) && len(out) < max {
			out = append(out, s)
		} else {
			keep = append(keep, s)
		}
	}
	p.shares = keep
	return out, nil
}

func TestSharePoolNotImplemented(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 0, nil)
	connect(t, a.h, b.h)
	c, err := a.s.Dial(testCtx(t), b.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.SharePoolAdd(testCtx(t), ctl.PoolShare{Dst: b.addr(t), Index: 1, N: 2, K: 2, Data: []byte{1}})
	if remoteCode(err) != ctl.CodeNotImplemented {
		t.Fatalf("add: %v", err)
	}
	if _, err := c.SharePoolClaim(testCtx(t), nil); remoteCode(err) != ctl.CodeNotImplemented {
		t.Fatalf("claim: %v", err)
	}
}

func TestSharePoolAddAndClaim(t *testing.T) {
	pool := &memPool{}
	src := newNode(t, 0, nil)
	relay := newNode(t, 0, &Config{SharePool: pool})
	dst := newNode(t, 0, nil)
	connect(t, src.h, relay.h)
	connect(t, dst.h, relay.h)

	m1, m2 := protocol.MessageID{1}, protocol.MessageID{2}
	c, err := src.s.Dial(testCtx(t), relay.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := []ctl.PoolShare{
		{MessageID: m1, Src: src.addr(t), Dst: dst.addr(t), Index: 1, N: 3, K: 2, Data: []byte("share one")},
		{MessageID: m2, Src: src.addr(t), Dst: dst.addr(t), Index: 2, N: 3, K: 2, Data: make([]byte, ctl.MaxShareLen)},
		{MessageID: m2, Src: src.addr(t), Dst: dst.addr(t), Index: 3, N: 3, K: 2, Data: []byte{0}},
	}
	for _, s := range want {
		s.Src = protocol.DDTAddr{} // the client fills in the sender
		if err := c.SharePoolAdd(testCtx(t), s); err != nil {
			t.Fatal(err)
		}
	}
	if held := pool.held(); !reflect.DeepEqual(held, want) {
		t.Fatalf("pool holds %+v", held)
	}

	// The source cannot claim the destination's shares: its claim names
	// itself, and the pool holds nothing for it.
	got, err := c.SharePoolClaim(testCtx(t), nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("source's claim: %v, %v", got, err)
	}

	d, err := dst.s.Dial(testCtx(t), relay.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err = d.SharePoolClaim(testCtx(t), &m2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want[1:]) {
		t.Fatalf("claim m2: %+v", got)
	}
	got, err = d.SharePoolClaim(testCtx(t), nil)
	if err != nil || !reflect.DeepEqual(got, want[:1]) {
		t.Fatalf("claim any: %+v, %v", got, err)
	}

	// Pool errors map to codes; plain errors become 500.
	pool.err = ctl.Errorf(ctl.CodeTooLarge, "pool full")
	if err := c.SharePoolAdd(testCtx(t), want[0]); remoteCode(err) != ctl.CodeTooLarge {
		t.Fatalf("pool full: %v", err)
	}
	pool.err = errors.New("disk")
	if err := c.SharePoolAdd(testCtx(t), want[0]); remoteCode(err) != ctl.CodeInternal {
		t.Fatalf("pool failure: %v", err)
	}
}

func TestSharePoolAddForAnotherSourceIsRefused(t *testing.T) {
	pool := &memPool{}
	a := newNode(t, 0, nil)
	relay := newNode(t, 0, &Config{SharePool: pool})
	other := newNode(t, 0, nil)
	connect(t, a.h, relay.h)
	r := openRaw(t, a.h, relay.h)
	r.write(fmt.Sprintf("SHARE_POOL_ADD|0102030405060708|%s|%s|1|2|2|AA\n", other.addr(t), relay.addr(t)))
	r.expectErr(ctl.CodeWrongClient)
	r.write(fmt.Sprintf("SHARE_POOL_CLAIM|*|%s\n", other.addr(t)))
	r.expectErr(ctl.CodeWrongClient)
	if len(pool.held()) != 0 {
		t.Fatal("share stored")
	}
}

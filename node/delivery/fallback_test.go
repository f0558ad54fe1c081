package delivery

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmdt/vmdt/node/sharepool"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
	"github.com/vmdt/vmdt/rdt"
)

// With n=6, k=3, the receiver goes offline (all its UDP dropped, engine
// and control protocol closed) after it got part of the shares: every
// relay's forward fails, each keeps its share in its pool. Alice's Send
// gets no DELIVERED within her DeliveryTimeout, finds bob unreachable and
// reports the message pooled, its shares held by the relays. When bob
// comes back he claims the shares and decodes the message; the pools end
// empty.
func TestForwardFailsThenPooled(t *testing.T) {
	c := newPoolClusterTimeout(t, 6, nil, 2*time.Second) // a forward fails 2 s after the receiver goes silent
	ctx := testCtx(t)
	goOffline(c.carol) // the six pool relays are alice's only candidates
	goOffline(c.mallory)
	restartEngine(t, c.alice, c.reg, func(cfg *Config) { cfg.DeliveryTimeout = 4 * time.Second; cfg.ClaimInterval = -1 })
	msg := randomBytes(t, 3<<20)
	envLen := envelopeLen(t, c.alice, c.bob, len(msg), 6, 3)

	// Each relay's copy of the share it forwards is one buffer of the
	// share's length (looked at once the relay has served the
	// announcement).
	var mu sync.Mutex
	kept := map[string]int{} // relay name -> length of its copy
	for _, r := range c.relays {
		setHook(t, r.testNode, func(s *rdt.Segment) bool {
			e := r.engP.Load()
			if e == nil {
				return false
			}
			e.mu.Lock()
			rl := e.relays[relayKey{src: s.Header.Src, id: s.Header.MessageID, index: s.Header.ShareIndex}]
			if rl == nil || rl.out == nil {
				e.mu.Unlock()
				return false // not announced yet, or the announcement is being served
			}
			n := -1
			if rl.keep != nil {
				n = len(rl.keep.buf)
			}
			e.mu.Unlock()
			mu.Lock()
			if _, ok := kept[r.name]; !ok {
				kept[r.name] = n
			}
			mu.Unlock()
			return false
		})
	}
	// Bob drops off the network once he got 64 KiB and every relay opened
	// its forward (a relay that finds him gone at RELAY_OPEN pools the
	// share at once instead, and its outcome is pooled, not held).
	forwarding := func() bool {
		for _, r := range c.relays {
			e := r.engP.Load()
			if e == nil {
				return false
			}
			e.mu.Lock()
			open := false
			for _, rl := range e.relays {
				open = open || (rl.out != nil && rl.keep != nil)
			}
			e.mu.Unlock()
			if !open {
				return false
			}
		}
		return true
	}
	const cutAfter = 64 << 10
	cut := make(chan int, 1)
	var got atomic.Int64
	var once atomic.Bool // cut once: bob's traffic flows again when he comes back
	setHook(t, c.bob, func(s *rdt.Segment) bool {
		if n := got.Add(int64(len(s.Payload))); n >= cutAfter && forwarding() && once.CompareAndSwap(false, true) {
			c.bob.conn.drop.Store(true)
			cut <- int(n)
		}
		return false
	})
	t.Cleanup(func() { c.bob.conn.drop.Store(false) })

	type result struct {
		rep Report
		err error
	}
	sent := make(chan result, 1)
	go func() {
		rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3)
		sent <- result{rep, err}
	}()
	select {
	case n := <-cut:
		t.Logf("bob cut off after %d bytes of %d", n, 6*envLen)
	case r := <-sent:
		t.Fatalf("send ended before bob was cut: %v (%+v)", r.err, r.rep)
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	goOffline(c.bob)

	// Every relay's forward fails; each keeps its share, completes it
	// from alice's transfer and stores it.
	relaying := func() int {
		n := 0
		for _, r := range c.relays {
			e := r.engP.Load()
			e.mu.Lock()
			n += len(e.relays)
			e.mu.Unlock()
		}
		return n
	}
	waitFor(t, ctx, "shares pooled", func() bool { return c.pooledFor(c.bob.ddt) == 6 && relaying() == 0 })
	mu.Lock()
	for _, r := range c.relays {
		if n := kept[r.name]; n != envLen || n > r.eng.cfg.MaxShareLen {
			t.Errorf("%s kept a copy of %d bytes of a share of %d (MaxShareLen %d)", r.name, n, envLen, r.eng.cfg.MaxShareLen)
		}
	}
	mu.Unlock()
	for _, r := range c.relays {
		es, err := r.pool.Claim(c.bob.ddt, nil)
		if err != nil || len(es) != 1 || len(es[0].Data) != envLen || es[0].Src != c.alice.ddt {
			t.Fatalf("%s holds %d shares for bob (%v)", r.name, len(es), err)
		}
	}
	var r result
	select {
	case r = <-sent:
	case <-ctx.Done():
		t.Fatalf("send did not end: %v", ctx.Err())
	}
	if r.err != nil || r.rep.Status != StatusPooled || countOutcomes(r.rep, OutcomeHeld) < 3 {
		t.Fatalf("send while bob is offline: %v (%+v), want pooled with at least 3 shares held", r.err, r.rep)
	}
	for _, s := range r.rep.Shares {
		if s.Outcome != OutcomeHeld {
			t.Errorf("share %d: outcome %q (%s), want held", s.Index, s.Outcome, s.Detail)
		}
	}

	c.bob.conn.drop.Store(false)
	inbox := make(chan Entry, 1)
	comeOnline(t, c.bob, c.reg, func(cfg *Config) { cfg.OnMessage = func(e Entry) { inbox <- e } })
	var ent Entry
	select {
	case ent = <-inbox:
	case <-ctx.Done():
		t.Fatalf("bob got no message after coming online: %v", ctx.Err())
	}
	if ent.ID != r.rep.ID.String() || ent.From != "alice" {
		t.Fatalf("bob's entry %+v, want message %s from alice", ent, r.rep.ID)
	}
	if _, body, err := c.bob.eng.Inbox().Get(ent.ID); err != nil || !bytes.Equal(body, msg) {
		t.Fatalf("bob's inbox: %d bytes, %v; want the %d sent", len(body), err, len(msg))
	}
	waitFor(t, ctx, "pools emptied", func() bool { return c.pooledFor(c.bob.ddt) == 0 })
}

// The copies a relay keeps for the pool fallback share one byte budget:
// an announcement beyond it is forwarded without a copy, and dropping a
// relayed share returns its bytes to the budget.
func TestKeepBudget(t *testing.T) {
	pool, err := sharepool.Open(t.TempDir(), sharepool.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	e := &Engine{cfg: Config{Pool: pool, MaxKeepBytes: 100, Now: time.Now}, relays: map[relayKey]*relayed{}, perSender: map[protocol.DDTAddr]int{}}
	cmd := func(n uint32) *ctl.RelayOpen {
		return &ctl.RelayOpen{ClientID: protocol.DDTAddr{1}, Dst: protocol.DDTAddr{2}, ShareLen: n}
	}
	a := e.keepBuffer(cmd(60))
	if a == nil || len(a.buf) != 60 {
		t.Fatalf("first copy: %v", a)
	}
	if b := e.keepBuffer(cmd(41)); b != nil {
		t.Fatal("a copy beyond MaxKeepBytes was kept")
	}
	b := e.keepBuffer(cmd(40))
	if b == nil {
		t.Fatal("a copy within MaxKeepBytes was refused")
	}
	key := relayKey{src: protocol.DDTAddr{1}, index: 1}
	r := &relayed{keep: a}
	e.relays[key] = r
	e.perSender[key.src] = 1
	e.dropRelay(key, r)
	if c := e.keepBuffer(cmd(60)); c == nil {
		t.Fatal("dropping a relayed share did not return its copy's bytes")
	}
}

package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/internal/p2ptest"
	"github.com/vmdt/vmdt/node/control"
	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/node/sharepool"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
	"github.com/vmdt/vmdt/ssms"
)

// restartEngine replaces n's engine by a new one, as a node restart
// would, with Config changed by mod.
func restartEngine(t testing.TB, n *testNode, reg *names, mod func(*Config)) {
	t.Helper()
	if n.eng != nil {
		n.engP.Store(nil)
		n.eng.Close()
	}
	cfg := Config{
		Identity: n.priv, SealKey: n.seal, Transport: n.tr, Control: n.ctl, Names: reg,
		Friends: n.friends, Peers: hostPeers{n.h}, Dir: t.TempDir(), DeliveryTimeout: 30 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	n.eng = e
	n.engP.Store(e)
	n.ctl.SetDelivery(e)
}

// goOffline stops n's engine and control protocol: peers can no longer
// set up a data plane to it.
func goOffline(n *testNode) {
	n.engP.Store(nil)
	n.eng.Close()
	n.ctl.Close()
}

// comeOnline gives n a new control service and engine.
func comeOnline(t *testing.T, n *testNode, reg *names, mod func(*Config)) {
	t.Helper()
	var err error
	port := n.conn.LocalAddr().(*net.UDPAddr).Port
	if n.ctl, err = control.New(n.h, dataPlane{n.tr, port}, nil); err != nil {
		t.Fatal(err)
	}
	c := n.ctl
	t.Cleanup(func() { c.Close() })
	restartEngine(t, n, reg, mod)
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// poolRelay is a relay with a share pool.
type poolRelay struct {
	*testNode
	dir      string
	lim      sharepool.Limits
	pool     *sharepool.Pool
	deposits atomic.Int32 // SHARE_POOL_ADD accepted
}

// countingEngine serves the control protocol like its Engine and counts
// the deposits it accepts.
type countingEngine struct {
	*Engine
	r *poolRelay
}

func (c countingEngine) SharePoolAdd(ctx context.Context, from peer.ID, cmd *ctl.SharePoolAdd) error {
	err := c.Engine.SharePoolAdd(ctx, from, cmd)
	if err == nil {
		c.r.deposits.Add(1)
	}
	return err
}

// depositsFor counts the deposits the relays accepted.
func (c *poolCluster) deposits() int {
	n := 0
	for _, r := range c.relays {
		n += int(r.deposits.Load())
	}
	return n
}

// storedFor counts the shares the relays hold for dst, written and live.
func (c *poolCluster) storedFor(t *testing.T, dst protocol.DDTAddr) int {
	n := 0
	for _, r := range c.relays {
		es, err := r.pool.Claim(dst, nil)
		if err != nil {
			t.Fatal(err)
		}
		n += len(es)
	}
	return n
}

// openPool (re)opens r's pool and restarts its engine with it.
func (r *poolRelay) openPool(t *testing.T, reg *names) {
	t.Helper()
	p, err := sharepool.Open(r.dir, r.lim)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	r.pool = p
	restartEngine(t, r.testNode, reg, func(c *Config) { c.Pool = p })
	r.ctl.SetDelivery(countingEngine{r.eng, r})
}

// restart closes r's engine and pool and opens both again.
func (r *poolRelay) restart(t *testing.T, reg *names) {
	t.Helper()
	r.eng.Close()
	if err := r.pool.Close(); err != nil {
		t.Fatal(err)
	}
	r.openPool(t, reg)
}

// poolCluster is alice, bob, carol and mallory (no friend of bob's), and
// relays with share pools; everyone is connected.
type poolCluster struct {
	reg                        *names
	alice, bob, carol, mallory *testNode
	relays                     []*poolRelay
}

func newPoolCluster(t *testing.T, nRelays int, lim func(alice, bob *testNode) sharepool.Limits) *poolCluster {
	t.Helper()
	return newPoolClusterTimeout(t, nRelays, lim, 5*time.Second)
}

// newPoolClusterTimeout is newPoolCluster with the given rdt
// TransferTimeout on every node.
func newPoolClusterTimeout(t *testing.T, nRelays int, lim func(alice, bob *testNode) sharepool.Limits,
	transferTimeout time.Duration) *poolCluster {
	t.Helper()
	c := &poolCluster{reg: &names{recs: map[string]*dht.NameRecord{}}}
	node := func(name string) *testNode { return newTestNodeTimeout(t, name, c.reg, true, transferTimeout) }
	c.alice = node("alice")
	c.bob = node("bob")
	c.carol = node("carol")
	c.mallory = node("mallory")
	all := []*testNode{c.alice, c.bob, c.carol, c.mallory}
	l := sharepool.Limits{MaxShareLen: sharepool.MaxDataLen, SweepInterval: -1}
	if lim != nil {
		l = lim(c.alice, c.bob)
	}
	for i := range nRelays {
		r := &poolRelay{testNode: node(fmt.Sprintf("relay%d", i+1)), dir: t.TempDir(), lim: l}
		r.openPool(t, c.reg)
		c.relays = append(c.relays, r)
		all = append(all, r.testNode)
	}
	befriend(t, c.alice, c.bob)
	befriend(t, c.alice, c.carol)
	connectAll(t, all...)
	return c
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// pooledFor counts the shares the relays hold for dst.
func (c *poolCluster) pooledFor(dst protocol.DDTAddr) int {
	n := 0
	for _, r := range c.relays {
		n += r.pool.RecipientUsage(dst).Entries
	}
	return n
}

// envelopeLen is the length of each sealed envelope of a message of
// msgLen bytes from a to b.
func envelopeLen(t *testing.T, a, b *testNode, msgLen, n, k int) int {
	t.Helper()
	shares, err := ssms.Split(make([]byte, msgLen), n, k)
	if err != nil {
		t.Fatal(err)
	}
	envs, err := envelope.Seal(a.priv, b.seal.PublicKey(), b.ddt, protocol.MessageID{1}, shares, nil)
	if err != nil {
		t.Fatal(err)
	}
	return len(envs[0])
}

// The receiver is offline: the relays pool the shares, one of them
// restarts, and when the receiver comes back it claims them, decodes the
// message and the pools are emptied.
func TestPooledDelivery(t *testing.T) {
	c := newPoolCluster(t, 6, nil)
	ctx := testCtx(t)
	goOffline(c.bob)

	msg := randomBytes(t, 200<<10)
	rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3)
	if err != nil {
		t.Fatalf("send to an offline receiver: %v (%+v)", err, rep)
	}
	if rep.Status != StatusPooled || countOutcomes(rep, OutcomePooled) < 3 {
		t.Fatalf("report %+v: want pooled with at least 3 pooled shares", rep)
	}
	want := countOutcomes(rep, OutcomePooled)
	// Alice found bob offline before choosing relays, so she deposited
	// the shares with SHARE_POOL_ADD rather than RELAY_OPEN.
	if got := c.deposits(); got != want {
		t.Fatalf("relays accepted %d SHARE_POOL_ADD deposits, want %d (one per pooled share)", got, want)
	}
	waitFor(t, ctx, "shares stored", func() bool { return c.pooledFor(c.bob.ddt) == want })

	// A relay restart keeps its share.
	var r0 *poolRelay
	for _, r := range c.relays {
		if r.pool.RecipientUsage(c.bob.ddt).Entries == 1 {
			r0 = r
		}
	}
	if r0 == nil {
		t.Fatal("no relay holds a share")
	}
	r0.restart(t, c.reg)
	if got := r0.pool.RecipientUsage(c.bob.ddt).Entries; got != 1 {
		t.Fatalf("after a restart %s holds %d shares for bob, want 1", r0.name, got)
	}

	got := make(chan Entry, 1)
	comeOnline(t, c.bob, c.reg, func(cfg *Config) {
		cfg.OnMessage = func(e Entry) { got <- e }
	})
	var ent Entry
	select {
	case ent = <-got:
	case <-ctx.Done():
		t.Fatalf("bob got no message after coming online: %v", ctx.Err())
	}
	if ent.ID != rep.ID.String() || ent.From != "alice" || len(ent.Used) != 3 {
		t.Fatalf("inbox entry %+v for message %s", ent, rep.ID)
	}
	_, body, err := c.bob.eng.Inbox().Get(ent.ID)
	if err != nil || !bytes.Equal(body, msg) {
		t.Fatalf("bob's inbox: %d bytes, %v; want the %d sent", len(body), err, len(msg))
	}
	waitFor(t, ctx, "pools emptied", func() bool { return c.pooledFor(c.bob.ddt) == 0 })
}

// Pool limits are enforced at RELAY_OPEN with an explicit error, other
// receivers' shares stay, and a non-friend cannot deposit.
func TestPoolLimitsAndFriends(t *testing.T) {
	const msgLen = 10 << 10
	c := newPoolCluster(t, 6, func(a, b *testNode) sharepool.Limits {
		// Room for exactly one share per receiver.
		return sharepool.Limits{MaxShareLen: sharepool.MaxDataLen, SweepInterval: -1,
			PerRecipient: sharepool.EntryCost(envelopeLen(t, a, b, msgLen, 6, 3))}
	})
	ctx := testCtx(t)
	goOffline(c.bob)
	goOffline(c.carol)

	// Mallory holds a token bob gave alice: every relay refuses it.
	tok, _ := c.alice.friends.TokenFor(c.bob.ddt)
	c.mallory.friends.mu.Lock()
	c.mallory.friends.tokens[c.bob.ddt] = tok
	c.mallory.friends.mu.Unlock()
	before := make([]sharepool.Usage, len(c.relays))
	for i, r := range c.relays {
		before[i] = r.pool.Usage()
	}
	_, err := c.mallory.eng.Send(ctx, "carol", []byte("x"), 6, 3)
	if !errors.Is(err, ErrNotFriends) {
		t.Fatalf("mallory to carol without a token: %v", err)
	}
	rep, err := c.mallory.eng.Send(ctx, "bob", []byte("hello bob"), 6, 3)
	if !errors.Is(err, ErrUndeliverable) || countOutcomes(rep, OutcomeRefused) < 4 {
		t.Fatalf("mallory with a stolen token: %v (%+v)", err, rep)
	}
	for i, r := range c.relays {
		if u := r.pool.Usage(); u != before[i] || r.pool.SenderUsage(c.mallory.ddt).Entries != 0 {
			t.Fatalf("relay %d pool %+v after mallory's send, was %+v", i+1, u, before[i])
		}
	}
	goOffline(c.mallory) // from now on the six relays are alice's only candidates

	rep, err = c.alice.eng.Send(ctx, "carol", randomBytes(t, msgLen), 6, 3)
	if err != nil || rep.Status != StatusPooled {
		t.Fatalf("send to carol: %v (%+v)", err, rep)
	}
	rep, err = c.alice.eng.Send(ctx, "bob", randomBytes(t, msgLen), 6, 3)
	if err != nil || rep.Status != StatusPooled {
		t.Fatalf("first send to bob: %v (%+v)", err, rep)
	}
	nBob := countOutcomes(rep, OutcomePooled)
	if nBob != 6 {
		t.Fatalf("report %+v: want all 6 shares pooled", rep)
	}
	waitFor(t, ctx, "shares stored", func() bool { return c.pooledFor(c.bob.ddt) == nBob && c.pooledFor(c.carol.ddt) > 0 })
	carolHeld := c.pooledFor(c.carol.ddt)

	rep, err = c.alice.eng.Send(ctx, "bob", randomBytes(t, msgLen), 6, 3)
	if !errors.Is(err, ErrUndeliverable) || rep.Status != StatusFailed {
		t.Fatalf("send to bob past his pool limit: %v (%+v), want ErrUndeliverable", err, rep)
	}
	full := 0
	for _, s := range rep.Shares {
		if s.Outcome == OutcomeRefused && strings.Contains(s.Detail, "413") && strings.Contains(s.Detail, "per-recipient") {
			full++
		}
	}
	if full < 4 || countOutcomes(rep, OutcomePooled) != 0 {
		t.Fatalf("report %+v: want at least 4 shares refused with 413 per-recipient, none pooled", rep)
	}
	if c.pooledFor(c.bob.ddt) != nBob || c.pooledFor(c.carol.ddt) != carolHeld {
		t.Fatalf("pools changed: bob %d (was %d), carol %d (was %d)",
			c.pooledFor(c.bob.ddt), nBob, c.pooledFor(c.carol.ddt), carolHeld)
	}

}

// A pooled share that expires is never pushed, and the pool drops it.
func TestPoolExpiry(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	c := newPoolCluster(t, 6, func(*testNode, *testNode) sharepool.Limits {
		return sharepool.Limits{MaxShareLen: sharepool.MaxDataLen, SweepInterval: -1, TTL: time.Hour, Clock: clk.Now}
	})
	ctx := testCtx(t)
	goOffline(c.bob)
	rep, err := c.alice.eng.Send(ctx, "bob", randomBytes(t, 4<<10), 6, 3)
	if err != nil || rep.Status != StatusPooled {
		t.Fatalf("send: %v (%+v)", err, rep)
	}
	want := countOutcomes(rep, OutcomePooled)
	waitFor(t, ctx, "shares stored", func() bool { return c.storedFor(t, c.bob.ddt) == want })

	clk.Advance(2 * time.Hour)
	comeOnline(t, c.bob, c.reg, func(cfg *Config) { cfg.ClaimInterval = -1 })
	n, err := c.bob.eng.Claim(ctx)
	if err != nil || n != 0 {
		t.Fatalf("claim after expiry: %d shares announced, %v; want 0", n, err)
	}
	for _, r := range c.relays {
		r.pool.Expire(clk.Now())
	}
	if got := c.pooledFor(c.bob.ddt); got != 0 {
		t.Fatalf("%d expired shares still held", got)
	}
	if l, _ := c.bob.eng.Inbox().List(); len(l) != 0 {
		t.Fatalf("bob's inbox holds %d messages", len(l))
	}
}

// stagedPeers lists first on the first call and later afterwards.
type stagedPeers struct {
	calls        atomic.Int32
	first, later []peer.ID
}

func (s *stagedPeers) Candidates() []peer.ID {
	if s.calls.Add(1) == 1 {
		return s.first
	}
	return s.later
}

// With n=6, k=3 and four relays refusing, a spare relay carries a missing
// share; without a spare the send fails and nothing reaches the inbox.
func TestSpareRelays(t *testing.T) {
	reg := &names{recs: map[string]*dht.NameRecord{}}
	alice := newTestNode(t, "alice", reg, true)
	bob := newTestNode(t, "bob", reg, true)
	var relays []*testNode
	for i := range 7 {
		relays = append(relays, newTestNode(t, fmt.Sprintf("relay%d", i+1), reg, true))
	}
	befriend(t, alice, bob)
	connectAll(t, append([]*testNode{alice, bob}, relays...)...)
	ctx := testCtx(t)
	for _, r := range relays[:4] {
		r.ctl.SetDelivery(nil) // refuses RELAY_OPEN
	}
	ids := func(ns []*testNode) []peer.ID {
		var out []peer.ID
		for _, n := range ns {
			out = append(out, n.h.ID())
		}
		return out
	}
	peers := &stagedPeers{first: ids(relays[:6]), later: ids(relays)}
	restartEngine(t, alice, reg, func(c *Config) { c.Peers = peers; c.ClaimInterval = -1 })

	t.Run("Spare", func(t *testing.T) {
		msg := randomBytes(t, 64<<10)
		rep, err := alice.eng.Send(ctx, "bob", msg, 6, 3)
		if err != nil || rep.Status != StatusDelivered {
			t.Fatalf("send with one spare: %v (%+v)", err, rep)
		}
		spare := relays[6].h.ID()
		usedSpare := false
		for _, s := range rep.Shares {
			if s.RelayPeer == spare {
				usedSpare = slices_Contains(rep.Used, s.Index)
			}
		}
		if !usedSpare {
			t.Fatalf("report %+v: the spare relay's share was not used", rep)
		}
		if _, body, err := bob.eng.Inbox().Get(rep.ID.String()); err != nil || !bytes.Equal(body, msg) {
			t.Fatalf("bob's inbox: %v", err)
		}
	})

	t.Run("NoSpare", func(t *testing.T) {
		peers.calls.Store(0)
		peers.later = peers.first
		before, _ := bob.eng.Inbox().List()
		rep, err := alice.eng.Send(ctx, "bob", randomBytes(t, 64<<10), 6, 3)
		if !errors.Is(err, ErrUndeliverable) || !strings.Contains(err.Error(), "4 of 6 shares failed") {
			t.Fatalf("send without a spare: %v, want ErrUndeliverable naming 4 of 6 failed", err)
		}
		if rep.Status != StatusFailed || countOutcomes(rep, OutcomeRefused) != 4 {
			t.Fatalf("report %+v: want failed with 4 refusals", rep)
		}
		if _, _, err := bob.eng.Inbox().Get(rep.ID.String()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("message %s in bob's inbox: %v", rep.ID, err)
		}
		if after, _ := bob.eng.Inbox().List(); len(after) != len(before) {
			t.Fatalf("bob's inbox grew from %d to %d", len(before), len(after))
		}
	})
}

func slices_Contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// SHARE_POOL_ADD needs the receiver's friend token for the sender (403),
// and SHARE_POOL_CLAIM lists only the claimant's own shares: a line
// naming another client is refused by the control server (401).
func TestSharePoolAddAndClaimRefusals(t *testing.T) {
	c := newPoolCluster(t, 3, nil)
	ctx := testCtx(t)
	goOffline(c.bob)
	relay := c.relays[0]
	tok, _ := c.alice.friends.TokenFor(c.bob.ddt)
	tb, err := tok.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	add := ctl.SharePoolAdd{MessageID: protocol.MessageID{7}, Dst: c.bob.ddt, DstPeer: c.bob.h.ID(),
		Index: 1, N: 3, K: 2, ShareLen: 100, Token: tb}
	// Mallory presents the token bob gave alice.
	if err := c.mallory.ctl.SharePoolAdd(ctx, relay.h.ID(), add); ctl.CodeOf(err) != ctl.CodeForbidden {
		t.Fatalf("deposit with a stolen token: %v, want ERR|403", err)
	}
	// A deposit for a peer that does not own the receiver's address.
	bad := add
	bad.DstPeer = c.carol.h.ID()
	if err := c.alice.ctl.SharePoolAdd(ctx, relay.h.ID(), bad); ctl.CodeOf(err) != ctl.CodeForbidden {
		t.Fatalf("deposit naming carol's peer for bob: %v, want ERR|403", err)
	}
	if relay.deposits.Load() != 0 || relay.pool.Usage().Entries != 0 {
		t.Fatalf("relay accepted %d deposits, holds %d", relay.deposits.Load(), relay.pool.Usage().Entries)
	}

	// Carol claims what the relay holds for bob: the line speaks for bob,
	// not for the stream's peer.
	st, err := c.carol.h.NewStream(ctx, relay.h.ID(), control.ProtocolID)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := fmt.Fprintf(st, "SHARE_POOL_CLAIM|*|%s\n", c.bob.ddt); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := st.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "ERR|401|") {
		t.Fatalf("claim for another client: %q, %v; want ERR|401", buf[:n], err)
	}
}

// A receiver whose addresses are on the sender's dial backoff (a dial
// failed a moment ago, as on a lossy path right after a restart) is not
// offline: the receiver check's second attempt dials past the backoff,
// and the message is delivered, not deposited.
func TestReceiverCheckDialsPastBackoff(t *testing.T) {
	c := newPoolCluster(t, 6, nil)
	ctx := testCtx(t)
	bob := c.bob.h.ID()
	if err := c.alice.h.Network().ClosePeer(bob); err != nil {
		t.Fatal(err)
	}
	p2ptest.Backoff(t, ctx, c.alice.h, bob)

	msg := randomBytes(t, 20<<10)
	rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3)
	if err != nil || rep.Status != StatusDelivered {
		t.Fatalf("send to bob behind a dial backoff: %v (%+v), want delivered", err, rep)
	}
	if got := c.deposits(); got != 0 {
		t.Fatalf("%d shares deposited with SHARE_POOL_ADD, want none", got)
	}
}

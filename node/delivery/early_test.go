package delivery

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/control"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
	"github.com/vmdt/vmdt/rdt"
)

// lateAnnouncer is a relay's delivery engine whose RELAY_OPEN is served
// only after the first segment of the announced share arrived, so that
// every segment before it takes the early path (early.go).
type lateAnnouncer struct {
	*Engine
	arrived  chan relayKey // first segment of each share, from the hook
	stashed  chan int      // bytes kept for the share when RELAY_OPEN came
	accepted sync.Map      // relayKey -> true once an announcement was accepted
}

func (l *lateAnnouncer) RelayOpenMode(ctx context.Context, from peer.ID, cmd *ctl.RelayOpen) (string, error) {
	select {
	case key := <-l.arrived:
		if key != cmdKey(cmd) {
			return "", ctl.Errorf(ctl.CodeConflict, "test: segments of another share arrived first")
		}
	case <-ctx.Done():
		return "", ctx.Err()
	}
	l.mu.Lock()
	kept := 0
	if es := l.early[cmdKey(cmd)]; es != nil {
		kept = es.bytes
	}
	l.mu.Unlock()
	l.stashed <- kept
	mode, err := l.Engine.RelayOpenMode(ctx, from, cmd)
	if err == nil {
		l.accepted.Store(cmdKey(cmd), true)
	}
	return mode, err
}

func (l *lateAnnouncer) RelayOpen(ctx context.Context, from peer.ID, cmd *ctl.RelayOpen) error {
	_, err := l.RelayOpenMode(ctx, from, cmd)
	return err
}

// A small share is sent while its RELAY_OPEN is on the way; relays keep
// what arrives before they accept the announcement and forward it after.
func TestEarlySegmentsForwardedAfterAnnouncement(t *testing.T) {
	c := newCluster(t)
	const n, k = 6, 3
	stashed := make(chan int, 2*len(c.relays))
	var announcers []*lateAnnouncer
	for _, r := range c.relays {
		l := &lateAnnouncer{Engine: r.eng, arrived: make(chan relayKey, 64), stashed: stashed}
		announcers = append(announcers, l)
		first := map[relayKey]bool{}
		hook := func(s *rdt.Segment) bool {
			r.eng.OnSegment(*s) // stash (or forward) first, then tell RELAY_OPEN
			if key := headerKey(s.Header); s.Header.Dst != r.ddt && !first[key] {
				first[key] = true
				l.arrived <- key
			}
			return true
		}
		r.hook.Store(&hook)
		r.ctl.SetDelivery(l)
	}
	msg := randomBytes(t, 20_000) // shares of about 7 KB: sent early
	rep, err := c.alice.eng.Send(testCtx(t), "bob", msg, n, k)
	if err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, c, rep, msg, n, k)
	early := 0
	for len(stashed) > 0 {
		if b := <-stashed; b > 0 {
			early++
		}
	}
	if early < k {
		t.Errorf("only %d relays held early segments when the announcement came, want at least %d", early, k)
	}
	// An accepted announcement took its early segments. A share whose
	// RELAY_OPEN the sender gave up once the message was delivered stays
	// until EarlyTTL (TestEarlySegmentsLimits), but nothing else does.
	for i, r := range c.relays {
		r.eng.mu.Lock()
		for key, es := range r.eng.early {
			if _, ok := announcers[i].accepted.Load(key); ok {
				t.Errorf("%s still keeps %d early bytes of share %d, whose announcement it accepted", r.name, es.bytes, key.index)
			}
			if rep.Shares[key.index-1].RelayPeer != r.h.ID() {
				t.Errorf("%s keeps early bytes of share %d, which it was not sent", r.name, key.index)
			}
		}
		r.eng.mu.Unlock()
	}
}

// earlyFixture is a relay engine that cannot reach anybody, alice's
// announcement of a share for bob, and a segment of it.
func earlyFixture(t *testing.T) (*Engine, ctl.RelayOpen, rdt.Segment) {
	t.Helper()
	relay, alice, bob := newIdentity(t), newIdentity(t), newIdentity(t)
	e := newOfflineEngine(t, relay, &friendBook{})
	cmd := relayOpenCmd(t, alice, bob)
	cmd.MessageID, cmd.Index, cmd.ShareLen = protocol.MessageID{7}, 2, 4000
	s := rdt.Segment{From: &netAddr{"10.0.0.1:9"}, KeyID: 1, Header: protocol.VMDTHeader{Type: protocol.TypeShare,
		ShareIndex: 2, N: 6, K: 3, MessageID: cmd.MessageID, Src: alice.ddt, Dst: bob.ddt, ShareLen: 4000},
		Payload: bytes.Repeat([]byte{0xab}, 1000)}
	return e, cmd, s
}

type netAddr struct{ s string }

func (a *netAddr) Network() string { return "udp" }
func (a *netAddr) String() string  { return a.s }

func earlyState(e *Engine) (shares, bytes int, sessions int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.early), e.earlyBytes, len(e.earlyPerSession)
}

func TestEarlySegmentsDroppedWhenRefused(t *testing.T) {
	e, cmd, s := earlyFixture(t)
	payload := s.Payload
	e.OnSegment(s)
	payload[0] = 0 // the relay must have copied the payload
	if sh, b, _ := earlyState(e); sh != 1 || b != 1000 {
		t.Fatalf("kept %d shares, %d bytes; want 1 share of 1000 bytes", sh, b)
	}
	if got := e.early[cmdKey(&cmd)].segs[0].Payload[0]; got != 0xab {
		t.Fatalf("early payload aliases the transport's buffer")
	}
	// The receiver is unreachable and there is no pool: refused, dropped.
	if err := e.RelayOpen(context.Background(), "", &cmd); ctl.CodeOf(err) != ctl.CodeUnavailable {
		t.Fatalf("RelayOpen: %v, want 503", err)
	}
	if sh, b, ss := earlyState(e); sh != 0 || b != 0 || ss != 0 {
		t.Fatalf("after the refusal %d shares, %d bytes, %d sessions kept", sh, b, ss)
	}
}

func TestEarlySegmentsLimits(t *testing.T) {
	e, _, s := earlyFixture(t)
	now := time.Now()
	e.cfg.Now = func() time.Time { return now }
	e.cfg.EarlyShareLen, e.cfg.EarlyPerSession, e.cfg.MaxEarlyBytes, e.cfg.EarlyTTL = 4000, 6000, 7000, time.Second

	// A share announced as larger than EarlyShareLen is never kept.
	big := s
	big.Header.ShareLen = 4001
	e.OnSegment(big)
	if sh, _, _ := earlyState(e); sh != 0 {
		t.Fatalf("a share longer than EarlyShareLen was kept")
	}
	// Per share: at most EarlyShareLen bytes.
	for off := range 5 {
		seg := s
		seg.Header.Offset = uint32(off * 1000)
		e.OnSegment(seg)
	}
	if _, b, _ := earlyState(e); b != 4000 {
		t.Fatalf("kept %d bytes of one share, want 4000", b)
	}
	// Another session cannot add to a share the first session started.
	other := s
	other.KeyID = 2
	e.OnSegment(other)
	if _, b, _ := earlyState(e); b != 4000 {
		t.Fatalf("another session added to the share: %d bytes", b)
	}
	// Per session: EarlyPerSession bytes over all its shares.
	for i := range 3 {
		seg := s
		seg.Header.ShareIndex = uint8(3 + i)
		e.OnSegment(seg)
	}
	if sh, b, _ := earlyState(e); sh != 3 || b != 6000 {
		t.Fatalf("one session kept %d shares, %d bytes; want 3 and 6000", sh, b)
	}
	// In all: MaxEarlyBytes.
	for i := range 2 {
		seg := other
		seg.Header.MessageID = protocol.MessageID{8}
		seg.Header.ShareIndex = uint8(1 + i)
		e.OnSegment(seg)
	}
	if _, b, ss := earlyState(e); b != 7000 || ss != 2 {
		t.Fatalf("kept %d bytes over %d sessions, want 7000 over 2", b, ss)
	}
	// After EarlyTTL everything goes, at the next segment.
	now = now.Add(2 * time.Second)
	seg := s
	seg.Header.MessageID = protocol.MessageID{9}
	e.OnSegment(seg)
	if sh, b, _ := earlyState(e); sh != 1 || b != 1000 {
		t.Fatalf("after the TTL %d shares and %d bytes kept, want only the new one", sh, b)
	}
	// An abandoned transfer drops its share.
	e.OnInboundFailed(nil, seg.Header, rdt.ErrAbandoned)
	if sh, b, ss := earlyState(e); sh != 0 || b != 0 || ss != 0 {
		t.Fatalf("after the abandon %d shares, %d bytes, %d sessions kept", sh, b, ss)
	}
}

// A receiver's record resolved for one Send serves the next ones for
// NameCacheTTL; a failed Send resolves afresh.
func TestNameCache(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	msg := randomBytes(t, 3000)
	for range 2 {
		if _, err := c.alice.eng.Send(ctx, "bob", msg, 4, 2); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.reg.resolved.Load(); got != 1 {
		t.Fatalf("two sends resolved bob %d times, want 1", got)
	}
	// Names are case-folded before the cache is asked.
	if _, err := c.alice.eng.Send(ctx, "BOB", msg, 4, 2); err != nil {
		t.Fatal(err)
	}
	if got := c.reg.resolved.Load(); got != 1 {
		t.Fatalf("BOB resolved again (%d calls)", got)
	}
	// Past the TTL the record is resolved again.
	c.alice.eng.cfg.NameCacheTTL = time.Nanosecond
	if _, err := c.alice.eng.Send(ctx, "bob", msg, 4, 2); err != nil {
		t.Fatal(err)
	}
	if got := c.reg.resolved.Load(); got != 2 {
		t.Fatalf("after the TTL %d calls, want 2", got)
	}
	c.alice.eng.cfg.NameCacheTTL = time.Hour
	// A Send that fails drops the cached record.
	if _, err := c.alice.eng.Send(ctx, "bob", msg, 8, 2); err == nil {
		t.Fatalf("a send over 8 relays with 6 relays succeeded")
	}
	if _, err := c.alice.eng.Send(ctx, "bob", msg, 4, 2); err != nil {
		t.Fatal(err)
	}
	if got := c.reg.resolved.Load(); got != 3 {
		t.Fatalf("after a failed send %d calls, want 3", got)
	}
}

// flakyControl fails the first data-plane handshake with one peer.
type flakyControl struct {
	Control
	peer   peer.ID
	failed atomic.Bool
}

func (f *flakyControl) ConnectDataPlane(ctx context.Context, p peer.ID) (control.PeerEndpoint, error) {
	if p == f.peer && f.failed.CompareAndSwap(false, true) {
		return control.PeerEndpoint{}, ctl.Errorf(ctl.CodeRateLimited, "test: too many concurrent streams")
	}
	return f.Control.ConnectDataPlane(ctx, p)
}

// A relay whose first probe fails is probed once more before the Send
// gives it up: with exactly n relays the Send still finds n.
func TestRelayProbeRetried(t *testing.T) {
	c := newCluster(t)
	flaky := &flakyControl{Control: c.alice.eng.cfg.Control, peer: c.relays[2].h.ID()}
	c.alice.eng.cfg.Control = flaky
	msg := randomBytes(t, 5000)
	rep, err := c.alice.eng.Send(testCtx(t), "bob", msg, 6, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !flaky.failed.Load() {
		t.Fatalf("the flaky relay was never probed")
	}
	checkDelivered(t, c, rep, msg, 6, 3)
}

package delivery

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/control"
	"github.com/vmdt/vmdt/protocol"
)

// dialCounter is a *control.Service that counts the data-plane
// handshakes it starts, per peer. It embeds the service so that the
// engine still finds its optional methods (SHARE_POOL_ADD, FILE_STATUS).
type dialCounter struct {
	*control.Service
	mu    sync.Mutex
	calls map[peer.ID]int
}

func (d *dialCounter) ConnectDataPlane(ctx context.Context, p peer.ID) (control.PeerEndpoint, error) {
	d.mu.Lock()
	d.calls[p]++
	d.mu.Unlock()
	return d.Service.ConnectDataPlane(ctx, p)
}

func (d *dialCounter) count(p peer.ID) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[p]
}

func (d *dialCounter) total() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.calls {
		n += c
	}
	return n
}

// countDials restarts n's engine with a control protocol that counts
// data-plane handshakes.
func countDials(t testing.TB, n *testNode, reg *names) *dialCounter {
	d := &dialCounter{Service: n.ctl, calls: map[peer.ID]int{}}
	restartEngine(t, n, reg, func(cfg *Config) { cfg.Control = d })
	return d
}

// BenchmarkWarmSend64KiB sends 64 KiB messages from alice to bob over
// six relays (k=3) after a first send warmed the data-plane sessions; the
// cluster includes a bootstrap-like node without a data plane. It
// reports the data-plane handshakes alice started per message.
func BenchmarkWarmSend64KiB(b *testing.B) {
	c := newCluster(b)
	reg := c.bob.eng.cfg.Names.(*names)
	d := countDials(b, c.alice, reg)
	ctx := context.Background()
	msg := randomBytes(b, 64<<10)
	if _, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3); err != nil {
		b.Fatal(err)
	}
	before := d.total()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for b.Loop() {
		if rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3); err != nil {
			b.Fatalf("send: %v (%+v)", err, rep)
		}
	}
	b.ReportMetric(float64(d.total()-before)/float64(b.N), "handshakes/op")
}

// confirmTap is a *control.Service that counts the DELIVERED it sends
// per message and fails the first fail of them without sending.
type confirmTap struct {
	*control.Service
	mu    sync.Mutex
	fail  int
	calls map[protocol.MessageID]int
}

func (c *confirmTap) Delivered(ctx context.Context, p peer.ID, id protocol.MessageID, used []int) error {
	c.mu.Lock()
	c.calls[id]++
	failNow := c.fail > 0
	c.fail--
	c.mu.Unlock()
	if failNow {
		return errors.New("confirmTap: connection lost")
	}
	return c.Service.Delivered(ctx, p, id, used)
}

func (c *confirmTap) count(id protocol.MessageID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id]
}

// A candidate without a data plane (the bootstrap node) is probed once:
// later Sends skip it, and warm Sends start no handshake at all.
func TestUnresponsiveCandidateSkipped(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	d := countDials(t, c.alice, c.bob.eng.cfg.Names.(*names))
	for i := range 3 {
		msg := randomBytes(t, 4<<10)
		rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3)
		if err != nil {
			t.Fatalf("send %d: %v (%+v)", i, err, rep)
		}
		checkDelivered(t, c, rep, msg, 6, 3)
		if got := d.count(c.boot.h.ID()); got != 1 {
			t.Fatalf("after send %d alice probed the bootstrap node %d times, want 1", i, got)
		}
		if i == 0 {
			d.mu.Lock()
			clear(d.calls)
			d.calls[c.boot.h.ID()] = 1
			d.mu.Unlock()
		} else if got := d.total(); got != 1 {
			t.Fatalf("warm send %d started %d handshakes in all (bootstrap included once before)", i, got-1)
		}
	}
}

// A DELIVERED that cannot be sent is retried, and the Send completes.
func TestDeliveredRetried(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	tap := &confirmTap{Service: c.bob.ctl, fail: 2, calls: map[protocol.MessageID]int{}}
	restartEngine(t, c.bob, c.bob.eng.cfg.Names.(*names), func(cfg *Config) { cfg.Control = tap })
	msg := randomBytes(t, 8<<10)
	rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 3)
	if err != nil {
		t.Fatalf("send: %v (%+v)", err, rep)
	}
	checkDelivered(t, c, rep, msg, 6, 3)
	if got := tap.count(rep.ID); got != 3 {
		t.Fatalf("bob tried DELIVERED %d times, want 3 (two failed)", got)
	}
}

// The receiver confirms each message once, however many shares of it
// arrive after it decoded.
func TestDeliveredOnce(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	tap := &confirmTap{Service: c.bob.ctl, calls: map[protocol.MessageID]int{}}
	restartEngine(t, c.bob, c.bob.eng.cfg.Names.(*names), func(cfg *Config) { cfg.Control = tap })
	var ids []protocol.MessageID
	for range 5 {
		msg := randomBytes(t, 32<<10)
		rep, err := c.alice.eng.Send(ctx, "bob", msg, 6, 2)
		if err != nil {
			t.Fatalf("send: %v (%+v)", err, rep)
		}
		ids = append(ids, rep.ID)
	}
	// A decoded message queued again by a racing segment is not decoded
	// or confirmed again.
	again := &inbound{key: inKey{id: ids[0]}, done: true, queued: true}
	c.bob.eng.decode(again)
	if again.queued {
		t.Fatal("a decoded message stays queued")
	}
	c.bob.eng.Close() // waits for its confirmations
	for _, id := range ids {
		if got := tap.count(id); got != 1 {
			t.Errorf("message %s confirmed %d times, want 1", id, got)
		}
	}
}

package rdt

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestSimRandomLossDoesNotCollapse sends over a 10 MB/s path with a
// 40 ms RTT and random loss in both directions, and checks that goodput
// stays a healthy fraction of what the lossy path can carry. The
// simulation is deterministic, so this is not a timing assertion.
func TestSimRandomLossDoesNotCollapse(t *testing.T) {
	const rate = 10e6
	for _, loss := range []float64{0, 0.05, 0.15, 0.25} {
		t.Run(fmt.Sprintf("loss%.0f", loss*100), func(t *testing.T) {
			sm := newSim(t, nil,
				simLinkOf(1, 20*time.Millisecond, loss, rate, 256<<10),
				simLinkOf(2, 20*time.Millisecond, loss, 0, 0))
			data := simData(16 << 20)
			tr := sm.send(1, data)
			sm.runUntil(time.Minute, func() bool { return tr.done })
			if tr.err != nil {
				t.Fatal(tr.err)
			}
			got := sm.delivered(1)
			if len(got) != 1 || !bytes.Equal(got[0], data) {
				t.Fatal("share not delivered intact")
			}
			goodput := float64(len(data)) / sm.now.Seconds()
			// The link carries at most rate×(1-loss) of useful bytes
			// (headers aside); require half of that. Plain BBR v1 falls
			// far below this at 25% loss.
			floor := 0.5 * rate * (1 - loss) * float64(1104) / 1200
			l := sm.link[0]
			t.Logf("loss %.0f%%: %v, goodput %.2f MB/s (floor %.2f), sent %d, random loss %d, queue drops %d, est loss %.3f, btlbw %.2f MB/s",
				loss*100, sm.now, goodput/1e6, floor/1e6, l.sent, l.lost, l.queueDrops, sm.s[0].cc.lossRate, sm.s[0].cc.btlBw()/1e6)
			if goodput < floor {
				t.Errorf("goodput %.2f MB/s below %.2f MB/s", goodput/1e6, floor/1e6)
			}
		})
	}
}

// TestSimSlowPathNotFlooded sends over a 1 MB/s bottleneck with a small
// queue and no random loss: the controller must find the rate without
// overrunning the queue much.
func TestSimSlowPathNotFlooded(t *testing.T) {
	const rate = 1e6
	sm := newSim(t, nil,
		simLinkOf(3, 25*time.Millisecond, 0, rate, 32<<10),
		simLinkOf(4, 25*time.Millisecond, 0, 0, 0))
	data := simData(4 << 20)
	tr := sm.send(1, data)
	sm.runUntil(5*time.Minute, func() bool { return tr.done })
	if tr.err != nil {
		t.Fatal(tr.err)
	}
	l := sm.link[0]
	goodput := float64(len(data)) / sm.now.Seconds()
	t.Logf("%v, goodput %.3f MB/s, sent %d, queue drops %d, btlbw %.3f MB/s, est loss %.3f",
		sm.now, goodput/1e6, l.sent, l.queueDrops, sm.s[0].cc.btlBw()/1e6, sm.s[0].cc.lossRate)
	if frac := float64(l.queueDrops) / float64(l.sent); frac > 0.05 {
		t.Errorf("%.1f%% of datagrams dropped at the bottleneck queue", 100*frac)
	}
	if goodput < 0.7*rate*1104/1200 {
		t.Errorf("goodput %.3f MB/s is under 70%% of the bottleneck", goodput/1e6)
	}
}

// TestSimMessagesOnSlowPath sends a stream of 65 KB messages, one at a
// time, over a 1 MB/s bottleneck with a 32 KiB queue. Each message starts
// from an idle pipe, where the pacer briefly runs faster than btlbw; the
// queue must still not overflow much.
func TestSimMessagesOnSlowPath(t *testing.T) {
	sm := newSim(t, nil,
		simLinkOf(5, 25*time.Millisecond, 0, 1e6, 32<<10),
		simLinkOf(6, 25*time.Millisecond, 0, 0, 0))
	data := simData(59 * 1104)
	const n = 40
	for i := 0; i < n; i++ {
		tr := sm.send(uint64(i+1), data)
		sm.runUntil(sm.now+time.Minute, func() bool { return tr.done })
		if tr.err != nil {
			t.Fatal(tr.err)
		}
	}
	l := sm.link[0]
	goodput := float64(n*len(data)) / sm.now.Seconds()
	t.Logf("%d messages in %v: goodput %.3f MB/s, sent %d, queue drops %d, btlbw %.3f MB/s",
		n, sm.now, goodput/1e6, l.sent, l.queueDrops, sm.s[0].cc.btlBw()/1e6)
	if frac := float64(l.queueDrops) / float64(l.sent); frac > 0.05 {
		t.Errorf("%.1f%% of datagrams dropped at the bottleneck queue", 100*frac)
	}
	if tr := sm.s[0].cc.trainRate; tr > 1.3e6 {
		t.Errorf("ack-train rate %.2f MB/s over a 1 MB/s bottleneck", tr/1e6)
	}
	if len(sm.delivered(1)) != n {
		t.Fatalf("%d messages delivered, want %d", len(sm.delivered(1)), n)
	}
}

// TestSimMessageBurstsLearnBottleneck sends short messages (22 datagrams,
// shorter than a round trip at the path's rate) one after another over a
// 12.5 MB/s path: their delivery-rate samples understate the path, but
// the ACK trains of the bursts measure it, and the pacer starts each
// burst from that rate rather than from btlbw.
func TestSimMessageBurstsLearnBottleneck(t *testing.T) {
	const rate = 12.5e6
	sm := newSim(t, nil,
		simLinkOf(7, 5*time.Millisecond, 0, rate, 600<<10),
		simLinkOf(8, 5*time.Millisecond, 0, 0, 0))
	data := simData(22 * 1104)
	for i := range 20 {
		tr := sm.send(uint64(i+1), data)
		sm.runUntil(sm.now+time.Minute, func() bool { return tr.done })
		if tr.err != nil {
			t.Fatal(tr.err)
		}
	}
	cc := sm.s[0].cc
	t.Logf("btlbw %.2f MB/s, ack-train rate %.2f MB/s, pacing %.2f MB/s", cc.btlBw()/1e6, cc.trainRate/1e6, cc.pacingRate/1e6)
	if cc.trainRate < 0.7*rate || cc.trainRate > 1.3*rate {
		t.Errorf("ack-train rate %.2f MB/s, want within 30%% of the path's %.2f MB/s", cc.trainRate/1e6, rate/1e6)
	}
	if cc.btlBw() >= 0.7*rate {
		t.Logf("btlbw learned the path from messages too; the ack train is not needed here")
	}
	if len(sm.delivered(1)) != 20 {
		t.Fatalf("%d messages delivered, want 20", len(sm.delivered(1)))
	}
}

// TestSimAbandonedFlightLeavesWindow: when the receiver abandons a
// message, the datagrams of it still in flight are dropped there without
// an ACK. Once the sender learns of the abandon they leave its flight, so
// the session is idle for the next message instead of waiting for a
// retransmission timeout to declare them lost.
func TestSimAbandonedFlightLeavesWindow(t *testing.T) {
	for _, by := range []string{"receiver", "sender"} {
		t.Run(by, func(t *testing.T) {
			sm := newSim(t, nil,
				simLinkOf(9, 20*time.Millisecond, 0, 5e6, 1<<20),
				simLinkOf(10, 20*time.Millisecond, 0, 0, 0))
			tr := sm.send(1, simData(2<<20))
			sm.runUntil(time.Minute, func() bool { return sm.s[0].inflight > 50 })
			if by == "receiver" {
				sm.s[1].abandonMessage(sm.now, msgKey{tr.hdr.Src, tr.hdr.MessageID})
			} else {
				sm.s[0].abandonMessage(sm.now, msgKey{tr.hdr.Src, tr.hdr.MessageID})
			}
			sm.runUntil(time.Minute, func() bool { return tr.done })
			if !errors.Is(tr.err, ErrAbandoned) {
				t.Fatalf("transfer ended with %v, want ErrAbandoned", tr.err)
			}
			if s := sm.s[0]; s.inflight != 0 || s.inflightBytes != 0 {
				t.Fatalf("after the abandon %d datagrams (%d bytes) still count as in flight", s.inflight, s.inflightBytes)
			}
			// The next message starts at once and completes.
			next := sm.send(2, simData(20*1104))
			sm.runUntil(sm.now+time.Minute, func() bool { return next.done })
			if next.err != nil {
				t.Fatal(next.err)
			}
		})
	}
}

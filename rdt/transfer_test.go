package rdt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/rdt"
	"github.com/vmdt/vmdt/rdt/rdttest"
)

func TestTransferFakeLoss(t *testing.T) {
	for _, tc := range []struct {
		name string
		loss float64
		size int
	}{
		{"0pct", 0, 1 << 20},
		{"5pct", 0.05, 1 << 20},
		{"25pct", 0.25, 512 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				nw := rdttest.NewNetwork(1)
				nw.SetDefault(rdttest.Link{Loss: tc.loss, Delay: 10 * time.Millisecond})
				a := newEndpoint(t, nw, "a", nil)
				b := newEndpoint(t, nw, "b", nil)
				connect(t, a, b, 1)
				h := shareHeader(1, 1)
				data := randomShare(1, tc.size)
				start := time.Now()
				if err := a.Send(context.Background(), b.addr, h, data); err != nil {
					t.Fatalf("Send: %v", err)
				}
				el := time.Since(start)
				receiveShare(t, b, data, h)
				st := a.Stats()
				t.Logf("%d bytes in %v (fake time): %.1f MB/s, sent %d data datagrams, %d retransmits, %d RTOs, %d lost (%d spurious)",
					tc.size, el, float64(tc.size)/el.Seconds()/1e6, st.DataSent, st.Retransmits, st.RTOs, st.Lost, st.Spurious)
			})
		})
	}
}

// TestTransferImpairments sends over links that duplicate, reorder or
// corrupt datagrams and checks byte-exact delivery and the stats that
// show the impairment was met.
func TestTransferImpairments(t *testing.T) {
	for _, tc := range []struct {
		name  string
		link  rdttest.Link
		check func(t *testing.T, a, b rdt.Stats)
	}{
		{"duplicate100", rdttest.Link{Duplicate: 1, Delay: 5 * time.Millisecond, Jitter: time.Millisecond},
			func(t *testing.T, a, b rdt.Stats) {
				if b.DroppedReplay == 0 || a.DroppedReplay == 0 {
					t.Errorf("duplicates not seen as replays: %d, %d", a.DroppedReplay, b.DroppedReplay)
				}
			}},
		{"reorder", rdttest.Link{Reorder: 0.3, Delay: 5 * time.Millisecond, Jitter: 3 * time.Millisecond},
			func(t *testing.T, a, b rdt.Stats) {}},
		{"corrupt5", rdttest.Link{Corrupt: 0.05, Delay: 5 * time.Millisecond},
			func(t *testing.T, a, b rdt.Stats) {
				if b.DroppedAuth+b.DroppedMalformed == 0 {
					t.Error("no corrupted datagram was dropped")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				nw := rdttest.NewNetwork(2)
				nw.SetDefault(tc.link)
				a := newEndpoint(t, nw, "a", nil)
				b := newEndpoint(t, nw, "b", nil)
				connect(t, a, b, 1)
				h := shareHeader(1, 1)
				data := randomShare(4, 700<<10)
				if err := a.Send(context.Background(), b.addr, h, data); err != nil {
					t.Fatalf("Send: %v", err)
				}
				receiveShare(t, b, data, h)
				tc.check(t, a.Stats(), b.Stats())
			})
		})
	}
}

// TestBlackout cuts the link for 2 seconds in the middle of a transfer.
func TestBlackout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(3)
		nw.SetDefault(rdttest.Link{Delay: 10 * time.Millisecond, Rate: 2 << 20})
		a := newEndpoint(t, nw, "a", nil)
		b := newEndpoint(t, nw, "b", nil)
		connect(t, a, b, 1)
		h := shareHeader(1, 1)
		data := randomShare(5, 1<<20)
		start := time.Now()
		done := make(chan error, 1)
		go func() { done <- a.Send(context.Background(), b.addr, h, data) }()
		time.Sleep(150 * time.Millisecond) // fake time: let the transfer get going
		nw.Blackout(a.addr, b.addr, 2*time.Second)
		if err := <-done; err != nil {
			t.Fatalf("Send across a blackout: %v", err)
		}
		if el := time.Since(start); el < 2150*time.Millisecond {
			t.Fatalf("transfer finished after %v, inside the blackout", el)
		}
		receiveShare(t, b, data, h)
		if st := a.Stats(); st.RTOs == 0 {
			t.Error("no retransmission timeout during the blackout")
		}
	})
}

// TestDeadPeer sends to a peer that never answers.
func TestDeadPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(4)
		const timeout = 3 * time.Second
		a := newEndpoint(t, nw, "a", &rdt.Config{TransferTimeout: timeout})
		if err := a.AddPeer(rdttest.Addr("nobody"), 1, [32]byte{1}, true); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err := a.Send(context.Background(), rdttest.Addr("nobody"), shareHeader(1, 1), randomShare(6, 100<<10))
		el := time.Since(start)
		if !errors.Is(err, rdt.ErrPeerUnreachable) || !errors.Is(err, rdt.ErrTimeout) {
			t.Fatalf("Send to a dead peer: %v, want ErrPeerUnreachable and ErrTimeout", err)
		}
		if el < timeout || el > timeout+time.Second {
			t.Fatalf("failed after %v, want just after %v", el, timeout)
		}
		if st := a.Stats(); st.OutboundFailed != 1 || st.OutboundPending != 0 {
			t.Fatalf("stats after failure: failed %d, pending %d", st.OutboundFailed, st.OutboundPending)
		}
	})
}

// TestSeveralPeersOneSocket runs transfers to and from three peers at the
// same time, all through one hub socket, with some loss.
func TestSeveralPeersOneSocket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(5)
		nw.SetDefault(rdttest.Link{Loss: 0.03, Delay: 8 * time.Millisecond, Jitter: 2 * time.Millisecond})
		hub := newEndpoint(t, nw, "hub", nil)
		peers := make([]*endpoint, 3)
		for i := range peers {
			peers[i] = newEndpoint(t, nw, fmt.Sprintf("peer%d", i), nil)
			connect(t, hub, peers[i], uint32(10+i))
		}
		type sent struct {
			to   *endpoint
			data []byte
		}
		want := map[protocol.MessageID]sent{}
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i, p := range peers {
			for j := 0; j < 3; j++ {
				h := shareHeader(uint64(100*i+j+1), uint8(j+1))
				data := randomShare(uint64(100*i+j), 50_000*(j+1))
				want[h.MessageID] = sent{p, data}
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- hub.Send(context.Background(), p.addr, h, data)
				}()
			}
			// And one transfer back to the hub.
			h := shareHeader(uint64(1000+i), 1)
			data := randomShare(uint64(1000+i), 80_000)
			want[h.MessageID] = sent{hub, data}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- p.Send(context.Background(), hub.addr, h, data)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := 0
		for _, ep := range append([]*endpoint{hub}, peers...) {
			for {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				d, err := ep.Receive(ctx)
				cancel()
				if err != nil {
					break
				}
				w, ok := want[d.Header.MessageID]
				if !ok || w.to != ep || !bytes.Equal(w.data, d.Share) {
					t.Fatalf("unexpected or damaged share %v at %v", d.Header.MessageID, ep.addr)
				}
				delete(want, d.Header.MessageID)
				got++
			}
		}
		if len(want) != 0 {
			t.Fatalf("%d shares missing", len(want))
		}
		if st := hub.Stats(); st.Peers != 3 || st.SharesSent != 9 || st.SharesReceived != 3 {
			t.Fatalf("hub stats: %d peers, %d sent, %d received", st.Peers, st.SharesSent, st.SharesReceived)
		}
	})
}

func TestZeroLengthShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(6)
		a := newEndpoint(t, nw, "a", nil)
		b := newEndpoint(t, nw, "b", nil)
		connect(t, a, b, 1)
		h := shareHeader(9, 2)
		if err := a.Send(context.Background(), b.addr, h, nil); err != nil {
			t.Fatal(err)
		}
		d := receiveShare(t, b, nil, h)
		if d.Header.ShareLen != 0 || len(d.Share) != 0 {
			t.Fatalf("got %d bytes", len(d.Share))
		}
	})
}

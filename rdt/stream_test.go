package rdt_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/rdt"
	"github.com/vmdt/vmdt/rdt/rdttest"
)

// segmentLog records the segments a transport reports.
type segmentLog struct {
	mu    sync.Mutex
	bytes map[protocol.MessageID][]int // per byte: times seen
	data  map[protocol.MessageID][]byte
}

func newSegmentLog() *segmentLog {
	return &segmentLog{bytes: map[protocol.MessageID][]int{}, data: map[protocol.MessageID][]byte{}}
}

func (l *segmentLog) record(s rdt.Segment) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := s.Header.MessageID
	if l.bytes[id] == nil {
		l.bytes[id] = make([]int, s.Header.ShareLen)
		l.data[id] = make([]byte, s.Header.ShareLen)
	}
	copy(l.data[id][s.Header.Offset:], s.Payload)
	for i := range s.Payload {
		l.bytes[id][int(s.Header.Offset)+i]++
	}
}

// TestStreamedSendOutOfOrder writes a share in random-order pieces, with
// pauses, and checks delivery and that OnSegment saw every byte exactly
// once despite loss and duplication.
func TestStreamedSendOutOfOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(7)
		nw.SetDefault(rdttest.Link{Loss: 0.1, Duplicate: 0.2, Delay: 5 * time.Millisecond})
		segs := newSegmentLog()
		a := newEndpoint(t, nw, "a", nil)
		b := newEndpoint(t, nw, "b", &rdt.Config{OnSegment: segs.record})
		connect(t, a, b, 1)
		data := randomShare(8, 300_000)
		h := shareHeader(3, 1)
		h.ShareLen = uint32(len(data))
		out, err := a.OpenSend(b.addr, h)
		if err != nil {
			t.Fatal(err)
		}
		// Pieces of uneven size, written in a shuffled order.
		type piece struct{ off, n int }
		var pieces []piece
		for off := 0; off < len(data); {
			n := min(1+off%5000+off%777, len(data)-off)
			pieces = append(pieces, piece{off, n})
			off += n
		}
		rng := rand.New(rand.NewPCG(1, 1))
		rng.Shuffle(len(pieces), func(i, j int) { pieces[i], pieces[j] = pieces[j], pieces[i] })
		for i, p := range pieces {
			if _, err := out.WriteAt(data[p.off:p.off+p.n], int64(p.off)); err != nil {
				t.Fatal(err)
			}
			if i%20 == 0 {
				time.Sleep(3 * time.Millisecond) // fake time: data trickles in
			}
		}
		if _, err := out.WriteAt([]byte{1}, int64(len(data))); !errors.Is(err, rdt.ErrRange) {
			t.Fatalf("write past the end: %v, want ErrRange", err)
		}
		if err := out.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		receiveShare(t, b, data, h)
		segs.mu.Lock()
		defer segs.mu.Unlock()
		for i, n := range segs.bytes[h.MessageID] {
			if n != 1 {
				t.Fatalf("byte %d reported %d times", i, n)
			}
		}
		if !bytes.Equal(segs.data[h.MessageID], data) {
			t.Fatal("segments do not add up to the share")
		}
	})
}

// TestCutThroughRelay builds A → R → B where R forwards every segment to
// B as it arrives, without reassembling the share itself.
func TestCutThroughRelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(8)
		nw.SetDefault(rdttest.Link{Loss: 0.05, Delay: 10 * time.Millisecond})
		var (
			relay   *endpoint
			mu      sync.Mutex
			forward = map[protocol.MessageID]*rdt.Outgoing{}
			first   time.Time
		)
		bAddr := rdttest.Addr("b")
		relayCfg := &rdt.Config{
			Reassemble: func(net.Addr, protocol.VMDTHeader) bool { return false },
			OnSegment: func(s rdt.Segment) {
				mu.Lock()
				defer mu.Unlock()
				o := forward[s.Header.MessageID]
				if o == nil {
					var err error
					if o, err = relay.OpenSend(bAddr, s.Header); err != nil {
						t.Errorf("OpenSend at the relay: %v", err)
						return
					}
					forward[s.Header.MessageID] = o
					first = time.Now()
				}
				if _, err := o.WriteAt(s.Payload, int64(s.Header.Offset)); err != nil {
					t.Errorf("WriteAt at the relay: %v", err)
				}
			},
		}
		a := newEndpoint(t, nw, "a", nil)
		relay = newEndpoint(t, nw, "r", relayCfg)
		var bFirst time.Time
		var bOnce sync.Once
		b := newEndpoint(t, nw, "b", &rdt.Config{OnSegment: func(rdt.Segment) { bOnce.Do(func() { bFirst = time.Now() }) }})
		connect(t, a, relay, 1)
		connect(t, relay, b, 2)
		data := randomShare(9, 400_000)
		h := shareHeader(4, 2)
		start := time.Now()
		if err := a.Send(context.Background(), relay.addr, h, data); err != nil {
			t.Fatal(err)
		}
		sentAt := time.Since(start)
		receiveShare(t, b, data, h)
		mu.Lock()
		o := forward[h.MessageID]
		mu.Unlock()
		if err := o.Wait(context.Background()); err != nil {
			t.Fatalf("relay's forward: %v", err)
		}
		// Cut-through: B saw its first bytes one hop after the relay did,
		// long before A finished sending.
		if d := bFirst.Sub(first); d > 50*time.Millisecond || bFirst.Sub(start) > sentAt/2 {
			t.Fatalf("B's first segment came %v after the relay's, %v into a %v send", d, bFirst.Sub(start), sentAt)
		}
		if st := relay.Stats(); st.ReassemblyBytes != 0 || st.SharesReceived != 1 {
			t.Fatalf("relay reassembled: %+v", st)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := relay.Receive(ctx); err == nil {
			t.Fatal("the relay delivered a share it was told not to reassemble")
		}
	})
}

// TestReceiverAbandons has the receiver say it has enough after the
// first bytes: the sender's Send returns ErrAbandoned, the receiver holds
// nothing, and refuses more of that message, but not of another sender's
// with the same id.
func TestReceiverAbandons(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(9)
		nw.SetDefault(rdttest.Link{Delay: 10 * time.Millisecond, Rate: 1 << 20})
		var b *endpoint
		h := shareHeader(5, 1)
		var once sync.Once
		failed := make(chan error, 1)
		b = newEndpoint(t, nw, "b", &rdt.Config{
			OnSegment: func(s rdt.Segment) { once.Do(func() { b.AbandonMessage(s.Header.Src, s.Header.MessageID) }) },
			OnInboundFailed: func(_ net.Addr, fh protocol.VMDTHeader, err error) {
				if fh.MessageID == h.MessageID {
					failed <- err
				}
			},
		})
		a := newEndpoint(t, nw, "a", nil)
		connect(t, a, b, 1)
		err := a.Send(context.Background(), b.addr, h, randomShare(10, 2<<20))
		if !errors.Is(err, rdt.ErrAbandoned) {
			t.Fatalf("Send: %v, want ErrAbandoned", err)
		}
		if err := <-failed; !errors.Is(err, rdt.ErrAbandoned) {
			t.Fatalf("receiver reported %v", err)
		}
		synctest.Wait()
		if st := b.Stats(); st.InboundTransfers != 0 || st.ReassemblyBytes != 0 || st.InboundAbandoned != 1 {
			t.Fatalf("receiver state after abandon: %+v", st)
		}
		// A new transfer of the same message is refused too.
		h2 := h
		h2.ShareIndex = 2
		if err := a.Send(context.Background(), b.addr, h2, []byte("late")); !errors.Is(err, rdt.ErrAbandoned) {
			t.Fatalf("late share of an abandoned message: %v", err)
		}
		// Another sender's message with the same id is not abandoned:
		// senders choose their ids.
		h3 := h
		h3.Src[0] ^= 0xff
		if err := a.Send(context.Background(), b.addr, h3, []byte("other sender")); err != nil {
			t.Fatalf("another sender's message with the abandoned id: %v", err)
		}
	})
}

// TestSenderAbandons cancels a Send: the receiver frees the partial share
// and reports it.
func TestSenderAbandons(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := rdttest.NewNetwork(10)
		nw.SetDefault(rdttest.Link{Delay: 10 * time.Millisecond, Rate: 1 << 20})
		failed := make(chan error, 1)
		b := newEndpoint(t, nw, "b", &rdt.Config{
			OnInboundFailed: func(_ net.Addr, _ protocol.VMDTHeader, err error) { failed <- err },
		})
		a := newEndpoint(t, nw, "a", nil)
		connect(t, a, b, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		err := a.Send(ctx, b.addr, shareHeader(6, 1), randomShare(11, 2<<20))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Send: %v, want the context's error", err)
		}
		if err := <-failed; !errors.Is(err, rdt.ErrAbandoned) {
			t.Fatalf("receiver reported %v, want ErrAbandoned", err)
		}
		synctest.Wait()
		if st := b.Stats(); st.InboundTransfers != 0 || st.ReassemblyBytes != 0 {
			t.Fatalf("receiver state after abandon: %+v", st)
		}
	})
}

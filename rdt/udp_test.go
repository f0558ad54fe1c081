package rdt_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/vmdt/vmdt/rdt"
)

// newUDPEndpoint starts a transport on a real UDP socket on 127.0.0.1.
// wrap, if not nil, wraps the socket (to inject loss).
func newUDPEndpoint(t testing.TB, cfg *rdt.Config, wrap func(net.PacketConn) net.PacketConn) *endpoint {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var pc net.PacketConn = c
	if wrap != nil {
		pc = wrap(c)
	}
	tr, err := rdt.New(pc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return &endpoint{Transport: tr, addr: c.LocalAddr()}
}

// TestUDPLoopback sends 1 MiB over real UDP sockets, with and without
// Linux UDP segmentation offload, and with 9000-byte datagrams.
func TestUDPLoopback(t *testing.T) {
	for _, tc := range []struct {
		offload bool
		dgram   int
	}{{true, 0}, {false, 0}, {true, 9000}} {
		t.Run(fmt.Sprintf("offload=%v,datagram=%d", tc.offload, tc.dgram), func(t *testing.T) {
			if !tc.offload {
				defer rdt.SetNoOffload()()
			}
			cfg := &rdt.Config{MaxDatagram: tc.dgram}
			a := newUDPEndpoint(t, cfg, nil)
			b := newUDPEndpoint(t, cfg, nil)
			connect(t, a, b, 7)
			h := shareHeader(2, 1)
			data := randomShare(2, 1<<20)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := a.Send(ctx, b.addr, h, data); err != nil {
				t.Fatalf("Send: %v", err)
			}
			receiveShare(t, b, data, h)
		})
	}
}

// lossyConn drops a fraction of the datagrams it writes, deterministically.
type lossyConn struct {
	net.PacketConn
	mu   sync.Mutex
	rng  *rand.Rand
	loss float64
}

func (c *lossyConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	c.mu.Lock()
	drop := c.rng.Float64() < c.loss
	c.mu.Unlock()
	if drop {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, addr)
}

func lossy(seed uint64, loss float64) func(net.PacketConn) net.PacketConn {
	return func(c net.PacketConn) net.PacketConn {
		return &lossyConn{PacketConn: c, rng: rand.New(rand.NewPCG(seed, 3)), loss: loss}
	}
}

// TestUDPLossy sends 4 MiB over real sockets that drop 5% of datagrams in
// each direction.
func TestUDPLossy(t *testing.T) {
	a := newUDPEndpoint(t, nil, lossy(1, 0.05))
	b := newUDPEndpoint(t, nil, lossy(2, 0.05))
	connect(t, a, b, 3)
	h := shareHeader(3, 1)
	data := randomShare(3, 4<<20)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := a.Send(ctx, b.addr, h, data); err != nil {
		t.Fatalf("Send: %v", err)
	}
	receiveShare(t, b, data, h)
	if st := a.Stats(); st.Retransmits == 0 {
		t.Fatal("no retransmission although 5% of datagrams were dropped")
	}
}

// TestNoGoroutineLeak runs transports over real sockets, closes them and
// checks that every goroutine they started is gone.
func TestNoGoroutineLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		a := newUDPEndpoint(t, nil, nil)
		b := newUDPEndpoint(t, nil, nil)
		connect(t, a, b, 4)
		h := shareHeader(4, 1)
		data := randomShare(4, 300_000)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := a.Send(ctx, b.addr, h, data); err != nil {
			t.Fatal(err)
		}
		receiveShare(t, b, data, h)
		// A transfer left pending at Close.
		go a.Send(ctx, b.addr, shareHeader(5, 1), data)
		a.Close()
		b.Close()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond) // polling for goroutines to exit
	}
}

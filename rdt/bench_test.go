package rdt_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/vmdt/vmdt/rdt/rdttest"
)

// cpuTime returns the user+system CPU time of the process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoopbackUDP measures one 16 MiB transfer at a time over real
// UDP sockets on 127.0.0.1.
func BenchmarkLoopbackUDP(b *testing.B) {
	const size = 16 << 20
	src := newUDPEndpoint(b, nil, nil)
	dst := newUDPEndpoint(b, nil, nil)
	connect(b, src, dst, 1)
	data := randomShare(3, size)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b.SetBytes(size)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		h := shareHeader(uint64(i+1), 1)
		if err := src.Send(ctx, dst.addr, h, data); err != nil {
			b.Fatal(err)
		}
		d, err := dst.Receive(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Share) != size {
			b.Fatal("short share")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/float64(time.Millisecond), "cpu-ms/op")
	b.Log(src.DebugPeer(dst.addr))
	st := src.Stats()
	b.ReportMetric(float64(st.Retransmits)/float64(b.N), "retx/op")
	b.ReportMetric(float64(st.RTOs)/float64(b.N), "rto/op")
}

// BenchmarkLossyMessage measures the completion time of one 59-datagram
// message (59 × 1104 = 65136 bytes) over the fake network with 6% loss in
// each direction and 5 ms one-way delay, in real time.
func BenchmarkLossyMessage(b *testing.B) {
	nw := rdttest.NewNetwork(42)
	nw.SetDefault(rdttest.Link{Loss: 0.06, Delay: 5 * time.Millisecond})
	src := newEndpoint(b, nw, "src", nil)
	dst := newEndpoint(b, nw, "dst", nil)
	connect(b, src, dst, 1)
	data := randomShare(5, 59*1104)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := shareHeader(uint64(i+1), 1)
		if err := src.Send(ctx, dst.addr, h, data); err != nil {
			b.Fatal(err)
		}
		if _, err := dst.Receive(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.Log(src.DebugPeer(dst.addr))
	st := src.Stats()
	b.ReportMetric(float64(st.Retransmits)/float64(b.N), "retx/op")
	b.ReportMetric(float64(st.RTOs)/float64(b.N), "rto/op")
}

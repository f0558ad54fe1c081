package node

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// idleBenchNodes is the number of ordinary nodes BenchmarkIdleNodes
// starts beside its bootstrap node.
const idleBenchNodes = 10

// BenchmarkIdleNodes measures what an idle node costs in memory and
// goroutines: each iteration starts a bootstrap node and idleBenchNodes
// ordinary nodes in this process on loopback (TCP and QUIC, as a default
// node listens), waits until every node's routing table holds every other
// node, collects garbage and compares the heap in use and the goroutine
// count with those before the start. It reports the differences per node
// (bootstrap included); the time per operation is starting, settling and
// closing the network. make bench runs it with -benchtime 1x.
func BenchmarkIdleNodes(b *testing.B) {
	var heap, goroutines float64
	iterations := 0
	for b.Loop() {
		h, g := idleNetworkCost(b, idleBenchNodes)
		heap += h
		goroutines += g
		iterations++
	}
	b.ReportMetric(heap/float64(iterations), "heap-B/node")
	b.ReportMetric(goroutines/float64(iterations), "goroutines/node")
}

// idleNetworkCost starts a devnet of nodes ordinary nodes, lets it
// settle, and returns the heap in use and the goroutines it adds, per
// node (the bootstrap node counts as one).
func idleNetworkCost(b *testing.B, nodes int) (heapPerNode, goroutinesPerNode float64) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()

	d, err := StartDevnet(ctx, DevnetConfig{Nodes: nodes, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := d.Close(); err != nil {
			b.Errorf("closing the devnet: %v", err)
		}
	}()
	if err := waitRoutingTablesFull(ctx, d); err != nil {
		b.Fatal(err)
	}

	runtime.GC()
	runtime.ReadMemStats(&after)
	g1 := runtime.NumGoroutine()
	all := float64(nodes + 1)
	return float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / all, float64(g1-g0) / all
}

// waitRoutingTablesFull polls until every node of d (bootstrap included)
// has every other node in its DHT routing table, or ctx ends.
func waitRoutingTablesFull(ctx context.Context, d *Devnet) error {
	daemons := append([]*Daemon{d.Bootstrap}, d.Nodes...)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		short := 0
		for _, dm := range daemons {
			if dm.Node().DHT().Kad().RoutingTable().Size() < len(daemons)-1 {
				short++
			}
		}
		if short == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d nodes still miss peers in their routing tables: %w", short, len(daemons), ctx.Err())
		case <-tick.C:
		}
	}
}

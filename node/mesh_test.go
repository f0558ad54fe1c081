package node

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// TestMeshRegisterAndResolveAll runs one bootstrap node and 30 ordinary
// nodes on loopback (real libp2p hosts, TCP only). Every node registers
// its name, then resolves every node's name (900 lookups), all of which
// must succeed; then the bootstrap node stops and lookups must still work.
// With -short the mesh has 10 nodes (100 lookups).
func TestMeshRegisterAndResolveAll(t *testing.T) {
	nodes := 30
	if testing.Short() {
		nodes = 10
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	start := time.Now()
	d, err := StartDevnet(ctx, DevnetConfig{Nodes: nodes, Dir: t.TempDir(), TCPOnly: true, Parallelism: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	t.Logf("started 1 bootstrap node and %d nodes in %v", nodes, time.Since(start))

	start = time.Now()
	if _, err := d.RegisterAll(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("registered %d names in %v", nodes, time.Since(start))

	start = time.Now()
	lookups := d.ResolveAll(ctx, nil)
	elapsed := time.Since(start)
	if len(lookups) != nodes*nodes {
		t.Fatalf("%d lookups, want %d", len(lookups), nodes*nodes)
	}
	ok, slowest := countOK(t, d, lookups)
	t.Logf("%d of %d lookups correct in %v (%.1f ms each on average at parallelism 8, slowest %v)",
		ok, len(lookups), elapsed, float64(elapsed.Microseconds())/1000/float64(len(lookups))*8, slowest)
	if ok != len(lookups) {
		t.Fatalf("%d of %d lookups failed", len(lookups)-ok, len(lookups))
	}

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("mesh after the lookups: live heap %d KiB in the process, about %d KiB per node; %d goroutines",
		ms.HeapAlloc/1024, ms.HeapAlloc/1024/uint64(nodes+1), runtime.NumGoroutine())

	if err := d.StopBootstrap(); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	// Every node resolves five others, spread over the whole mesh.
	lookups = d.ResolveAll(ctx, func(from int) []int {
		out := make([]int, 5)
		for j := range out {
			out[j] = (from + 1 + j*6) % nodes
		}
		return out
	})
	ok, _ = countOK(t, d, lookups)
	t.Logf("without the bootstrap node: %d of %d lookups correct in %v", ok, len(lookups), time.Since(start))
	if ok != len(lookups) {
		t.Fatalf("without the bootstrap node %d of %d lookups failed", len(lookups)-ok, len(lookups))
	}
}

// countOK counts correct lookups, logs the first few failures and returns
// the slowest lookup.
func countOK(t *testing.T, d *Devnet, ls []Lookup) (ok int, slowest time.Duration) {
	t.Helper()
	logged := 0
	for _, l := range ls {
		slowest = max(slowest, l.Took)
		if l.OK(d) {
			ok++
			continue
		}
		if logged < 5 {
			t.Errorf("%s resolving %s: %+v, err %v", d.Names[l.From], l.Name, l.Info, l.Err)
			logged++
		}
	}
	return ok, slowest
}

package dht

import (
	"testing"
	"time"
)

// BenchmarkResolve measures username resolve latency in a mesh of one
// bootstrap node and 29 other DHT servers on loopback TCP. Each operation
// resolves one of 10 registered names from a node other than its owner.
// ms/register is the mean latency of the 10 registrations, run in parallel.
func BenchmarkResolve(b *testing.B) {
	tn := startNet(b, netConfig{boots: 1, nodes: 29})
	ctx := ctxT(b, 10*time.Minute)
	const names = 10
	took := make([]time.Duration, names)
	for i, err := range parallel(names, func(i int) error {
		n := tn.nodes[i]
		start := time.Now()
		_, err := n.d.RegisterName(ctx, nodeName(i), n.priv, n.seal)
		took[i] = time.Since(start)
		return err
	}) {
		if err != nil {
			b.Fatalf("register %s: %v", nodeName(i), err)
		}
	}
	var sum time.Duration
	for _, d := range took {
		sum += d
	}
	register := float64(sum.Microseconds()) / names / 1000
	b.ResetTimer()
	i := 0
	for b.Loop() {
		name := i % names
		from := tn.nodes[names+i%(len(tn.nodes)-names)]
		if _, err := from.d.Resolve(ctx, nodeName(name)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/resolve")
	b.ReportMetric(register, "ms/register")
}

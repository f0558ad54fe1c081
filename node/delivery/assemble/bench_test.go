package assemble

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkAssemble measures assembling and decoding a 4 MiB message,
// n = 6, k = 3, from 1104-byte segments arriving round-robin from the six
// relays, with a share of each relay's segments missing (put back where
// fewer than k would cover a byte). It counts New, every Add with a Ready
// check, and Result, called as soon as Ready; the message bytes per
// second are reported, and what share of all segments was taken in by
// then (with segments arriving round-robin, nearly all of them).
func BenchmarkAssemble(b *testing.B) {
	for _, loss := range []float64{0, 0.06} {
		b.Run(fmt.Sprintf("4MiB_n6_k3_loss%.0f%%", loss*100), func(b *testing.B) {
			const size = 4 << 20
			rng := rand.New(rand.NewPCG(1, 1))
			tm := newTestMsg(b, size, 6, 3, 1)
			segs := tm.segments(1104)
			keep := plan(rng, segs, tm.prefixLen, 3, loss, all(6), loss > 0)
			var order []segment
			missing := 0
			for j := range segs[0] {
				for i := range segs {
					if keep[i][j] {
						order = append(order, segs[i][j])
					} else {
						missing++
					}
				}
			}
			b.SetBytes(size)
			b.ReportAllocs()
			attempts, taken := 0, 0
			for b.Loop() {
				m, err := New(tm.params, Limits{})
				if err != nil {
					b.Fatal(err)
				}
				var msg []byte
				for _, s := range order {
					if _, err := m.Add(s.index, s.off, s.b); err != nil {
						b.Fatal(err)
					}
					taken++
					if m.Ready() {
						var rep Report
						msg, rep, err = m.Result()
						if err != nil {
							b.Fatal(err)
						}
						attempts += rep.Attempts
						break
					}
				}
				if !bytes.Equal(msg, tm.msg) {
					b.Fatal("not decoded")
				}
			}
			b.ReportMetric(float64(attempts)/float64(b.N), "attempts/op")
			b.ReportMetric(float64(missing)/float64(len(segs)*len(segs[0]))*100, "%missing")
			b.ReportMetric(float64(taken)/float64(b.N)/float64(len(segs)*len(segs[0]))*100, "%taken")
		})
	}
}

package ssms

import (
	"fmt"
	"testing"
)

// Benchmarks for docs/SSMS.md:
//
//	go test ./ssms -run XXX -bench . -cpu 1 -count 5 -benchtime 0.5s

var benchSizes = []struct {
	name string
	size int
}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}, {"16MiB", 16 << 20}}

const benchN, benchK = 6, 3

func wirePerMsgByte(b *testing.B, shares []Share, size int) float64 {
	total := 0
	for _, s := range shares {
		w, err := s.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		total += len(w)
	}
	return float64(total) / float64(size)
}

func BenchmarkSplit(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			msg := testMessage(bs.size)
			b.SetBytes(int64(bs.size))
			var shares []Share
			for b.Loop() {
				var err error
				if shares, err = Split(msg, benchN, benchK); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(wirePerMsgByte(b, shares, bs.size), "wire-B/msg-B")
		})
	}
}

func BenchmarkCombine(b *testing.B) {
	for _, bs := range benchSizes {
		msg := testMessage(bs.size)
		shares := mustSplit(b, msg, benchN, benchK)
		for _, set := range []struct {
			name   string
			shares []Share
		}{
			{"data", shares[:benchK]},   // indexes 1..k: no erasure decoding
			{"parity", shares[benchK:]}, // indexes k+1..n: full erasure decoding
		} {
			b.Run(fmt.Sprintf("%s/%s", bs.name, set.name), func(b *testing.B) {
				b.SetBytes(int64(bs.size))
				for b.Loop() {
					if _, err := Combine(set.shares); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCombineReport checks all n shares, which costs a MAC over every
// fragment.
func BenchmarkCombineReport(b *testing.B) {
	for _, bs := range benchSizes {
		shares := mustSplit(b, testMessage(bs.size), benchN, benchK)
		b.Run(bs.name, func(b *testing.B) {
			b.SetBytes(int64(bs.size))
			for b.Loop() {
				if _, err := CombineReport(shares); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkKeySearchBound measures the worst case of key recovery: every
// key share altered, so every step runs to its bound and fails.
func BenchmarkKeySearchBound(b *testing.B) {
	for _, p := range [][2]int{{6, 3}, {255, 3}, {255, 128}} {
		shares := mustSplit(b, testMessage(64), p[0], p[1])
		for i := range shares {
			ks := append([]byte(nil), shares[i].KeyShare...)
			ks[0] ^= 1
			shares[i].KeyShare = ks
		}
		b.Run(fmt.Sprintf("n=%d,k=%d", p[0], p[1]), func(b *testing.B) {
			for b.Loop() {
				if _, err := Combine(shares); err == nil {
					b.Fatal("combined altered shares")
				}
			}
		})
	}
}

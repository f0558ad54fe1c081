// Package stats summarises repeated measurements: completion-time
// percentiles by the nearest-rank method, with failed runs (timeouts)
// counted as slower than any success so that they show up in the tail
// instead of silently improving it.
package stats

import (
	"math"
	"slices"
	"time"
)

// Failed stands for a run that did not complete; it sorts after every
// real duration.
const Failed = time.Duration(math.MaxInt64)

// Percentile returns the p-th percentile (0 < p <= 100) of samples by the
// nearest-rank method: the smallest sample such that at least p percent of
// samples are less than or equal to it. With 30 samples p99 is the maximum.
// It returns 0 and false for an empty slice or p outside (0, 100].
// samples is not modified.
func Percentile(samples []time.Duration, p float64) (time.Duration, bool) {
	if len(samples) == 0 || !(p > 0 && p <= 100) {
		return 0, false
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return s[rank(len(s), p)], true
}

// rank is the zero-based index of the p-th percentile in n sorted samples.
func rank(n int, p float64) int {
	r := int(math.Ceil(p/100*float64(n))) - 1
	return min(max(r, 0), n-1)
}

// Summary is the distribution of one set of runs.
type Summary struct {
	Runs   int           // runs attempted
	Failed int           // runs that did not complete
	P50    time.Duration // Failed when the percentile falls on a failed run
	P90    time.Duration
	P99    time.Duration
	Min    time.Duration // fastest completed run; 0 if none completed
	Mean   time.Duration // mean of completed runs; 0 if none completed
}

// Summarize computes a Summary. Failed runs are given as the Failed value.
func Summarize(samples []time.Duration) Summary {
	s := Summary{Runs: len(samples)}
	if len(samples) == 0 {
		return s
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	s.P50 = sorted[rank(len(sorted), 50)]
	s.P90 = sorted[rank(len(sorted), 90)]
	s.P99 = sorted[rank(len(sorted), 99)]
	var sum time.Duration
	ok := 0
	for _, d := range sorted {
		if d == Failed {
			s.Failed++
			continue
		}
		sum += d
		ok++
	}
	if ok > 0 {
		s.Min = sorted[0]
		s.Mean = sum / time.Duration(ok)
	}
	return s
}

// Ratio returns a/b, or NaN if either is zero or Failed.
func Ratio(a, b time.Duration) float64 {
	if a <= 0 || b <= 0 || a == Failed || b == Failed {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

package stats

import (
	"math"
	"testing"
	"time"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	// 1..30 ms in scrambled order.
	var s []time.Duration
	for i := 30; i >= 1; i-- {
		s = append(s, time.Duration((i*7)%30+1)*time.Millisecond)
	}
	cases := []struct {
		p    float64
		want time.Duration
	}{
		{50, 15 * time.Millisecond},
		{90, 27 * time.Millisecond},
		{99, 30 * time.Millisecond},
		{100, 30 * time.Millisecond},
		{1, 1 * time.Millisecond},
	}
	for _, c := range cases {
		got, ok := Percentile(s, c.p)
		if !ok || got != c.want {
			t.Errorf("p%v = %v, %v; want %v", c.p, got, ok, c.want)
		}
	}
	if s[0] != 1*time.Millisecond+time.Duration((30*7)%30)*time.Millisecond {
		t.Errorf("input was modified: %v", s[0])
	}
}

func TestPercentileRejectsBadInput(t *testing.T) {
	for _, p := range []float64{0, -1, 101, math.NaN()} {
		if _, ok := Percentile(ms(1, 2), p); ok {
			t.Errorf("p=%v accepted", p)
		}
	}
	if _, ok := Percentile(nil, 50); ok {
		t.Error("empty sample accepted")
	}
}

func TestSummarizeCountsFailuresInTail(t *testing.T) {
	s := ms(10, 20, 30, 40, 50, 60, 70, 80, 90)
	s = append(s, Failed)
	got := Summarize(s)
	if got.Runs != 10 || got.Failed != 1 {
		t.Fatalf("runs/failed = %d/%d", got.Runs, got.Failed)
	}
	if got.P50 != 50*time.Millisecond || got.P90 != 90*time.Millisecond || got.P99 != Failed {
		t.Errorf("p50/p90/p99 = %v/%v/%v", got.P50, got.P90, got.P99)
	}
	if got.Min != 10*time.Millisecond || got.Mean != 50*time.Millisecond {
		t.Errorf("min/mean = %v/%v", got.Min, got.Mean)
	}
	if z := Summarize(nil); z.Runs != 0 || z.P50 != 0 {
		t.Errorf("empty summary = %+v", z)
	}
}

func TestRatio(t *testing.T) {
	if r := Ratio(300*time.Millisecond, 100*time.Millisecond); r != 3 {
		t.Errorf("ratio = %v", r)
	}
	for _, c := range [][2]time.Duration{{0, 1}, {1, 0}, {Failed, 1}, {1, Failed}} {
		if r := Ratio(c[0], c[1]); !math.IsNaN(r) {
			t.Errorf("Ratio(%v) = %v, want NaN", c, r)
		}
	}
}

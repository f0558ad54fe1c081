package runner

import (
	"fmt"
	"math"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/stats"
)

// FormatDuration prints a completion time for tables: "97.1 ms", "3.40 s",
// or "failed" for stats.Failed.
func FormatDuration(d time.Duration) string {
	switch {
	case d == stats.Failed:
		return "failed"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	case d < 10*time.Second:
		if d < time.Second {
			return fmt.Sprintf("%.1f ms", float64(d)/1e6)
		}
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// formatRate prints bits per second as Mbit/s.
func formatRate(bps float64) string {
	if bps <= 0 || math.IsNaN(bps) {
		return "–"
	}
	return fmt.Sprintf("%.1f Mbit/s", bps/1e6)
}

// formatSize prints a byte count with a binary unit where exact.
func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func formatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", r)
}

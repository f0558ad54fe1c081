package runner

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/bench/netlab/emu"
	"github.com/vmdt/vmdt/bench/netlab/stats"
)

func msd(v ...float64) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x * 1e6)
	}
	return out
}

// syntheticReport builds a report as the built-in quick configuration
// would produce it, with made-up times.
func syntheticReport(t testing.TB, vmdt bool) (*Report, *config.Config) {
	t.Helper()
	cfg, err := config.Builtin("full")
	if err != nil {
		t.Fatal(err)
	}
	rep := &Report{ConfigName: "full", Started: time.Unix(0, 0), Finished: time.Unix(60, 0)}
	for _, n := range []string{"vmdt", "tcp-cubic", "tcp-bbr"} {
		ti := TransportInfo{Name: n, Multipath: n == "vmdt"}
		if n == "vmdt" && !vmdt {
			ti.Unavailable = "not plugged in"
		}
		rep.Transports = append(rep.Transports, ti)
	}
	add := func(s, tr, mode string, cell CellInfo, times []time.Duration, wire int64) *Measurement {
		m := &Measurement{Scenario: s, Cell: cell, Transport: tr, Mode: mode, Multipath: tr == "vmdt", Times: times,
			Summary: stats.Summarize(times), PayloadBytes: cell.Size * int64(len(times)),
			Wire: emu.LinkStats{OfferedBytes: wire, MaxPacket: 1500}, SenderOut: emu.LinkStats{OfferedBytes: wire / 2},
			Timeout: 20 * time.Second, Wall: time.Second}
		rep.Measurements = append(rep.Measurements, m)
		return m
	}
	doc := CellInfo{N: 6, K: 3, Size: 70800, Loss: 0.06, RTT: 20 * time.Millisecond, Rate: 100e6}
	for _, mode := range []string{"cold", "warm"} {
		add("doc", "tcp-cubic", mode, doc, msd(100, 120, 300, 3400), 4*70800*2)
		add("doc", "tcp-bbr", mode, doc, msd(80, 90, 100, 200), 4*70800*3)
		if vmdt {
			add("doc", "vmdt", mode, doc, msd(40, 50, 60, 100), 4*70800*5/2)
		}
	}
	for _, n := range []int{2, 4, 6, 8} {
		cell := CellInfo{N: n, K: n / 2, Size: 4 << 20, RTT: 20 * time.Millisecond, Rate: 20e6}
		for _, mode := range []string{"cold", "warm"} {
			add("aggregate", "tcp-cubic", mode, cell, msd(1800, 1850, 1900), 3*(4<<20))
			if vmdt {
				// 4 MiB at 0.8 x n/2 x 20 Mbit/s.
				d := float64(4<<20) * 8 / (0.8 * float64(n/2) * 20e6) * 1e3
				add("aggregate", "vmdt", mode, cell, msd(d, d, d), 3*(4<<20)*2)
			}
		}
	}
	for _, loss := range []float64{0, 0.01, 0.03, 0.06, 0.10} {
		cell := CellInfo{N: 6, K: 3, Size: 1 << 10, Loss: loss, RTT: 20 * time.Millisecond, Rate: 100e6}
		add("grid", "tcp-cubic", "cold", cell, msd(30+loss*1000, 40+loss*2000), 2*1024*2)
		fail := []time.Duration{stats.Failed, stats.Failed}
		if loss < 0.1 {
			fail = msd(20+loss*100, 25)
		}
		add("grid", "tcp-bbr", "cold", cell, fail, 2*1024*2)
	}
	// Grid at 0% loss, warm, for the 1.5x goal: 64 KiB within it; at 1 MiB
	// both TCPs timed out, so VMDT is within it whatever TCP would take.
	for i, size := range []int64{64 << 10, 1 << 20} {
		cell := CellInfo{N: 6, K: 3, Size: size, RTT: 20 * time.Millisecond, Rate: 100e6}
		failed := []time.Duration{stats.Failed, stats.Failed}
		if i == 0 {
			add("grid", "tcp-cubic", "warm", cell, msd(80, 80), size*2)
			add("grid", "tcp-bbr", "warm", cell, msd(70, 75), size*2)
			if vmdt {
				add("grid", "vmdt", "warm", cell, msd(100, 105), size*9)
			}
		} else {
			add("grid", "tcp-cubic", "warm", cell, failed, size*2)
			add("grid", "tcp-bbr", "warm", cell, failed, size*2)
			if vmdt {
				add("grid", "vmdt", "warm", cell, msd(500, 510), size*9)
			}
		}
	}
	return rep, cfg
}

func TestHeadlinesWithoutVMDT(t *testing.T) {
	rep, _ := syntheticReport(t, false)
	h := ComputeHeadlines(rep)
	if h.VMDTAvailable || h.VMDTUnavailable != "not plugged in" {
		t.Fatalf("vmdt state: %v %q", h.VMDTAvailable, h.VMDTUnavailable)
	}
	for _, r := range h.Ratios {
		if r.Value != nil {
			t.Errorf("ratio %s has a value without vmdt", r.Name)
		}
	}
	if h.VMDTWire != nil || h.VMDTSender != nil || h.VMDTGoodput != nil {
		t.Error("vmdt numbers without vmdt")
	}
	if len(h.Baselines) != 4 || *h.Baselines[0].P50ms != 120 || *h.Baselines[0].P99ms != 3400 {
		t.Errorf("baselines %+v", h.Baselines[0])
	}
	var out bytes.Buffer
	h.Print(&out)
	if !strings.Contains(out.String(), "vmdt: NOT YET AVAILABLE (not plugged in)") {
		t.Errorf("no clear unavailable line:\n%s", out.String())
	}
	if strings.Contains(out.String(), "/vmdt time") {
		t.Errorf("ratios printed without vmdt:\n%s", out.String())
	}
}

func TestHeadlinesWithVMDT(t *testing.T) {
	rep, _ := syntheticReport(t, true)
	h := ComputeHeadlines(rep)
	want := map[string]float64{
		"tcp-cubic/vmdt time p50 cold": 120.0 / 50,
		"tcp-cubic/vmdt time p99 cold": 3400.0 / 100,
		"tcp-bbr/vmdt time p50 warm":   90.0 / 50,
		// The better TCP at each percentile.
		"best TCP (tcp-bbr)/vmdt time p50 cold": 90.0 / 50,
		"best TCP (tcp-bbr)/vmdt time p99 warm": 200.0 / 100,
	}
	got := map[string]float64{}
	for _, r := range h.Ratios {
		if r.Value != nil {
			got[r.Name] = *r.Value
		}
	}
	for k, v := range want {
		if math.Abs(got[k]-v) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if h.VMDTWire == nil || math.Abs(*h.VMDTWire-2.5) > 1e-9 {
		t.Errorf("vmdt wire = %v, want 2.5", h.VMDTWire)
	}
	if h.VMDTGoodput == nil || math.Abs(*h.VMDTGoodput-0.8) > 0.01 {
		t.Errorf("vmdt goodput/limit = %v, want 0.8", h.VMDTGoodput)
	}
	var out bytes.Buffer
	h.Print(&out)
	if h.VMDTSender == nil || math.Abs(*h.VMDTSender-1.25) > 1e-9 || h.VMDTNOverK == nil || *h.VMDTNOverK != 2 {
		t.Errorf("vmdt sender = %v, n/k = %v; want 1.25 and 2", h.VMDTSender, h.VMDTNOverK)
	}
	for _, line := range []string{"tcp-cubic/vmdt time p50 cold: 2.40", "vmdt wire bytes per payload byte (scenario 1): 2.50",
		"vmdt sender wire bytes per payload byte (scenario 1): 1.25 (links leaving the sender only; goal n/k = 2.00)",
		"vmdt goodput / physical limit (scenario 3): 0.80"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("missing %q in\n%s", line, out.String())
		}
	}
}

func TestMarkdownAndPlots(t *testing.T) {
	rep, cfg := syntheticReport(t, true)
	dir := t.TempDir()
	plots, err := WritePlots(rep, cfg, filepath.Join(dir, "benchmarks"))
	if err != nil {
		t.Fatal(err)
	}
	// grid: 4 sizes x 2 RTTs; aggregate: 1.
	if len(plots) != 9 {
		t.Fatalf("%d plots", len(plots))
	}
	for _, p := range plots {
		b, err := os.ReadFile(filepath.Join(dir, "benchmarks", p.File))
		if err != nil || !bytes.HasPrefix(b, []byte("<svg")) {
			t.Fatalf("plot %s: %v", p.File, err)
		}
	}
	agg, _ := os.ReadFile(filepath.Join(dir, "benchmarks", "aggregate-goodput.svg"))
	if !strings.Contains(string(agg), "limit n·rate·k/n") || strings.Count(string(agg), "<polyline") < 3 {
		t.Errorf("aggregate plot lacks lines:\n%s", agg)
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, rep, cfg, plots, "benchmarks"); err != nil {
		t.Fatal(err)
	}
	s := md.String()
	for _, want := range []string{"## Machine", "## Method", "| 70800 B | 6% | 20ms | 6/3 | tcp-cubic | cold | 4 | 120.0 ms |",
		"![aggregate: goodput vs relay path count (warm, p50)](benchmarks/aggregate-goodput.svg)", "2 failed"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if os.Getenv("NETLAB_KEEP_PLOTS") != "" {
		_ = os.CopyFS(os.Getenv("NETLAB_KEEP_PLOTS"), os.DirFS(dir))
	}
}

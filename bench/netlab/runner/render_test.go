package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/bench/netlab/micro"
	"github.com/vmdt/vmdt/node/delivery/envelope"
)

func loadMicroTestdata(t testing.TB) *micro.Results {
	t.Helper()
	f, err := os.Open("../micro/testdata/micro.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := micro.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func goalsByCase(checks []GoalCheck) map[string]GoalCheck {
	out := map[string]GoalCheck{}
	for _, c := range checks {
		out[c.Case] = c
	}
	return out
}

func TestGoals(t *testing.T) {
	rep, cfg := syntheticReport(t, true)
	got := goalsByCase(CheckGoals(rep, cfg))
	check := func(name string, value float64, bound string, met bool) {
		t.Helper()
		c, ok := got[name]
		if !ok {
			t.Errorf("no goal check %q (have %v)", name, got)
			return
		}
		if c.Value == nil || abs(int(*c.Value*1000)-int(value*1000)) > 1 || c.Bound != bound || c.Met == nil || *c.Met != met {
			t.Errorf("%s: value %v bound %q met %v; want %v %q %v (%+v)", name, c.Value, c.Bound, c.Met, value, bound, met, c)
		}
	}
	// Warm: tcp-bbr p50 90 ms, p99 200 ms; vmdt 50 ms and 100 ms.
	check("scenario 1, warm: best TCP p50 / VMDT p50", 90.0/50, "", false)
	check("scenario 1, warm: best TCP p99 / VMDT p99", 200.0/100, "", false)
	// Sender bytes: wire/2 = 1.25 B/B against n/k = 2.
	check("scenario 1, cold: VMDT sender B/B, n=6 k=3", 1.25, "", true)
	check("scenario 1, warm: VMDT sender B/B, n=6 k=3", 1.25, "", true)
	// 0% loss: 64 KiB 100/70 ms; 1 MiB against two timed-out TCPs.
	check("grid, warm, 64 KiB, RTT 20ms: VMDT p50 / best TCP p50", 100.0/70, "", true)
	check("grid, warm, 1 MiB, RTT 20ms: VMDT p50 / best TCP p50", 500.0/20000, "<", true)
	if all := got["all of the above"]; all.Met == nil || !*all.Met || all.Margin != "met in 2 of 2 cases" {
		t.Errorf("summary: %+v", all)
	}
	// Scenario 3: 0.8 of the limit at every n; the ratio may round below.
	for _, n := range []string{"n=2 k=1", "n=4 k=2", "n=6 k=3", "n=8 k=4"} {
		for _, mode := range []string{"cold", "warm"} {
			c := got["scenario 3, "+mode+", "+n+": goodput p50 / (n·rate·k/n)"]
			if c.Value == nil || *c.Value < 0.79 || *c.Value > 0.81 {
				t.Errorf("scenario 3 %s %s: %+v", mode, n, c)
			}
		}
	}

	// Without VMDT nothing is checked, and the table says why.
	rep, cfg = syntheticReport(t, false)
	checks := CheckGoals(rep, cfg)
	for _, c := range checks {
		if c.Met != nil {
			t.Errorf("goal checked without vmdt: %+v", c)
		}
	}
	var b bytes.Buffer
	writeGoals(&b, checks)
	if !strings.Contains(b.String(), "VMDT not measured warm in scenario 1") || !strings.Contains(b.String(), "not checked") {
		t.Errorf("goals without vmdt:\n%s", b.String())
	}
}

// TestRenderFromSavedResults: the results JSON, loaded again, renders
// the same report as the run's own data, with the saved configuration.
func TestRenderFromSavedResults(t *testing.T) {
	rep, cfg := syntheticReport(t, true)
	rep.Config, rep.Micro = cfg, loadMicroTestdata(t)
	rep.Machine = DescribeMachine()
	dir := t.TempDir()
	results := filepath.Join(dir, "results.json")
	if err := WriteJSON(results, rep); err != nil {
		t.Fatal(err)
	}
	direct, err := Render(rep, cfg, filepath.Join(dir, "a", "BENCHMARKS.md"), "")
	if err != nil {
		t.Fatal(err)
	}

	back, err := LoadReport(results)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := back.SavedConfig()
	if err != nil || saved == nil {
		t.Fatalf("saved config: %v, %v", saved, err)
	}
	again, err := Render(back, saved, filepath.Join(dir, "b", "BENCHMARKS.md"), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(direct) != len(again) || len(direct) == 0 {
		t.Fatalf("%d plots, then %d", len(direct), len(again))
	}
	a, _ := os.ReadFile(filepath.Join(dir, "a", "BENCHMARKS.md"))
	b, _ := os.ReadFile(filepath.Join(dir, "b", "BENCHMARKS.md"))
	if !bytes.Equal(a, b) {
		t.Errorf("the report rendered from the results file differs")
	}
	for _, p := range direct {
		pa, _ := os.ReadFile(filepath.Join(dir, "a", "benchmarks", p.File))
		pb, _ := os.ReadFile(filepath.Join(dir, "b", "benchmarks", p.File))
		if len(pa) == 0 || !bytes.Equal(pa, pb) {
			t.Errorf("plot %s differs or is empty", p.File)
		}
	}
	md := string(a)
	for _, want := range []string{
		"## Goals", "| scenario 1: VMDT at least 5x faster than the best TCP at p50, warm |", "**no**",
		"### Runs per scenario", "**fewer than 30 runs**", "| grid | 40 | warm | all | 30 | 2 | 6s | 20s |",
		"## Microbenchmarks", "| ssms `BenchmarkSplit/1KiB` | split a message", "| ssms `BenchmarkSplit/64KiB` | as above | 4203 |", "142.6 µs/op, 459.7 MB/s, 401234 B/op, 37 allocs/op, 2.03 wire-B/msg-B",
		"go test -run XXX -bench 'BenchmarkLoopbackUDP|BenchmarkLossyMessage' -benchtime 20x ./rdt",
		"**Failed:** `go test -run XXX -bench BenchmarkResolve -benchtime 300x ./dht`",
		"vmdt sender wire bytes per payload byte (scenario 1): 1.25",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "%!") {
		t.Errorf("formatting error in the report:\n%s", md)
	}
	if strings.Contains(md, "Incomplete") {
		t.Error("a finished run is marked incomplete")
	}
	// No temporary files are left beside the outputs.
	matches, _ := filepath.Glob(filepath.Join(dir, "*", ".*tmp*"))
	if m2, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(matches)+len(m2) > 0 {
		t.Errorf("temporary files left: %v %v", matches, m2)
	}
}

func TestIncompleteReport(t *testing.T) {
	rep, cfg := syntheticReport(t, true)
	rep.Incomplete = "stopped early: context canceled"
	var md bytes.Buffer
	if err := WriteMarkdown(&md, rep, cfg, nil, "benchmarks"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "**Incomplete:** this run did not finish (stopped early: context canceled)") {
		t.Errorf("no incomplete notice:\n%.600s", md.String())
	}
	if !strings.Contains(md.String(), "Not part of this report") {
		t.Error("missing microbenchmarks are not explained")
	}
}

func TestParseReportRejects(t *testing.T) {
	h := ComputeHeadlines(&Report{})
	var quick bytes.Buffer
	if err := writeJSONTo(&quick, h); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"headline file": quick.String(),
		"not json":      "results",
		"array":         "[1]",
		"null measure":  `{"Machine":{"GoVersion":"go"},"Started":"2026-01-01T00:00:00Z","Measurements":[null]}`,
	} {
		if _, err := ParseReport([]byte(in)); !errors.Is(err, ErrBadResults) {
			t.Errorf("%s: err %v, want ErrBadResults", name, err)
		}
	}
}

// writeJSONTo writes v as the results file has it.
func writeJSONTo(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func TestTableOrderAndGroups(t *testing.T) {
	full, err := config.Builtin("full")
	if err != nil {
		t.Fatal(err)
	}
	grid := &full.Scenarios[1]
	cells := grid.Cells()
	mk := func(cell int, tr, mode string) *Measurement {
		c := cells[cell]
		return &Measurement{CellIndex: cell, Transport: tr, Mode: mode, Cell: CellInfo{N: c.N, K: c.K, Size: int64(c.Size), Loss: c.Loss, RTT: c.RTT}}
	}
	// The runner measures one transport through a group of cells after
	// the other; tables list cell by cell.
	ms := []*Measurement{mk(0, "vmdt", "warm"), mk(1, "vmdt", "warm"), mk(0, "tcp-cubic", "cold"), mk(0, "tcp-cubic", "warm"), mk(1, "tcp-cubic", "warm")}
	got := sortedForTable(grid, ms, []TransportInfo{{Name: "vmdt"}, {Name: "tcp-cubic"}})
	var order []string
	for _, m := range got {
		order = append(order, m.Transport+"/"+m.Mode+"@"+string(rune('0'+m.CellIndex)))
	}
	if want := "vmdt/warm@0 tcp-cubic/cold@0 tcp-cubic/warm@0 vmdt/warm@1 tcp-cubic/warm@1"; strings.Join(order, " ") != want {
		t.Errorf("order %v, want %s", order, want)
	}
	for _, s := range full.Scenarios {
		cells := s.Cells()
		groups := cellGroups(cells)
		n := 0
		for _, g := range groups {
			for _, i := range g {
				if i != n {
					t.Fatalf("%s: groups %v skip or reorder cells", s.ID, groups)
				}
				n++
				if c := cells[i]; c.N != cells[g[0]].N || c.K != cells[g[0]].K || c.RTT != cells[g[0]].RTT {
					t.Errorf("%s: cell %d (%v) in the group of %v", s.ID, i, c, cells[g[0]])
				}
			}
		}
		if n != len(cells) {
			t.Errorf("%s: %d of %d cells in groups", s.ID, n, len(cells))
		}
		if s.ID == "grid" && len(groups) != 2 {
			t.Errorf("grid: %d groups, want one per RTT", len(groups))
		}
		if s.ID == "aggregate" && len(groups) != len(s.Paths) {
			t.Errorf("aggregate: %d groups, want one per path count", len(groups))
		}
	}
}

func TestFormatWall(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", 42 * time.Second: "42s", 47*time.Minute + 5*time.Second: "47 min 05 s"} {
		if got := formatWall(d); got != want {
			t.Errorf("formatWall(%v) = %q, want %q", d, got, want)
		}
	}
}

// FuzzParseReport: any results file either fails to parse with
// ErrBadResults or renders (Markdown, goals, headlines, charts) without
// panicking.
func FuzzParseReport(f *testing.F) {
	rep, cfg := syntheticReport(f, true)
	rep.Config, rep.Micro, rep.Machine = cfg, loadMicroTestdata(f), Machine{GoVersion: "go"}
	var seed bytes.Buffer
	if err := writeJSONTo(&seed, rep); err != nil {
		f.Fatal(err)
	}
	f.Add(seed.Bytes())
	f.Add([]byte(`{"Machine":{"GoVersion":"go"},"Started":"2026-01-01T00:00:00Z","Measurements":[{"Scenario":"doc","Transport":"vmdt","Mode":"warm","Cell":{"N":0,"K":0}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := ParseReport(data)
		if err != nil {
			if !errors.Is(err, ErrBadResults) {
				t.Fatalf("error does not wrap ErrBadResults: %v", err)
			}
			return
		}
		c, err := rep.SavedConfig()
		if err != nil || c == nil {
			c = cfg
		}
		if err := WriteMarkdown(io.Discard, rep, c, nil, "benchmarks"); err != nil {
			t.Fatal(err)
		}
		ComputeHeadlines(rep).Print(io.Discard)
		for i := range c.Scenarios {
			ms := rep.scenario(c.Scenarios[i].ID)
			_, _ = pathsChart(ms, "warm").WriteTo(io.Discard)
			for _, rtt := range c.Scenarios[i].RTT {
				for _, size := range c.Scenarios[i].Sizes {
					_, _ = lossChart(ms, "cold", time.Duration(rtt), int64(size)).WriteTo(io.Discard)
				}
			}
		}
	})
}

func TestScenarioOneBounds(t *testing.T) {
	c := CellInfo{N: 6, K: 3, Size: 70800, RTT: 20 * time.Millisecond, Rate: 100e6}
	// 10 ms one way plus 23,600 bytes at 100 Mbit/s.
	if got, want := docFloor(c, true), 10*time.Millisecond+1888*time.Microsecond; got != want {
		t.Errorf("multipath floor %v, want %v", got, want)
	}
	if got, want := docFloor(c, false), 10*time.Millisecond+5664*time.Microsecond; got != want {
		t.Errorf("single-path floor %v, want %v", got, want)
	}
	// Six shares of 23,600 bytes plus the prefix, 1,228 wire bytes per
	// 1,104 share bytes.
	share := 23600.0 + float64(envelope.PrefixLen(6))
	want := 6 * share * 1228 / 1104 / 70800
	if got := senderFloor(c); got < want-1e-9 || got > want+1e-9 {
		t.Errorf("sender floor %v, want %v", got, want)
	}
	if got := senderFloor(CellInfo{}); got != 0 {
		t.Errorf("sender floor of an empty cell %v", got)
	}
	// 4 MiB over 6 paths of 20 Mbit/s, k=3: 60 Mbit/s of payload at most,
	// less the header and prefix share, less 10 ms at the end.
	agg := CellInfo{N: 6, K: 3, Size: 4 << 20, RTT: 20 * time.Millisecond, Rate: 20e6}
	aggShare := float64(4<<20) / 3
	eff := 1104.0 / 1228 * aggShare / (aggShare + float64(envelope.PrefixLen(6)))
	secs := float64(4<<20)*8/(60e6*eff) + 0.010
	if got, want := goodputCeiling(agg), float64(4<<20)*8/secs/60e6; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("goodput ceiling %v, want %v", got, want)
	}
	if got := goodputCeiling(CellInfo{}); got != 0 {
		t.Errorf("goodput ceiling of an empty cell %v", got)
	}
}

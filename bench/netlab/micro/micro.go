// Package micro reads the raw output of Go microbenchmarks (`go test
// -bench`), as `make bench` saves it in bench/.out/micro.txt, so that
// netlab can put the numbers in docs/BENCHMARKS.md.
//
// Data flows in one pass over the text, line by line:
//
//   - "$ CMD" (written by the Makefile before each go test) starts a new
//     Run: the exact command that produced the lines after it;
//   - "pkg: PATH" sets the package of the benchmark lines that follow;
//     "goos:", "goarch:" and "cpu:" describe the machine;
//   - a benchmark line "BenchmarkName[-P] N value unit [value unit]..."
//     becomes a Result with every value/unit pair as a Metric (ns/op,
//     MB/s, B/op, allocs/op and any b.ReportMetric unit such as x/op);
//   - "--- FAIL: ...", "FAIL ...", "panic: ...", a build failure ("[build
//     failed]", "[setup failed]") and "netlab-micro: FAILED ..." (the
//     Makefile's note for a go test that exited non-zero) mark the current
//     Run as failed and keep the line as the reason, with the first lines
//     after a "--- FAIL:" or a build error's "# package" header (the
//     test's message, the compiler's error).
//
// Everything else (PASS, ok, b.Log output) is ignored. Parse never fails
// on odd input: a line that is not one of the above is skipped.
package micro

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"strings"
)

// Metric is one value/unit pair of a benchmark line.
type Metric struct {
	Value float64
	Unit  string // "ns/op", "MB/s", "B/op", "allocs/op", or a custom unit
}

// Result is one benchmark line.
type Result struct {
	Package    string // from the last "pkg:" line; "" if none came before
	Name       string // full name as printed, e.g. "BenchmarkSplit/64KiB" or "BenchmarkResolve-2"
	Base       string // the top-level benchmark: "BenchmarkSplit", "BenchmarkResolve"
	Sub        string // the sub-benchmark path without the GOMAXPROCS suffix: "64KiB", ""
	Procs      int    // GOMAXPROCS from a trailing "-N", 1 when the name has none
	Iterations int64
	Metrics    []Metric
}

// Run is the output of one command.
type Run struct {
	Command  string   // the command after "$ ", "" for lines before any
	Results  []Result // its benchmark lines, in order
	Failures []string // lines that say it failed (at most maxFailures)
}

// Failed reports whether anything in the run failed.
func (r *Run) Failed() bool { return len(r.Failures) > 0 }

// Results is a parsed file.
type Results struct {
	GOOS, GOARCH, CPU string
	Runs              []Run
}

// maxFailures bounds the failure lines kept per run, maxDetails the
// lines kept after one "--- FAIL:" or build error header.
const (
	maxFailures = 8
	maxDetails  = 2
)

// maxLine bounds one line; longer lines are skipped.
const maxLine = 1 << 20

// Parse reads go test -bench output. It fails only when r does.
func Parse(r io.Reader) (*Results, error) {
	res := &Results{}
	var cur *Run
	run := func() *Run {
		if cur == nil {
			res.Runs = append(res.Runs, Run{})
			cur = &res.Runs[len(res.Runs)-1]
		}
		return cur
	}
	pkg := ""
	// details counts the lines still to keep after a "--- FAIL:" or a
	// build error's "# package" line: they say why.
	details := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			res.Runs = append(res.Runs, Run{Command: strings.TrimSpace(cmd)})
			cur, pkg = &res.Runs[len(res.Runs)-1], ""
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.ContainsAny(k, " \t") {
			v = strings.TrimSpace(v)
			switch k {
			case "pkg":
				pkg = v
				continue
			case "goos":
				res.GOOS = v
				continue
			case "goarch":
				res.GOARCH = v
				continue
			case "cpu":
				res.CPU = v
				continue
			}
		}
		keep := func() {
			r := run()
			if len(r.Failures) < maxFailures {
				r.Failures = append(r.Failures, strings.TrimSpace(line))
			}
		}
		if isFailure(line) {
			keep()
			details = 0
			if strings.HasPrefix(strings.TrimSpace(line), "--- FAIL:") {
				details = maxDetails
			}
			continue
		}
		if strings.HasPrefix(line, "# ") {
			details = maxDetails
			continue
		}
		if details > 0 && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") || strings.Contains(line, ".go:")) {
			details--
			keep()
			continue
		}
		details = 0
		if b, ok := parseLine(line); ok {
			b.Package = pkg
			r := run()
			r.Results = append(r.Results, b)
		}
	}
	if err := sc.Err(); err != nil && err != bufio.ErrTooLong {
		return res, err
	}
	return res, nil
}

func isFailure(line string) bool {
	t := strings.TrimSpace(line)
	return strings.HasPrefix(t, "--- FAIL:") || t == "FAIL" || strings.HasPrefix(t, "FAIL\t") || strings.HasPrefix(t, "FAIL ") ||
		strings.HasPrefix(t, "panic:") || strings.HasSuffix(t, "[build failed]") || strings.HasSuffix(t, "[setup failed]") ||
		strings.HasPrefix(t, "netlab-micro: FAILED")
}

// parseLine parses "BenchmarkX[-P] N v1 u1 [v2 u2]...".
func parseLine(line string) (Result, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
		return Result{}, false
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || n <= 0 {
		return Result{}, false
	}
	b := Result{Name: f[0], Procs: 1, Iterations: n}
	trimmed := f[0]
	if i := strings.LastIndexByte(f[0], '-'); i > 0 {
		if p, err := strconv.Atoi(f[0][i+1:]); err == nil && p > 0 && strings.Trim(f[0][i+1:], "0123456789") == "" {
			b.Procs, trimmed = p, f[0][:i]
		}
	}
	b.Base, b.Sub, _ = strings.Cut(trimmed, "/")
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return Result{}, false
		}
		b.Metrics = append(b.Metrics, Metric{Value: v, Unit: f[i+1]})
	}
	return b, true
}

// Metric returns the value of the first metric with that unit.
func (b *Result) Metric(unit string) (float64, bool) {
	for _, m := range b.Metrics {
		if m.Unit == unit {
			return m.Value, true
		}
	}
	return 0, false
}

// Count returns how many benchmark lines the file holds.
func (r *Results) Count() int {
	n := 0
	for _, run := range r.Runs {
		n += len(run.Results)
	}
	return n
}

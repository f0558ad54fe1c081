package runner

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/micro"
)

// microDescriptions says in words what each microbenchmark of `make
// bench` measures, by package (last path element) and top-level name.
var microDescriptions = map[string]string{
	"ssms BenchmarkSplit":             "split a message of that size into n=6 shares, any k=3 of which rebuild it (encrypt, erasure-code, share the key); wire-B/msg-B is the shares' encoded size per message byte",
	"ssms BenchmarkCombine":           "rebuild a message from k=3 shares: the data shares (no erasure decoding) or the parity shares (full erasure decoding)",
	"ssms BenchmarkCombineReport":     "rebuild from all n=6 shares and check each of them (a MAC over every fragment)",
	"ssms BenchmarkKeySearchBound":    "worst case of key recovery: every key share altered, so every step runs to its bound and fails",
	"rdt BenchmarkLoopbackUDP":        "one 16 MiB RDT transfer at a time between two transports over real UDP sockets on 127.0.0.1; CPU time, retransmissions and RTOs per transfer",
	"rdt BenchmarkLossyMessage":       "completion time of one 59-datagram message (65,136 B) over the in-memory network with 6% loss each way and 5 ms one-way delay, in real time",
	"dht BenchmarkResolve":            "username resolve latency in a mesh of 1 bootstrap node and 29 DHT servers on loopback TCP, from a node other than the owner; ms/register is the mean of 10 parallel registrations",
	"delivery BenchmarkWarmSend64KiB": "a 64 KiB message from alice to bob over six relays (k=3) in one process on loopback, after a first send warmed the data-plane sessions; handshakes/op counts new data-plane handshakes",
	"node BenchmarkIdleNodes":         "an idle network of 1 bootstrap node and 10 nodes in one process on loopback (TCP and QUIC), once every routing table is filled: heap in use and goroutines per node; the time per operation is starting, settling and closing the network",
}

func microDescription(r micro.Result) string {
	pkg := r.Package
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		pkg = pkg[i+1:]
	}
	if d, ok := microDescriptions[pkg+" "+r.Base]; ok {
		return d
	}
	return "(no description in bench/netlab/runner/microreport.go)"
}

// microUnitOrder puts the standard units first, in go test's order.
var microUnitOrder = []string{"ns/op", "MB/s", "B/op", "allocs/op"}

// microNumbers formats a result's metrics: time per op as a duration, the
// other standard units, then custom ones as printed.
func microNumbers(r micro.Result) string {
	var parts []string
	for _, u := range microUnitOrder {
		v, ok := r.Metric(u)
		if !ok {
			continue
		}
		switch u {
		case "ns/op":
			parts = append(parts, fmtOpTime(v)+"/op")
		case "MB/s":
			parts = append(parts, fmt.Sprintf("%.1f MB/s", v))
		default:
			parts = append(parts, fmt.Sprintf("%s %s", fmtCount(v), u))
		}
	}
	for _, m := range r.Metrics {
		custom := true
		for _, u := range microUnitOrder {
			custom = custom && m.Unit != u
		}
		if custom {
			parts = append(parts, fmt.Sprintf("%s %s", fmtCount(m.Value), m.Unit))
		}
	}
	return strings.Join(parts, ", ")
}

func fmtOpTime(ns float64) string {
	d := time.Duration(ns)
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e6:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return FormatDuration(d)
}

// fmtCount prints a metric with the precision it deserves.
func fmtCount(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e15 && v > -1e15:
		return fmt.Sprintf("%d", int64(v))
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// writeMicro renders the microbenchmarks section.
func writeMicro(w io.Writer, res *micro.Results) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Microbenchmarks\n\n")
	if res == nil {
		p("Not part of this report (`make bench` runs them first and passes their output with `-micro bench/.out/micro.txt`).\n\n")
		return
	}
	p("Go benchmarks of single components, in one process, without the network lab; `make bench` runs them before the lab, ")
	p("on the same machine (%s", res.CPU)
	if res.GOOS != "" {
		p(", %s/%s", res.GOOS, res.GOARCH)
	}
	p("), and saves their raw output in bench/.out/micro.txt. Times per operation are means over the iterations shown.\n\n")
	if res.Count() > 0 {
		p("| benchmark | what it measures | iterations | numbers |\n|---|---|---|---|\n")
		for _, run := range res.Runs {
			prev := ""
			for _, r := range run.Results {
				pkg := r.Package
				if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
					pkg = pkg[i+1:]
				}
				what := microDescription(r)
				if r.Base == prev {
					what = "as above"
				}
				prev = r.Base
				p("| %s `%s` | %s | %d | %s |\n", pkg, mdEscape(r.Name), mdEscape(what), r.Iterations, mdEscape(microNumbers(r)))
			}
		}
		p("\n")
	}
	var failed []micro.Run
	p("Commands (from the repository root, as `make bench` runs them):\n\n```\n")
	for _, run := range res.Runs {
		if run.Command != "" {
			p("%s\n", run.Command)
		}
		if run.Failed() {
			failed = append(failed, run)
		}
	}
	p("```\n\n")
	for _, run := range failed {
		cmd := run.Command
		if cmd == "" {
			cmd = "(unnamed command)"
		}
		p("**Failed:** `%s`: %s\n\n", cmd, mdEscape(strings.Join(run.Failures, "; ")))
	}
}

package micro

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseFile(t *testing.T) {
	f, err := os.Open("testdata/micro.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if res.GOOS != "linux" || res.GOARCH != "amd64" || res.CPU != "AMD EPYC 7B13" {
		t.Errorf("machine: %q %q %q", res.GOOS, res.GOARCH, res.CPU)
	}
	if len(res.Runs) != 4 || res.Count() != 5 {
		t.Fatalf("%d runs, %d results", len(res.Runs), res.Count())
	}
	ssms := res.Runs[0]
	if ssms.Command != "go test -run XXX -bench . -benchtime 0.5s -cpu 1 ./ssms" || ssms.Failed() {
		t.Errorf("ssms run: %q failed=%v", ssms.Command, ssms.Failures)
	}
	want := Result{
		Package: "github.com/vmdt/vmdt/ssms", Name: "BenchmarkSplit/64KiB", Base: "BenchmarkSplit", Sub: "64KiB",
		Procs: 1, Iterations: 4203,
		Metrics: []Metric{{142561, "ns/op"}, {459.70, "MB/s"}, {2.031, "wire-B/msg-B"}, {401234, "B/op"}, {37, "allocs/op"}},
	}
	if got := ssms.Results[1]; !reflect.DeepEqual(got, want) {
		t.Errorf("split 64KiB:\n got %+v\nwant %+v", got, want)
	}
	if r := ssms.Results[2]; r.Base != "BenchmarkKeySearchBound" || r.Sub != "n=6,k=3" || len(r.Metrics) != 1 {
		t.Errorf("key search: %+v", r)
	}

	rdt := res.Runs[1]
	if !strings.Contains(rdt.Command, "'BenchmarkLoopbackUDP|BenchmarkLossyMessage'") || len(rdt.Results) != 2 || rdt.Failed() {
		t.Fatalf("rdt run: %+v", rdt)
	}
	lo := rdt.Results[0]
	if lo.Name != "BenchmarkLoopbackUDP-2" || lo.Base != "BenchmarkLoopbackUDP" || lo.Sub != "" || lo.Procs != 2 || lo.Iterations != 20 {
		t.Errorf("loopback: %+v", lo)
	}
	if v, ok := lo.Metric("cpu-ms/op"); !ok || v != 210.5 {
		t.Errorf("cpu-ms/op = %v, %v", v, ok)
	}
	if v, ok := rdt.Results[1].Metric("rto/op"); !ok || v != 0.1 {
		t.Errorf("rto/op = %v, %v", v, ok)
	}
	if _, ok := lo.Metric("B/op"); ok {
		t.Error("B/op found where none was printed")
	}

	dht := res.Runs[2]
	if !dht.Failed() || len(dht.Results) != 0 || dht.Failures[0] != "--- FAIL: BenchmarkResolve-2" ||
		!strings.HasPrefix(dht.Failures[len(dht.Failures)-1], "netlab-micro: FAILED (exit 1)") {
		t.Errorf("dht run: %+v", dht)
	}
	if dht.Failures[1] != "bench_test.go:27: register node3: context deadline exceeded" {
		t.Errorf("dht failure reason: %q", dht.Failures)
	}
	node := res.Runs[3]
	if !node.Failed() || node.Failures[0] != "node/bench_idle_test.go:10:2: undefined: nope" ||
		node.Failures[1] != "FAIL\tgithub.com/vmdt/vmdt/node [build failed]" {
		t.Errorf("node run failures: %q", node.Failures)
	}
}

func TestParseLineRejects(t *testing.T) {
	for _, line := range []string{
		"BenchmarkX",                        // no fields
		"BenchmarkX 10 5",                   // value without unit
		"BenchmarkX ten 5 ns/op",            // iterations not a number
		"BenchmarkX 0 5 ns/op",              // zero iterations
		"BenchmarkX 10 NaN ns/op",           // not a finite value
		"BenchmarkX 10 5 ns/op 7",           // trailing value
		"Benchmarks are fun: 10 5 ns/op",    // prose
		"TestX 10 5 ns/op",                  // not a benchmark
		"BenchmarkX 10 5e999 ns/op",         // overflows
		"BenchmarkX 10 5 ns/op oops allocs", // bad second value
	} {
		if r, ok := parseLine(line); ok {
			t.Errorf("parseLine(%q) accepted: %+v", line, r)
		}
	}
	r, ok := parseLine("BenchmarkA/b-c-16 \t 3 \t 1.5 ns/op")
	if !ok || r.Procs != 16 || r.Base != "BenchmarkA" || r.Sub != "b-c" {
		t.Errorf("dashes in a sub-benchmark: %+v %v", r, ok)
	}
}

func TestParseWithoutCommands(t *testing.T) {
	// Plain go test output, no "$ " lines: one run without a command.
	res, err := Parse(strings.NewReader("pkg: example.com/p\nBenchmarkX-2 100 20 ns/op\nok example.com/p 1s\n"))
	if err != nil || len(res.Runs) != 1 || res.Runs[0].Command != "" || res.Runs[0].Results[0].Package != "example.com/p" {
		t.Fatalf("%+v %v", res, err)
	}
}

func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("testdata/micro.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("BenchmarkX-2 100 20 ns/op 3 B/op 1 allocs/op\n"))
	f.Add([]byte("$ go test\n--- FAIL: BenchmarkY\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Parse(strings.NewReader(string(data)))
		if err != nil {
			t.Fatalf("Parse failed on in-memory input: %v", err)
		}
		for _, run := range res.Runs {
			if len(run.Failures) > maxFailures {
				t.Fatalf("%d failure lines kept", len(run.Failures))
			}
			for _, r := range run.Results {
				if r.Iterations <= 0 || r.Procs <= 0 || len(r.Metrics) == 0 || !strings.HasPrefix(r.Base, "Benchmark") {
					t.Fatalf("invalid result accepted: %+v", r)
				}
			}
		}
	})
}

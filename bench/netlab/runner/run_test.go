package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/agent"
	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/bench/netlab/lab"
	"github.com/vmdt/vmdt/bench/netlab/transport"
)

// TestMain lets this test binary double as the netlab agent, so that the
// root-only tests can run the TCP baselines inside namespaces.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == transport.AgentCommand {
		os.Exit(agent.Main(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// progressHook is a Progress writer that calls fn with every measurement
// line (the runner checkpoints before it prints one).
type progressHook struct {
	mu  sync.Mutex
	buf bytes.Buffer
	fn  func(line string)
}

func (p *progressHook) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		line, err := p.buf.ReadString('\n')
		if err != nil {
			p.buf.WriteString(line) // keep the partial line
			return len(b), nil
		}
		if strings.Contains(line, " runs") {
			p.fn(line)
		}
	}
}

const labTestConfig = `{
  "seed": 7, "runs": 3, "min_runs": 1, "timeout": "20s", "probe_count": 10,
  "transports": ["tcp-cubic"], "modes": ["cold", "warm"],
  "scenarios": [
    {"id": "small", "title": "small", "sizes": ["64KiB"], "loss_percent": [0], "rtt": ["20ms"], "paths": [1], "k": 1},
    {"id": "hopeless", "title": "hopeless", "sizes": ["4MiB"], "loss_percent": [10], "rtt": ["100ms"], "rate": "1Mbit/s",
     "paths": [1], "k": 1, "modes": ["warm"], "timeout": "1s"}
  ]
}`

func labOrSkip(t *testing.T) {
	t.Helper()
	if err := lab.Check(); err != nil {
		t.Skipf("skipping root-only test: %v", err)
	}
}

// labTestSetup skips unless the lab can run, and returns labTestConfig
// and the test binary (run inside namespaces for agents).
func labTestSetup(t *testing.T) (*config.Config, string) {
	t.Helper()
	labOrSkip(t)
	cfg, err := config.Parse([]byte(labTestConfig))
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return cfg, exe
}

// TestRunCheckpoints runs two tiny scenarios in a real lab (root only):
// the results file holds every measurement as soon as it is printed; a
// warm measurement whose warm-up times out is one failed run that took
// about one timeout; the finished file renders again.
func TestRunCheckpoints(t *testing.T) {
	cfg, exe := labTestSetup(t)
	dir := t.TempDir()
	results := filepath.Join(dir, "results.json")
	var seen []int
	hook := &progressHook{fn: func(string) {
		rep, err := LoadReport(results)
		if err != nil {
			t.Errorf("checkpoint unreadable at a measurement: %v", err)
			return
		}
		seen = append(seen, len(rep.Measurements))
		if rep.Incomplete == "" {
			t.Error("a checkpoint taken while running says the run finished")
		}
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{Config: cfg, ConfigName: "test", Exe: exe, Progress: hook, Checkpoint: results})
	if errors.Is(err, lab.ErrUnsupported) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatalf("run: %v\n%s", err, hook.buf.String())
	}
	if want := []int{1, 2, 3}; len(seen) != 3 || seen[0] != 1 || seen[1] != 2 || seen[2] != 3 {
		t.Errorf("measurements in the checkpoint at each progress line: %v, want %v", seen, want)
	}
	saved, err := LoadReport(results)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Incomplete != "" || len(saved.Measurements) != 3 || saved.Config == nil || saved.Config.Scenarios[1].ID != "hopeless" {
		t.Fatalf("final results: incomplete %q, %d measurements, config %+v", saved.Incomplete, len(saved.Measurements), saved.Config)
	}
	for _, m := range rep.Measurements[:2] {
		if m.Scenario != "small" || m.Summary.Runs != 3 || m.Summary.Failed != 0 || m.Wall <= 0 || m.Timeout != 20*time.Second {
			t.Errorf("small %s: %+v", m.Mode, m.Summary)
		}
	}
	if rep.Measurements[0].Setup <= 0 || rep.Measurements[1].Setup != 0 {
		t.Errorf("setup time recorded on %v and %v, want only on the first mode", rep.Measurements[0].Setup, rep.Measurements[1].Setup)
	}
	h := rep.Measurements[2]
	if h.Summary.Runs != 1 || h.Summary.Failed != 1 || len(h.Errors) != 1 || !strings.Contains(h.Errors[0], "warm-up: timed out after 1s") {
		t.Errorf("hopeless: %+v, errors %q", h.Summary, h.Errors)
	}
	if h.Wall < time.Second || h.Wall > 10*time.Second {
		t.Errorf("hopeless measurement took %v, want about the 1 s timeout", h.Wall)
	}
	if _, err := Render(saved, cfg, filepath.Join(dir, "B.md"), ""); err != nil {
		t.Fatal(err)
	}
}

// TestRunInterrupted: a run cancelled after its first measurement
// returns the error, and the results file keeps that measurement and
// says why the run stopped.
func TestRunInterrupted(t *testing.T) {
	cfg, exe := labTestSetup(t)
	results := filepath.Join(t.TempDir(), "results.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hook := &progressHook{fn: func(string) { cancel() }}
	rep, err := Run(ctx, Options{Config: cfg, ConfigName: "test", Exe: exe, Progress: hook, Checkpoint: results})
	if errors.Is(err, lab.ErrUnsupported) {
		t.Skipf("skipping: %v", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v, want context.Canceled", err)
	}
	saved, err := LoadReport(results)
	if err != nil {
		t.Fatal(err)
	}
	if len(saved.Measurements) != len(rep.Measurements) || len(saved.Measurements) < 1 || !strings.Contains(saved.Incomplete, "context canceled") {
		t.Errorf("saved %d measurements (run had %d), incomplete %q", len(saved.Measurements), len(rep.Measurements), saved.Incomplete)
	}
}

// Package runner carries out a netlab configuration: it builds one lab
// with as many relays as the configuration needs, walks every scenario's
// cells (walk.go: in groups of equal n, k and RTT, one transport after
// the other), sets the emulated links for each cell and calibrates them
// with UDP probes, runs each transport cold and warm on a cell (cell.go)
// the configured number of times with repeatable loss seeds (measure.go),
// counts the bytes on the links, and collects everything in a Report,
// which it checkpoints as JSON after every measurement. render.go turns a
// Report (fresh, or loaded from that JSON) into Markdown (report.go,
// goals.go, microreport.go) with SVG plots (plots.go); headline.go
// condenses it into the quick headline ratios.
package runner

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	logging "github.com/ipfs/go-log/v2"

	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/bench/netlab/lab"
	"github.com/vmdt/vmdt/bench/netlab/micro"
	"github.com/vmdt/vmdt/bench/netlab/transport"
)

var log = logging.Logger("vmdt/netlab/runner")

// Options configure Run.
type Options struct {
	Config     *config.Config
	ConfigName string
	Exe        string    // the netlab binary, run inside namespaces for agents
	Progress   io.Writer // one line per measurement; nil = discard
	// Checkpoint, if set, is a file the report is written to as JSON
	// (atomically: a temporary file, then a rename) after every
	// measurement, so that an interrupted run keeps what it measured.
	Checkpoint string
	// Micro is stored in the report as it is (Go microbenchmarks).
	Micro *micro.Results
}

// maxErrors is how many error messages a measurement keeps.
const maxErrors = 3

type runner struct {
	o        Options
	cfg      *config.Config
	lab      *lab.Lab
	dir      string
	payloads map[config.Size]transport.Payload
	report   *Report
	// unavailable remembers transports that failed Setup with
	// ErrUnavailable, so they are not tried in every cell.
	unavailable map[string]string
	// setting is the link setting in force (SetPaths is skipped when a
	// cell needs the same); probed the settings already calibrated.
	setting string
	probed  map[string]bool
	// checkpointErr is the last checkpoint failure, reported once.
	checkpointErr error
}

// Run executes the configuration. It returns the report of everything
// measured so far together with any error, including when ctx is
// cancelled (Ctrl-C); the lab is always removed before it returns. The
// report's Incomplete says why when the run stopped early.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	r := &runner{
		o: o, cfg: o.Config,
		payloads:    map[config.Size]transport.Payload{},
		unavailable: map[string]string{},
		probed:      map[string]bool{},
		report: &Report{
			Machine: DescribeMachine(), ConfigName: o.ConfigName, Config: o.Config, Seed: o.Config.Seed,
			Started: time.Now(), Incomplete: "still running", Micro: o.Micro,
		},
	}
	names, err := r.transportNames(nil)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		info, _ := transport.Lookup(n)
		r.report.Transports = append(r.report.Transports, TransportInfo{Name: n, Multipath: info.Multipath, Settings: info.Settings})
	}

	dir, err := os.MkdirTemp("", "netlab-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	r.dir = dir

	r.lab, err = lab.New(ctx, lab.Spec{Relays: r.cfg.MaxPaths(), Seed: r.cfg.Seed})
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := r.lab.Close(); cerr != nil {
			log.Errorf("removing the lab: %v", cerr)
		}
	}()
	fmt.Fprintf(o.Progress, "lab up: sender %v, receiver %v, %d relays, in namespaces %s…\n",
		r.lab.Sender.Addr, r.lab.Receiver.Addr, len(r.lab.Relays), strings.TrimSuffix(r.lab.Sender.Netns, lab.SenderName))

	err = r.runScenarios(ctx)
	r.report.Incomplete = ""
	if err != nil {
		r.report.Incomplete = "stopped early: " + oneLine(err)
	}
	r.checkpoint()
	if err == nil && r.checkpointErr != nil {
		err = fmt.Errorf("runner: writing the results: %w", r.checkpointErr)
	}
	return r.report, err
}

// add records a measurement and checkpoints the report.
func (r *runner) add(ms ...*Measurement) {
	r.report.Measurements = append(r.report.Measurements, ms...)
	r.checkpoint()
}

// checkpoint writes the report to Options.Checkpoint, if set.
func (r *runner) checkpoint() {
	r.report.Finished = time.Now()
	for i := range r.report.Transports {
		r.report.Transports[i].Unavailable = r.unavailable[r.report.Transports[i].Name]
	}
	if r.o.Checkpoint == "" {
		return
	}
	err := WriteJSON(r.o.Checkpoint, r.report)
	if err != nil && r.checkpointErr == nil {
		fmt.Fprintf(r.o.Progress, "warning: cannot write the results to %s: %v\n", r.o.Checkpoint, err)
	}
	r.checkpointErr = err
}

// transportNames returns the transports to run: the configuration's list
// (all registered ones if empty), restricted to the scenario's list.
func (r *runner) transportNames(s *config.Scenario) ([]string, error) {
	names := r.cfg.Transports
	if len(names) == 0 {
		names = transport.Names()
	}
	for _, n := range names {
		if _, err := transport.Lookup(n); err != nil {
			return nil, err
		}
	}
	if s != nil && len(s.Transports) > 0 {
		names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !slices.Contains(s.Transports, n) })
	}
	return names, nil
}

// payload returns the deterministic payload of a size, creating its file
// on first use.
func (r *runner) payload(size config.Size) (transport.Payload, error) {
	if p, ok := r.payloads[size]; ok {
		return p, nil
	}
	data := make([]byte, size)
	_, _ = rand.NewChaCha8([32]byte{byte(size), byte(size >> 8), byte(size >> 16), byte(size >> 24)}).Read(data)
	file := filepath.Join(r.dir, fmt.Sprintf("payload-%d", size))
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return transport.Payload{}, err
	}
	p := transport.Payload{Data: data, File: file, SHA256: sha256.Sum256(data)}
	r.payloads[size] = p
	return p, nil
}

// seedFor derives the loss seed of one run. It depends on the scenario,
// cell and run index only, so every transport and mode faces the same
// loss pattern in run i.
func seedFor(base uint64, scenario string, cell, run int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d/%d", base, scenario, cell, run)
	return h.Sum64()
}

func cellInfo(s *config.Scenario, c config.Cell) CellInfo {
	ci := CellInfo{N: c.N, K: c.K, Size: int64(c.Size), Loss: c.Loss, RTT: c.RTT, Rate: float64(s.Rate)}
	if s.Fail != nil {
		ci.FailAt, ci.FailDown = s.Fail.At, s.Fail.Paths
	}
	return ci
}

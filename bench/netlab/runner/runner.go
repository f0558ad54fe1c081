// Package runner carries out a netlab configuration: it builds one lab
// with as many relays as the configuration needs, walks every scenario's
// cells, sets the emulated links for each cell, calibrates them with UDP
// probes, runs every transport cold and warm the configured number of
// times with repeatable loss seeds, counts the bytes on the links, and
// collects everything in a Report, which report.go renders as Markdown
// with SVG plots and headline.go condenses into the quick headline
// ratios.
package runner

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	logging "github.com/ipfs/go-log/v2"

	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/bench/netlab/lab"
	"github.com/vmdt/vmdt/bench/netlab/transport"
)

var log = logging.Logger("vmdt/netlab/runner")

// Options configure Run.
type Options struct {
	Config     *config.Config
	ConfigName string
	Exe        string    // the netlab binary, run inside namespaces for agents
	Progress   io.Writer // one line per measurement; nil = discard
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
}

// Run executes the configuration. It returns the report of everything
// measured so far together with any error, including when ctx is
// cancelled (Ctrl-C); the lab is always removed before it returns.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	r := &runner{
		o: o, cfg: o.Config,
		payloads:    map[config.Size]transport.Payload{},
		unavailable: map[string]string{},
		report: &Report{
			Machine: DescribeMachine(), ConfigName: o.ConfigName, Seed: o.Config.Seed, Started: time.Now(),
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
	r.report.Finished = time.Now()
	for i := range r.report.Transports {
		r.report.Transports[i].Unavailable = r.unavailable[r.report.Transports[i].Name]
	}
	return r.report, err
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

func (r *runner) runScenarios(ctx context.Context) error {
	probed := map[string]bool{}
	for si := range r.cfg.Scenarios {
		s := &r.cfg.Scenarios[si]
		names, err := r.transportNames(s)
		if err != nil {
			return err
		}
		modes := r.cfg.Modes
		if len(s.Modes) > 0 {
			modes = s.Modes
		}
		fmt.Fprintf(r.o.Progress, "== %s\n", s.Title)
		for ci, cell := range s.Cells() {
			if err := ctx.Err(); err != nil {
				return err
			}
			profile := lab.PathProfile{RTT: cell.RTT, Loss: cell.Loss, Rate: float64(s.Rate), Queue: time.Duration(r.cfg.Queue)}
			if err := r.lab.SetPaths(lab.Paths{Relay: profile, Active: cell.N, Direct: profile}); err != nil {
				return err
			}
			setting := fmt.Sprintf("rtt=%v loss=%g%% rate=%v", cell.RTT, cell.Loss*100, s.Rate)
			if !probed[setting] {
				probed[setting] = true
				pr, err := r.probe(ctx, s.ID, setting, cell)
				if err != nil {
					return err
				}
				r.report.Probes = append(r.report.Probes, pr)
				fmt.Fprintf(r.o.Progress, "probe %s: direct RTT p50 %v one-way loss %.1f%%; relayed RTT p50 %v (hops %v + %v)\n",
					setting, pr.Direct.RTTP50.Round(10*time.Microsecond), pr.Direct.OneWayLoss*100,
					pr.RelayRTT.Round(10*time.Microsecond), pr.RelayHop1.RTTP50.Round(10*time.Microsecond), pr.RelayHop2.RTTP50.Round(10*time.Microsecond))
			}
			payload, err := r.payload(cell.Size)
			if err != nil {
				return err
			}
			for _, name := range names {
				if err := r.runTransport(ctx, s, ci, cell, name, modes, payload); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (r *runner) probe(ctx context.Context, scenario, setting string, cell config.Cell) (ProbeRecord, error) {
	pr := ProbeRecord{Scenario: scenario, Setting: setting, RTT: cell.RTT, Loss: cell.Loss}
	l := r.lab
	pairs := []struct {
		from, to *lab.Host
		out      *ProbeLine
	}{{l.Sender, l.Receiver, &pr.Direct}}
	if len(l.Relays) > 0 {
		pairs = append(pairs,
			struct {
				from, to *lab.Host
				out      *ProbeLine
			}{l.Sender, l.Relays[0], &pr.RelayHop1},
			struct {
				from, to *lab.Host
				out      *ProbeLine
			}{l.Relays[0], l.Receiver, &pr.RelayHop2})
	}
	before := l.Stats()
	var wg sync.WaitGroup
	errs := make([]error, len(pairs))
	for i, p := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := l.Probe(ctx, p.from, p.to, r.cfg.ProbeCount, 2*time.Millisecond, time.Second+2*cell.RTT)
			errs[i] = err
			*p.out = ProbeLine{Sent: res.Sent, Received: res.Received, RTTP50: res.RTT.P50, RTTMin: res.RTT.Min, RTTP99: res.RTT.P99, OneWayLoss: res.OneWayLoss()}
		}()
	}
	wg.Wait()
	pr.RelayRTT = pr.RelayHop1.RTTP50 + pr.RelayHop2.RTTP50
	pr.Unroutable = l.Stats().Sub(before).Unroutable
	return pr, errors.Join(errs...)
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

func (r *runner) runTransport(ctx context.Context, s *config.Scenario, ci int, cell config.Cell, name string, modes []string, p transport.Payload) error {
	info, err := transport.Lookup(name)
	if err != nil {
		return err
	}
	// A single-path transport does not see the relays: reuse its result
	// from an earlier cell of this scenario that differs only in n and k.
	if !info.Multipath {
		if prev := r.findSinglePath(s, cell, name); len(prev) > 0 {
			for _, m := range prev {
				c := *m
				c.Cell = cellInfo(s, cell)
				c.Reused = fmt.Sprintf("same as n=%d (single-path transport)", m.Cell.N)
				r.report.Measurements = append(r.report.Measurements, &c)
			}
			return nil
		}
	}
	if reason, ok := r.unavailable[name]; ok {
		r.recordUnavailable(s, cell, name, info, modes, reason)
		return nil
	}
	env := transport.Env{Lab: r.lab, N: cell.N, K: cell.K, Exe: r.o.Exe, Dir: r.dir}
	t := info.New()
	defer func() { _ = t.Close() }()
	if err := t.Setup(ctx, env); err != nil {
		if errors.Is(err, transport.ErrUnavailable) {
			r.unavailable[name] = err.Error()
			fmt.Fprintf(r.o.Progress, "%s: not available: %v\n", name, err)
			r.recordUnavailable(s, cell, name, info, modes, err.Error())
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		m := &Measurement{Scenario: s.ID, Cell: cellInfo(s, cell), Transport: name, Mode: "setup", Multipath: info.Multipath, Errors: []string{oneLine(err)}}
		r.report.Measurements = append(r.report.Measurements, m)
		fmt.Fprintf(r.o.Progress, "%s %s: setup failed: %v\n", cell, name, err)
		return nil
	}
	for _, ms := range modes {
		mode, err := transport.ParseMode(ms)
		if err != nil {
			return err
		}
		m := &Measurement{Scenario: s.ID, Cell: cellInfo(s, cell), Transport: name, Mode: ms, Multipath: info.Multipath}
		t = r.measure(ctx, t, env, s, ci, cell, mode, p, m)
		r.report.Measurements = append(r.report.Measurements, m)
		r.printMeasurement(cell, m)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) findSinglePath(s *config.Scenario, cell config.Cell, name string) []*Measurement {
	var out []*Measurement
	for _, m := range r.report.Measurements {
		if m.Scenario == s.ID && m.Transport == name && m.Reused == "" && m.Cell.Size == int64(cell.Size) &&
			m.Cell.Loss == cell.Loss && m.Cell.RTT == cell.RTT && m.Cell.N != cell.N {
			out = append(out, m)
		}
	}
	return out
}

func (r *runner) recordUnavailable(s *config.Scenario, cell config.Cell, name string, info transport.Info, modes []string, reason string) {
	for _, ms := range modes {
		r.report.Measurements = append(r.report.Measurements, &Measurement{
			Scenario: s.ID, Cell: cellInfo(s, cell), Transport: name, Mode: ms, Multipath: info.Multipath,
			Errors: []string{reason},
		})
	}
}

func (r *runner) printMeasurement(cell config.Cell, m *Measurement) {
	sm := m.Summary
	line := fmt.Sprintf("%s %-11s %s: %d runs", cell, m.Transport, m.Mode, sm.Runs)
	if sm.Runs > sm.Failed {
		line += fmt.Sprintf(", p50 %s p90 %s p99 %s, wire %.2f B/B, loss achieved %.1f%%",
			FormatDuration(sm.P50), FormatDuration(sm.P90), FormatDuration(sm.P99), m.WirePerPayload(), m.pathLoss()*100)
	}
	if m.Cell.FailDown > 0 {
		line += fmt.Sprintf(", paths failed mid-transfer in %d runs", m.PathsFailed)
	}
	if sm.Failed > 0 {
		line += fmt.Sprintf(", %d failed (%s)", sm.Failed, m.Errors[0])
	}
	fmt.Fprintln(r.o.Progress, line)
}

// pathLoss is the achieved end-to-end loss on the paths the transport used.
func (m *Measurement) pathLoss() float64 {
	if m.Multipath {
		return m.RelayLoss
	}
	return m.DirectLoss
}

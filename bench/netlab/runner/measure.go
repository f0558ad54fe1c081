package runner

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/bench/netlab/emu"
	"github.com/vmdt/vmdt/bench/netlab/lab"
	"github.com/vmdt/vmdt/bench/netlab/stats"
	"github.com/vmdt/vmdt/bench/netlab/transport"
)

// measure makes the runs of one transport in one mode. It returns the
// transport to use next (a new one if it had to be set up again).
func (r *runner) measure(ctx context.Context, t transport.Transport, env transport.Env, s *config.Scenario, ci int, cell config.Cell, mode transport.Mode, p transport.Payload, m *Measurement) transport.Transport {
	runs := r.cfg.Runs
	if s.Runs > 0 {
		runs = s.Runs
	}
	timeout := time.Duration(r.cfg.Timeout)
	fail := func(err error) {
		m.Times = append(m.Times, stats.Failed)
		if len(m.Errors) < maxErrors {
			m.Errors = append(m.Errors, oneLine(err))
		}
	}
	// restart replaces a transport after a failed run.
	restart := func() bool {
		_ = t.Close()
		info, err := transport.Lookup(m.Transport)
		if err != nil {
			fail(err)
			return false
		}
		t = info.New()
		if err := t.Setup(ctx, env); err != nil {
			fail(fmt.Errorf("setup again: %w", err))
			return false
		}
		return true
	}
	transfer := func() (transport.Result, error) {
		tctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return t.Transfer(tctx, p, mode)
	}
	// An untimed first transfer: it brings the connection up for warm runs
	// and calibrates the sender's bytes per payload byte for path failure.
	senderExpansion := 1.0
	if mode == transport.Warm || s.Fail != nil {
		before := r.lab.Stats()
		if _, err := transfer(); err != nil {
			fail(fmt.Errorf("warm-up: %w", err))
			if ctx.Err() != nil || !restart() {
				m.Summary = stats.Summarize(m.Times)
				return t
			}
		} else if out := senderOut(r.lab.Stats().Sub(before)).OfferedBytes; out > 0 {
			senderExpansion = float64(out) / float64(len(p.Data))
		}
	}

	start := time.Now()
	// d sums the links' counts over the runs only: preparation and
	// restarts between runs are not counted.
	d := emu.Snapshot{Links: map[emu.LinkKey]emu.LinkStats{}}
	for i := 0; i < runs; i++ {
		if i >= r.cfg.MinRuns && r.cfg.Budget > 0 && time.Since(start) > time.Duration(r.cfg.Budget) {
			break
		}
		if ctx.Err() != nil {
			break
		}
		if pr, ok := t.(transport.Preparer); ok {
			pctx, cancel := context.WithTimeout(ctx, timeout+2*time.Minute)
			err := pr.PrepareRun(pctx, mode)
			cancel()
			if err != nil {
				fail(fmt.Errorf("prepare run: %w", err))
				if ctx.Err() != nil || !restart() {
					break
				}
				continue
			}
		}
		r.lab.Reseed(seedFor(r.cfg.Seed, s.ID, ci, i))
		before := r.lab.Stats()
		var stopFailure func() bool
		if s.Fail != nil {
			stopFailure = r.failPaths(s.Fail, int64(s.Fail.At*senderExpansion*float64(len(p.Data))))
		}
		res, err := transfer()
		if stopFailure != nil && stopFailure() {
			m.PathsFailed++
		}
		d = addSnapshot(d, r.lab.Stats().Sub(before))
		m.PayloadBytes += int64(len(p.Data))
		if err != nil {
			fail(err)
			if ctx.Err() != nil || !restart() {
				break
			}
			if mode == transport.Warm {
				if _, err := transfer(); err != nil {
					fail(fmt.Errorf("warm-up after restart: %w", err))
					break
				}
			}
			continue
		}
		m.Times = append(m.Times, res.Elapsed)
		m.Info = res.Info
	}
	m.Summary = stats.Summarize(m.Times)
	m.Wire = d.Total(nil)
	m.SenderOut = senderOut(d)
	m.Unroutable = d.Unroutable
	m.DirectLoss = d.Total(lab.IsDirect).LossRate()
	hop := d.Total(func(k emu.LinkKey) bool { return !lab.IsDirect(k) }).LossRate()
	m.RelayLoss = 1 - (1-hop)*(1-hop)
	return t
}

// addSnapshot returns the sum of two snapshots' counts.
func addSnapshot(a, b emu.Snapshot) emu.Snapshot {
	out := emu.Snapshot{Links: make(map[emu.LinkKey]emu.LinkStats, len(a.Links)), Unroutable: a.Unroutable + b.Unroutable}
	for k, v := range a.Links {
		out.Links[k] = v
	}
	for k, v := range b.Links {
		out.Links[k] = out.Links[k].Add(v)
	}
	return out
}

func senderOut(s emu.Snapshot) emu.LinkStats {
	return s.Total(func(k emu.LinkKey) bool { return k.From == lab.SenderName })
}

// failPaths takes relay paths 1..f.Paths down once the sender has put
// threshold bytes on its links, and returns a function that stops
// watching, brings the paths back up and reports whether they had failed.
func (r *runner) failPaths(f *config.Failure, threshold int64) (stop func() bool) {
	base := senderOut(r.lab.Stats()).OfferedBytes
	done := make(chan struct{})
	var wg sync.WaitGroup
	var failed bool // written by the watcher, read after wg.Wait
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if senderOut(r.lab.Stats()).OfferedBytes-base >= threshold {
				for i := 1; i <= f.Paths; i++ {
					if err := r.lab.SetRelayDown(i, true); err != nil {
						log.Errorf("path failure: %v", err)
					}
				}
				failed = true
				return
			}
		}
	}()
	return func() bool {
		close(done)
		wg.Wait()
		for i := 1; i <= f.Paths; i++ {
			_ = r.lab.SetRelayDown(i, false)
		}
		return failed
	}
}

// oneLine flattens a multi-line error (libp2p's dial errors list every
// address on its own line) for tables and progress lines.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

package runner

import (
	"context"
	"errors"
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

// ErrTimeout is wrapped by the error of a transfer that did not complete
// within the configured per-transfer timeout.
var ErrTimeout = errors.New("timed out")

// measure makes the runs of one transport in one mode. It returns the
// transport to use next (a new one if it had to be set up again) and
// whether it is usable: false when the last transfer failed and the
// measurement ended without setting the transport up again (the caller
// must not use it before a restart).
//
// Runs stop at Limits.Runs, or once Limits.MinRuns were made and the
// measurement has run longer than Limits.Budget. A failed run costs a
// restart (Close, Setup and, for warm runs, a new warm-up transfer)
// unless no run follows it. A warm-up transfer that times out ends the
// measurement at once as one failed run: the transport cannot move the
// payload within the timeout on this link, and every warm run would
// first need a warm-up that completes.
func (r *runner) measure(ctx context.Context, t transport.Transport, env transport.Env, s *config.Scenario, ci int, cell config.Cell, mode transport.Mode, p transport.Payload, m *Measurement) (transport.Transport, bool) {
	began := time.Now()
	lim := r.cfg.Limits(s)
	m.Timeout = lim.Timeout
	usable := true
	fail := func(err error) {
		m.Times = append(m.Times, stats.Failed)
		if len(m.Errors) < maxErrors {
			m.Errors = append(m.Errors, oneLine(err))
		}
	}
	defer func() {
		m.Summary = stats.Summarize(m.Times)
		m.Wall = time.Since(began)
	}()
	// restart replaces a transport after a failed run.
	restart := func() bool {
		_ = t.Close()
		info, err := transport.Lookup(m.Transport)
		if err != nil {
			fail(err)
			usable = false
			return false
		}
		t = info.New()
		if err := t.Setup(ctx, env); err != nil {
			fail(fmt.Errorf("setup again: %w", err))
			usable = false
			return false
		}
		return true
	}
	transfer := func() (transport.Result, error) {
		tctx, cancel := context.WithTimeout(ctx, lim.Timeout)
		defer cancel()
		res, err := t.Transfer(tctx, p, mode)
		if err != nil && ctx.Err() == nil && errors.Is(tctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w after %v: %v", ErrTimeout, lim.Timeout, oneLine(err))
		}
		return res, err
	}
	// An untimed first transfer: it brings the connection up for warm runs
	// and calibrates the sender's bytes per payload byte for path failure.
	senderExpansion := 1.0
	if mode == transport.Warm || s.Fail != nil {
		before := r.lab.Stats()
		if _, err := transfer(); err != nil {
			fail(fmt.Errorf("warm-up: %w", err))
			if ctx.Err() != nil || errors.Is(err, ErrTimeout) {
				return t, false
			}
			if !restart() {
				return t, false
			}
		} else if out := senderOut(r.lab.Stats().Sub(before)).OfferedBytes; out > 0 {
			senderExpansion = float64(out) / float64(len(p.Data))
		}
	}

	start := time.Now()
	// more reports whether run i may start.
	more := func(i int) bool {
		return i < lim.Runs && ctx.Err() == nil && (i < lim.MinRuns || lim.Budget <= 0 || time.Since(start) <= lim.Budget)
	}
	// d sums the links' counts over the runs only: preparation and
	// restarts between runs are not counted.
	d := emu.Snapshot{Links: map[emu.LinkKey]emu.LinkStats{}}
	defer func() {
		m.Wire = d.Total(nil)
		m.SenderOut = senderOut(d)
		m.Unroutable = d.Unroutable
		m.DirectLoss = d.Total(lab.IsDirect).LossRate()
		hop := d.Total(func(k emu.LinkKey) bool { return !lab.IsDirect(k) }).LossRate()
		m.RelayLoss = 1 - (1-hop)*(1-hop)
	}()
	for i := 0; more(i); i++ {
		if pr, ok := t.(transport.Preparer); ok {
			pctx, cancel := context.WithTimeout(ctx, lim.Timeout+2*time.Minute)
			err := pr.PrepareRun(pctx, mode)
			cancel()
			if err != nil {
				fail(fmt.Errorf("prepare run: %w", err))
				if ctx.Err() != nil || !more(i+1) || !restart() {
					return t, false
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
			// No restart when no run follows.
			if ctx.Err() != nil || !more(i+1) || !restart() {
				return t, false
			}
			if mode == transport.Warm {
				if _, err := transfer(); err != nil {
					fail(fmt.Errorf("warm-up after restart: %w", err))
					return t, false
				}
			}
			continue
		}
		m.Times = append(m.Times, res.Elapsed)
		m.Info = res.Info
	}
	return t, usable
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

package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/bench/netlab/transport"
)

// runTransport measures one transport in every mode on one cell. kept is
// a transport set up on an earlier cell of the same group (or nil); it
// returns the transport to keep for the next cell (nil unless the
// transport is kept across cells), having closed every other one.
func (r *runner) runTransport(ctx context.Context, s *config.Scenario, ci int, cell config.Cell, info transport.Info, modes []string, p transport.Payload, kept transport.Transport) (transport.Transport, error) {
	name := info.Name
	// A single-path transport does not see the relays: reuse its result
	// from an earlier cell of this scenario that differs only in n and k.
	if !info.Multipath {
		if prev := r.findSinglePath(s, cell, name); len(prev) > 0 {
			var out []*Measurement
			for _, m := range prev {
				c := *m
				c.Cell, c.CellIndex = cellInfo(s, cell), ci
				c.Reused = fmt.Sprintf("same as n=%d (single-path transport)", m.Cell.N)
				c.Setup, c.Wall = 0, 0
				out = append(out, &c)
			}
			r.add(out...)
			return kept, nil
		}
	}
	if reason, ok := r.unavailable[name]; ok {
		r.recordUnavailable(s, ci, cell, name, info, modes, reason)
		return kept, nil
	}
	env := transport.Env{Lab: r.lab, N: cell.N, K: cell.K, Exe: r.o.Exe, Dir: r.dir}
	t := kept
	var setup time.Duration
	if t == nil {
		t = info.New()
		start := time.Now()
		err := t.Setup(ctx, env)
		setup = time.Since(start)
		if err != nil {
			_ = t.Close()
			if errors.Is(err, transport.ErrUnavailable) {
				r.unavailable[name] = err.Error()
				fmt.Fprintf(r.o.Progress, "%s: not available: %v\n", name, err)
				r.recordUnavailable(s, ci, cell, name, info, modes, err.Error())
				return nil, nil
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			m := &Measurement{Scenario: s.ID, Cell: cellInfo(s, cell), CellIndex: ci, Transport: name, Mode: "setup", Multipath: info.Multipath,
				Errors: []string{oneLine(err)}, Setup: setup}
			r.add(m)
			fmt.Fprintf(r.o.Progress, "%s %s: setup failed after %v: %v\n", cell, name, setup.Round(time.Millisecond), err)
			return nil, nil
		}
	}
	keep := false
	defer func() {
		if !keep {
			_ = t.Close()
		}
	}()
	usable := true
	for _, ms := range modes {
		mode, err := transport.ParseMode(ms)
		if err != nil {
			return nil, err
		}
		m := &Measurement{Scenario: s.ID, Cell: cellInfo(s, cell), CellIndex: ci, Transport: name, Mode: ms, Multipath: info.Multipath, Setup: setup}
		setup = 0
		if !usable {
			// The previous mode ended on a failed transfer.
			_ = t.Close()
			t = info.New()
			start := time.Now()
			err := t.Setup(ctx, env)
			m.Setup = time.Since(start)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				m.Errors = []string{"setup again: " + oneLine(err)}
				r.add(m)
				r.printMeasurement(cell, m)
				continue
			}
		}
		t, usable = r.measure(ctx, t, env, s, ci, cell, mode, p, m)
		r.add(m)
		r.printMeasurement(cell, m)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	keep = info.KeepAcrossCells && usable
	if keep {
		return t, nil
	}
	return nil, nil
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

func (r *runner) recordUnavailable(s *config.Scenario, ci int, cell config.Cell, name string, info transport.Info, modes []string, reason string) {
	var out []*Measurement
	for _, ms := range modes {
		out = append(out, &Measurement{
			Scenario: s.ID, Cell: cellInfo(s, cell), CellIndex: ci, Transport: name, Mode: ms, Multipath: info.Multipath,
			Errors: []string{reason},
		})
	}
	r.add(out...)
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
	if sm.Failed > 0 && len(m.Errors) > 0 {
		line += fmt.Sprintf(", %d failed (%s)", sm.Failed, m.Errors[0])
	} else if sm.Runs == 0 && len(m.Errors) > 0 {
		line += fmt.Sprintf(" (%s)", m.Errors[0])
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

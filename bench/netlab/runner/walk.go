package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/bench/netlab/lab"
	"github.com/vmdt/vmdt/bench/netlab/transport"
)

// cellGroups splits a scenario's cells into runs of consecutive cells
// with the same n, k and RTT: a transport kept across cells
// (transport.Info.KeepAcrossCells) is set up once per group.
func cellGroups(cells []config.Cell) [][]int {
	var out [][]int
	for i, c := range cells {
		if i > 0 {
			p := cells[i-1]
			if p.N == c.N && p.K == c.K && p.RTT == c.RTT {
				out[len(out)-1] = append(out[len(out)-1], i)
				continue
			}
		}
		out = append(out, []int{i})
	}
	return out
}

// runScenarios walks every scenario group by group; within a group, one
// transport after the other goes through all the group's cells, so that
// a kept transport never runs beside another one (its idle traffic would
// be counted on the other's links).
func (r *runner) runScenarios(ctx context.Context) error {
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
		cells := s.Cells()
		for _, group := range cellGroups(cells) {
			for _, name := range names {
				if err := r.runGroup(ctx, s, cells, group, name, modes); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// runGroup measures one transport on a group of cells.
func (r *runner) runGroup(ctx context.Context, s *config.Scenario, cells []config.Cell, group []int, name string, modes []string) error {
	info, err := transport.Lookup(name)
	if err != nil {
		return err
	}
	var kept transport.Transport
	defer func() {
		if kept != nil {
			_ = kept.Close()
		}
	}()
	for _, ci := range group {
		if err := ctx.Err(); err != nil {
			return err
		}
		cell := cells[ci]
		if err := r.setLinks(ctx, s, cell); err != nil {
			return err
		}
		payload, err := r.payload(cell.Size)
		if err != nil {
			return err
		}
		if kept, err = r.runTransport(ctx, s, ci, cell, info, modes, payload, kept); err != nil {
			return err
		}
	}
	return nil
}

// setLinks applies a cell's link setting and probes it the first time.
func (r *runner) setLinks(ctx context.Context, s *config.Scenario, cell config.Cell) error {
	setting := fmt.Sprintf("rtt=%v loss=%g%% rate=%v", cell.RTT, cell.Loss*100, s.Rate)
	key := fmt.Sprintf("%s n=%d", setting, cell.N)
	if key == r.setting {
		return nil
	}
	profile := lab.PathProfile{RTT: cell.RTT, Loss: cell.Loss, Rate: float64(s.Rate), Queue: time.Duration(r.cfg.Queue)}
	if err := r.lab.SetPaths(lab.Paths{Relay: profile, Active: cell.N, Direct: profile}); err != nil {
		r.setting = ""
		return err
	}
	r.setting = key
	if r.probed[setting] {
		return nil
	}
	r.probed[setting] = true
	pr, err := r.probe(ctx, s.ID, setting, cell)
	if err != nil {
		return err
	}
	r.report.Probes = append(r.report.Probes, pr)
	fmt.Fprintf(r.o.Progress, "probe %s: direct RTT p50 %v one-way loss %.1f%%; relayed RTT p50 %v (hops %v + %v)\n",
		setting, pr.Direct.RTTP50.Round(10*time.Microsecond), pr.Direct.OneWayLoss*100,
		pr.RelayRTT.Round(10*time.Microsecond), pr.RelayHop1.RTTP50.Round(10*time.Microsecond), pr.RelayHop2.RTTP50.Round(10*time.Microsecond))
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

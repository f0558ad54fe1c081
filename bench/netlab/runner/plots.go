package runner

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/bench/netlab/stats"
	"github.com/vmdt/vmdt/bench/netlab/svg"
)

// Plot is one chart written to a file.
type Plot struct {
	Scenario string
	File     string // base name inside the plot directory
	Title    string
}

// preferredMode picks the mode a plot shows for a scenario's
// measurements: want if it was measured, the other one otherwise.
func preferredMode(ms []*Measurement, want string) string {
	for _, m := range ms {
		if m.Mode == want {
			return want
		}
	}
	if want == "cold" {
		return "warm"
	}
	return "cold"
}

// WritePlots draws the charts the configuration asks for into dir.
func WritePlots(rep *Report, cfg *config.Config, dir string) ([]Plot, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var plots []Plot
	for i := range cfg.Scenarios {
		s := &cfg.Scenarios[i]
		ms := rep.scenario(s.ID)
		var charts []Plot
		var bodies []*svg.Chart
		switch s.Plot {
		case "loss":
			mode := preferredMode(ms, "cold")
			for _, rtt := range s.RTT {
				for _, size := range s.Sizes {
					c := lossChart(ms, mode, time.Duration(rtt), int64(size))
					c.Title = fmt.Sprintf("%s, %s, RTT %v (%s, p50)", s.ID, formatSize(int64(size)), time.Duration(rtt), mode)
					bodies = append(bodies, c)
					charts = append(charts, Plot{Scenario: s.ID, File: fmt.Sprintf("%s-rtt%v-%s.svg", s.ID, time.Duration(rtt), size), Title: c.Title})
				}
			}
		case "paths":
			mode := preferredMode(ms, "warm")
			c := pathsChart(ms, mode)
			c.Title = fmt.Sprintf("%s: goodput vs relay path count (%s, p50)", s.ID, mode)
			bodies = append(bodies, c)
			charts = append(charts, Plot{Scenario: s.ID, File: s.ID + "-goodput.svg", Title: c.Title})
		}
		for j, c := range bodies {
			if err := writeChart(filepath.Join(dir, charts[j].File), c); err != nil {
				return plots, err
			}
		}
		plots = append(plots, charts...)
	}
	return plots, nil
}

func writeChart(path string, c *svg.Chart) error {
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return err
	}
	return writeFileAtomic(path, b.Bytes())
}

func (rep *Report) scenario(id string) []*Measurement {
	var out []*Measurement
	for _, m := range rep.Measurements {
		if m.Scenario == id {
			out = append(out, m)
		}
	}
	return out
}

// transportsOf lists the transports of ms in first-seen order.
func transportsOf(ms []*Measurement) []string {
	var names []string
	for _, m := range ms {
		if !slices.Contains(names, m.Transport) {
			names = append(names, m.Transport)
		}
	}
	return names
}

// lossChart: completion time p50 (ms, log scale) against loss, one line
// per transport.
func lossChart(ms []*Measurement, mode string, rtt time.Duration, size int64) *svg.Chart {
	c := &svg.Chart{XLabel: "loss per path and direction (%)", YLabel: "completion time p50 (ms)", LogY: true}
	for _, name := range transportsOf(ms) {
		var pts []svg.Point
		for _, m := range ms {
			if m.Transport != name || m.Mode != mode || m.Cell.RTT != rtt || m.Cell.Size != size {
				continue
			}
			y := math.NaN()
			if m.Summary.Runs > 0 && m.Summary.P50 != stats.Failed {
				y = float64(m.Summary.P50) / 1e6
			}
			pts = append(pts, svg.Point{X: m.Cell.Loss * 100, Y: y})
		}
		sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
		if len(pts) > 0 {
			c.Series = append(c.Series, svg.Series{Name: name, Points: pts})
		}
	}
	return c
}

// pathsChart: goodput at p50 (Mbit/s) against relay path count, one line
// per transport, with the physical limits as dashed lines.
func pathsChart(ms []*Measurement, mode string) *svg.Chart {
	c := &svg.Chart{XLabel: "relay paths n (k = n/2 unless configured)", YLabel: "goodput at p50 (Mbit/s)"}
	var limit, single []svg.Point
	seenN := map[int]bool{}
	for _, name := range transportsOf(ms) {
		var pts []svg.Point
		for _, m := range ms {
			if m.Transport != name || m.Mode != mode {
				continue
			}
			y := math.NaN()
			if m.Summary.Runs > 0 && m.Summary.P50 != stats.Failed {
				y = m.Goodput(m.Summary.P50) / 1e6
			}
			pts = append(pts, svg.Point{X: float64(m.Cell.N), Y: y})
			if !seenN[m.Cell.N] && m.Cell.Rate > 0 {
				seenN[m.Cell.N] = true
				limit = append(limit, svg.Point{X: float64(m.Cell.N), Y: float64(m.Cell.K) * m.Cell.Rate / 1e6})
				single = append(single, svg.Point{X: float64(m.Cell.N), Y: m.Cell.Rate / 1e6})
			}
		}
		sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
		c.Series = append(c.Series, svg.Series{Name: name, Points: pts})
	}
	sort.Slice(limit, func(i, j int) bool { return limit[i].X < limit[j].X })
	sort.Slice(single, func(i, j int) bool { return single[i].X < single[j].X })
	if len(limit) > 0 {
		c.Series = append(c.Series,
			svg.Series{Name: "limit n·rate·k/n", Points: limit, Dashed: true},
			svg.Series{Name: "limit one path", Points: single, Dashed: true})
	}
	// Keep names short enough for the legend.
	for i := range c.Series {
		c.Series[i].Name = strings.TrimSpace(c.Series[i].Name)
	}
	return c
}

package runner

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/bench/netlab/stats"
)

// The goals, checked against the measurements. Every number comes
// from the report; the targets are the issue's.
const (
	goalDocP50      = 5.0  // scenario 1, warm: best TCP p50 / VMDT p50 at least this
	goalDocP99      = 10.0 // scenario 1, warm: best TCP p99 / VMDT p99 at least this
	goalZeroLoss    = 1.5  // 0% loss, sizes >= goalZeroLossMin: VMDT p50 / best TCP p50 at most this
	goalZeroLossMin = 64 << 10
	goalGoodput     = 0.8 // scenario 3: VMDT goodput p50 / physical limit at least this
)

// tcpBaselines are the transports "best TCP" is taken from.
var tcpBaselines = []string{"tcp-cubic", "tcp-bbr"}

// GoalCheck is one goal checked on one case.
type GoalCheck struct {
	Goal   string   // the goal in words
	Case   string   // which measurement(s)
	Target string   // e.g. "≥ 5"
	Value  *float64 // measured; nil if it could not be computed
	Bound  string   // "" for an exact value, ">" or "<" when a timeout makes it a bound
	Met    *bool    // nil when the goal could not be checked
	Margin string   // by how much it was met or missed
	Note   string   // what the value is made of, or why it is missing
}

// atLeast and atMost evaluate a check against its target.
func (g *GoalCheck) atLeast(v, target float64, bound string) {
	g.Value, g.Bound = ptr(v), bound
	if g.Value == nil {
		return
	}
	met := v >= target
	g.Met = &met
	g.Margin = fmt.Sprintf("%.2f× the target", v/target)
	if !met && bound == ">" {
		g.Met, g.Margin = nil, "unknown: only a lower bound"
	}
}

func (g *GoalCheck) atMost(v, target float64, bound string) {
	g.Value, g.Bound = ptr(v), bound
	if g.Value == nil {
		return
	}
	met := v <= target
	g.Met = &met
	if v > 0 {
		g.Margin = fmt.Sprintf("%.2f× below the limit", target/v)
		if !met {
			g.Margin = fmt.Sprintf("%.2f× above the limit", v/target)
		}
	}
	if !met && bound == "<" {
		g.Met, g.Margin = nil, "unknown: only an upper bound"
	}
}

func percentile(m *Measurement, p string) time.Duration {
	if p == "p99" {
		return m.Summary.P99
	}
	return m.Summary.P50
}

func findMeasurement(ms []*Measurement, transport, mode string, keep func(*Measurement) bool) *Measurement {
	for _, m := range ms {
		if m.Transport == transport && m.Mode == mode && (keep == nil || keep(m)) {
			return m
		}
	}
	return nil
}

// bestTCP returns the faster TCP baseline at percentile p. timedOut is
// true when TCP baselines were measured but none completed at p; the time
// returned is then the largest timeout among them (TCP took longer).
func bestTCP(ms []*Measurement, mode, p string, keep func(*Measurement) bool) (best time.Duration, name string, timedOut bool) {
	var timeout time.Duration
	measured := false
	for _, tcp := range tcpBaselines {
		m := findMeasurement(ms, tcp, mode, keep)
		if m == nil || m.Summary.Runs == 0 {
			continue
		}
		measured = true
		d := percentile(m, p)
		if d == stats.Failed {
			timeout = max(timeout, m.Timeout)
			continue
		}
		if name == "" || d < best {
			best, name = d, tcp
		}
	}
	if name == "" && measured && timeout > 0 {
		return timeout, "", true
	}
	return best, name, false
}

// CheckGoals checks the goals against the report.
func CheckGoals(rep *Report, cfg *config.Config) []GoalCheck {
	var out []GoalCheck
	doc := rep.scenario(DocScenario)
	for _, g := range []struct {
		p      string
		target float64
	}{{"p50", goalDocP50}, {"p99", goalDocP99}} {
		c := GoalCheck{
			Goal:   fmt.Sprintf("scenario 1: VMDT at least %gx faster than the best TCP at %s, warm", g.target, g.p),
			Case:   "scenario 1, warm: best TCP " + g.p + " / VMDT " + g.p,
			Target: fmt.Sprintf("≥ %g", g.target),
		}
		v := findMeasurement(doc, vmdtName, "warm", nil)
		best, name, timedOut := bestTCP(doc, "warm", g.p, nil)
		switch {
		case v == nil:
			c.Note = "VMDT not measured warm in scenario 1"
		case percentile(v, g.p) == stats.Failed:
			c.Note = "VMDT's " + g.p + " is a failed run"
			met := false
			c.Met = &met
		case best == 0:
			c.Note = "no TCP baseline measured warm in scenario 1"
		default:
			bound := ""
			if timedOut {
				bound, name = ">", "every TCP timed out"
			}
			c.atLeast(stats.Ratio(best, percentile(v, g.p)), g.target, bound)
			c.Note = fmt.Sprintf("best TCP %s (%s), VMDT %s over %d runs", FormatDuration(best), name, FormatDuration(percentile(v, g.p)), v.Summary.Runs)
		}
		out = append(out, c)
	}
	for _, mode := range []string{"cold", "warm"} {
		v := findMeasurement(doc, vmdtName, mode, nil)
		if v == nil {
			continue
		}
		nk := float64(v.Cell.N) / float64(max(v.Cell.K, 1))
		c := GoalCheck{
			Goal:   "scenario 1: the sender puts at most n/k bytes on its links per payload byte",
			Case:   fmt.Sprintf("scenario 1, %s: VMDT sender B/B, n=%d k=%d", mode, v.Cell.N, v.Cell.K),
			Target: fmt.Sprintf("≤ %.2f", nk),
		}
		if v.PayloadBytes > 0 {
			c.atMost(v.SenderPerPayload(), nk, "")
			c.Note = fmt.Sprintf("%d B on the sender's links for %d payload B over %d runs (IP headers, retransmissions and control traffic included)",
				v.SenderOut.OfferedBytes, v.PayloadBytes, v.Summary.Runs)
		} else {
			c.Note = "no runs"
		}
		out = append(out, c)
	}
	out = append(out, zeroLossGoals(rep, cfg)...)
	out = append(out, goodputGoals(rep)...)
	return out
}

// zeroLossGoals: at 0% loss VMDT within goalZeroLoss of the best TCP at
// p50, for every size >= 64 KiB and RTT of the grid scenarios (those
// plotted against loss), in every mode measured, with a summary line.
func zeroLossGoals(rep *Report, cfg *config.Config) []GoalCheck {
	var out []GoalCheck
	met, checked := 0, 0
	for i := range cfg.Scenarios {
		s := &cfg.Scenarios[i]
		if s.Plot != "loss" {
			continue
		}
		ms := rep.scenario(s.ID)
		for _, mode := range []string{"cold", "warm"} {
			for _, rtt := range s.RTT {
				for _, size := range s.Sizes {
					if size < goalZeroLossMin {
						continue
					}
					keep := func(m *Measurement) bool {
						return m.Cell.Loss == 0 && m.Cell.RTT == time.Duration(rtt) && m.Cell.Size == int64(size)
					}
					v := findMeasurement(ms, vmdtName, mode, keep)
					if v == nil {
						continue
					}
					c := GoalCheck{
						Goal:   fmt.Sprintf("0%% loss: VMDT within %gx of TCP for sizes ≥ 64 KiB", goalZeroLoss),
						Case:   fmt.Sprintf("%s, %s, %s, RTT %v: VMDT p50 / best TCP p50", s.ID, mode, formatSize(int64(size)), time.Duration(rtt)),
						Target: fmt.Sprintf("≤ %g", goalZeroLoss),
					}
					best, name, timedOut := bestTCP(ms, mode, "p50", keep)
					switch {
					case v.Summary.Runs == 0:
						c.Note = "VMDT made no runs"
					case v.Summary.P50 == stats.Failed:
						no := false
						c.Met, c.Note = &no, "VMDT's p50 is a failed run"
					case best == 0:
						c.Note = "no TCP baseline measured"
					default:
						bound := ""
						if timedOut {
							bound, name = "<", "every TCP timed out"
						}
						c.atMost(stats.Ratio(v.Summary.P50, best), goalZeroLoss, bound)
						c.Note = fmt.Sprintf("VMDT %s over %d runs, best TCP %s (%s)", FormatDuration(v.Summary.P50), v.Summary.Runs, FormatDuration(best), name)
					}
					if c.Met != nil {
						checked++
						if *c.Met {
							met++
						}
					}
					out = append(out, c)
				}
			}
		}
	}
	if len(out) > 1 {
		all := met == checked && checked == len(out)
		out = append(out, GoalCheck{
			Goal:   out[0].Goal,
			Case:   "all of the above",
			Target: "every case",
			Met:    &all,
			Margin: fmt.Sprintf("met in %d of %d cases", met, len(out)),
		})
	}
	return out
}

// goodputGoals: scenario 3, VMDT goodput at p50 over the physical limit,
// for every path count and mode.
func goodputGoals(rep *Report) []GoalCheck {
	var out []GoalCheck
	agg := rep.scenario(AggregateScenario)
	for _, m := range agg {
		if m.Transport != vmdtName || m.Mode == "setup" {
			continue
		}
		c := GoalCheck{
			Goal:   fmt.Sprintf("scenario 3: VMDT goodput at least %g of the physical limit", goalGoodput),
			Case:   fmt.Sprintf("scenario 3, %s, n=%d k=%d: goodput p50 / (n·rate·k/n)", m.Mode, m.Cell.N, m.Cell.K),
			Target: fmt.Sprintf("≥ %g", goalGoodput),
		}
		lim := m.PhysicalLimit()
		switch {
		case m.Summary.Runs == 0:
			c.Note = "no runs"
			if len(m.Errors) > 0 {
				c.Note = "no runs: " + firstLine(m.Errors[0], 120)
			}
		case lim == 0:
			c.Note = "unlimited rate: no physical limit"
		case m.Summary.P50 == stats.Failed:
			no := false
			c.Met, c.Note = &no, "VMDT's p50 is a failed run"
		default:
			g := m.Goodput(m.Summary.P50)
			c.atLeast(g/lim, goalGoodput, "")
			c.Note = fmt.Sprintf("%s of %s over %d runs", formatRate(g), formatRate(lim), m.Summary.Runs)
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b GoalCheck) int { return cmp.Compare(a.Case, b.Case) })
	return out
}

// writeGoals renders the checks as a Markdown table.
func writeGoals(w io.Writer, checks []GoalCheck) {
	fmt.Fprintf(w, "## Goals\n\nThe issue's goals, checked against the measurements above (computed by `bench/netlab/runner/goals.go` from the results; "+
		"\"best TCP\" is the faster of %s at that percentile). A bound (> or <) means a TCP baseline timed out, so its time is only known to exceed the timeout.\n\n", strings.Join(tcpBaselines, " and "))
	if len(checks) == 0 {
		fmt.Fprintf(w, "No goal could be checked: VMDT was not measured in the scenarios the goals refer to.\n\n")
		return
	}
	fmt.Fprintf(w, "| goal | case | target | measured | met | margin | from |\n|---|---|---|---|---|---|---|\n")
	for _, c := range checks {
		value := "–"
		if c.Value != nil {
			value = c.Bound + formatRatio(*c.Value)
		}
		met := "not checked"
		if c.Met != nil {
			met = "**no**"
			if *c.Met {
				met = "yes"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(c.Goal), mdEscape(c.Case), c.Target, value, met, mdEscape(c.Margin), mdEscape(c.Note))
	}
	fmt.Fprintln(w)
}

package runner

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/stats"
)

// Scenario ids the headlines are taken from.
const (
	DocScenario       = "doc"       // scenario 1
	AggregateScenario = "aggregate" // scenario 3
	vmdtName          = "vmdt"
)

// Headlines are the few numbers bench-quick prints. A nil pointer means
// the number could not be measured (VMDT unavailable, or every run failed).
type Headlines struct {
	Generated       string          `json:"generated"`
	Config          string          `json:"config"`
	VMDTAvailable   bool            `json:"vmdt_available"`
	VMDTUnavailable string          `json:"vmdt_unavailable,omitempty"`
	Ratios          []Ratio         `json:"ratios"`
	VMDTWire        *float64        `json:"vmdt_wire_bytes_per_payload_byte"`
	VMDTSender      *float64        `json:"vmdt_sender_bytes_per_payload_byte"` // what the sender puts on its own links
	VMDTNOverK      *float64        `json:"vmdt_n_over_k"`                      // the goal for VMDTSender
	VMDTGoodput     *float64        `json:"vmdt_goodput_over_physical_limit"`
	Baselines       []BaselineLine  `json:"baselines"`
	VMDT            []BaselineLine  `json:"vmdt"` // scenario 1, like the baselines
	Aggregate       []AggregateLine `json:"aggregate_baselines"`
}

// Ratio is TCP time / VMDT time in scenario 1.
type Ratio struct {
	Name  string   `json:"name"` // e.g. "tcp-cubic/vmdt p50 cold"
	Value *float64 `json:"value"`
}

// BaselineLine is one transport and mode in scenario 1.
type BaselineLine struct {
	Transport string   `json:"transport"`
	Mode      string   `json:"mode"`
	Runs      int      `json:"runs"`
	Failed    int      `json:"failed"`
	P50ms     *float64 `json:"p50_ms"`
	P90ms     *float64 `json:"p90_ms"`
	P99ms     *float64 `json:"p99_ms"`
	Wire      float64  `json:"wire_bytes_per_payload_byte"`
	Loss      float64  `json:"achieved_loss"`
	Info      string   `json:"info,omitempty"`
}

// AggregateLine is one transport's goodput in scenario 3.
type AggregateLine struct {
	Transport     string   `json:"transport"`
	Mode          string   `json:"mode"`
	N             int      `json:"n"`
	GoodputMbit   *float64 `json:"goodput_p50_mbit_s"`
	LimitMbit     float64  `json:"physical_limit_mbit_s"`
	OverLimit     *float64 `json:"goodput_over_limit"`
	SinglePathFor string   `json:"limit_is,omitempty"`
}

func ms(d time.Duration) *float64 {
	if d <= 0 || d == stats.Failed {
		return nil
	}
	v := float64(d) / 1e6
	return &v
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func completed(m *Measurement) bool { return m != nil && m.Summary.Runs > m.Summary.Failed }

// ComputeHeadlines extracts the headline numbers from a report.
func ComputeHeadlines(rep *Report) *Headlines {
	h := &Headlines{Generated: rep.Finished.UTC().Format(time.RFC3339), Config: rep.ConfigName}
	for _, t := range rep.Transports {
		if t.Name == vmdtName {
			h.VMDTAvailable = t.Unavailable == ""
			h.VMDTUnavailable = t.Unavailable
		}
	}
	if !h.VMDTAvailable && h.VMDTUnavailable == "" {
		h.VMDTUnavailable = "vmdt was not among the transports run"
	}
	doc := rep.scenario(DocScenario)
	find := func(ms []*Measurement, transport, mode string) *Measurement {
		for _, m := range ms {
			if m.Transport == transport && m.Mode == mode {
				return m
			}
		}
		return nil
	}
	for _, m := range doc {
		if m.Mode == "setup" {
			continue
		}
		l := BaselineLine{
			Transport: m.Transport, Mode: m.Mode, Runs: m.Summary.Runs, Failed: m.Summary.Failed,
			P50ms: ms(m.Summary.P50), P90ms: ms(m.Summary.P90), P99ms: ms(m.Summary.P99),
			Wire: m.WirePerPayload(), Loss: m.pathLoss(), Info: m.Info,
		}
		if m.Transport == vmdtName {
			if len(m.Errors) > 0 {
				l.Info = m.Errors[0]
			}
			h.VMDT = append(h.VMDT, l)
			continue
		}
		h.Baselines = append(h.Baselines, l)
	}
	for _, mode := range []string{"cold", "warm"} {
		v := find(doc, vmdtName, mode)
		for _, tcp := range []string{"tcp-cubic", "tcp-bbr"} {
			b := find(doc, tcp, mode)
			if b == nil {
				continue
			}
			for _, p := range []string{"p50", "p99"} {
				r := Ratio{Name: fmt.Sprintf("%s/vmdt time %s %s", tcp, p, mode)}
				if completed(v) && completed(b) {
					if p == "p50" {
						r.Value = ptr(stats.Ratio(b.Summary.P50, v.Summary.P50))
					} else {
						r.Value = ptr(stats.Ratio(b.Summary.P99, v.Summary.P99))
					}
				}
				h.Ratios = append(h.Ratios, r)
			}
		}
		// The better TCP at each percentile, the headline ratio.
		for _, p := range []string{"p50", "p99"} {
			pick := func(m *Measurement) time.Duration {
				if p == "p50" {
					return m.Summary.P50
				}
				return m.Summary.P99
			}
			best, bestName := time.Duration(0), ""
			for _, tcp := range []string{"tcp-cubic", "tcp-bbr"} {
				if b := find(doc, tcp, mode); completed(b) && pick(b) != stats.Failed && (bestName == "" || pick(b) < best) {
					best, bestName = pick(b), tcp
				}
			}
			if bestName == "" {
				continue
			}
			r := Ratio{Name: fmt.Sprintf("best TCP (%s)/vmdt time %s %s", bestName, p, mode)}
			if completed(v) {
				r.Value = ptr(stats.Ratio(best, pick(v)))
			}
			h.Ratios = append(h.Ratios, r)
		}
		if v != nil && completed(v) && h.VMDTWire == nil {
			h.VMDTWire = ptr(v.WirePerPayload())
			h.VMDTSender = ptr(v.SenderPerPayload())
			h.VMDTNOverK = ptr(float64(v.Cell.N) / float64(v.Cell.K))
		}
	}

	// Scenario 3: goodput at p50 over the physical limit, at n=6 if measured.
	agg := rep.scenario(AggregateScenario)
	bestN := 0
	for _, m := range agg {
		if bestN == 0 || abs(m.Cell.N-6) < abs(bestN-6) {
			bestN = m.Cell.N
		}
	}
	for _, m := range agg {
		if m.Cell.N != bestN || m.Mode == "setup" {
			continue
		}
		l := AggregateLine{Transport: m.Transport, Mode: m.Mode, N: m.Cell.N, LimitMbit: m.PhysicalLimit() / 1e6}
		if !m.Multipath {
			l.SinglePathFor = "one path's rate (single-path transport)"
		}
		if completed(m) && m.Summary.P50 != stats.Failed {
			g := m.Goodput(m.Summary.P50)
			l.GoodputMbit = ptr(g / 1e6)
			if lim := m.PhysicalLimit(); lim > 0 {
				l.OverLimit = ptr(g / lim)
			}
		}
		if m.Transport == vmdtName {
			if h.VMDTGoodput == nil || m.Mode == "warm" {
				h.VMDTGoodput = l.OverLimit
			}
			continue
		}
		h.Aggregate = append(h.Aggregate, l)
	}
	return h
}

func abs(x int) int { return max(x, -x) }

func fmtMS(p *float64) string {
	if p == nil {
		return "failed"
	}
	return FormatDuration(time.Duration(*p * 1e6))
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return formatRatio(*p)
}

// Print writes the headlines one per line.
func (h *Headlines) Print(w io.Writer) {
	for _, b := range h.Baselines {
		fmt.Fprintf(w, "scenario 1 baseline %s %s: p50 %s p90 %s p99 %s over %d runs (%d failed), wire %.2f B/B, achieved loss %.1f%%\n",
			b.Transport, b.Mode, fmtMS(b.P50ms), fmtMS(b.P90ms), fmtMS(b.P99ms), b.Runs, b.Failed, b.Wire, b.Loss*100)
	}
	for _, a := range h.Aggregate {
		fmt.Fprintf(w, "scenario 3 baseline %s %s n=%d: goodput p50 %s, %s of %s (%s)\n",
			a.Transport, a.Mode, a.N, fmtRatePtr(a.GoodputMbit), fmtPtr(a.OverLimit), formatRate(a.LimitMbit*1e6), a.SinglePathFor)
	}
	if !h.VMDTAvailable {
		fmt.Fprintf(w, "vmdt: NOT YET AVAILABLE (%s); the headline ratios TCP/VMDT time p50 and p99, VMDT wire bytes per payload byte and VMDT goodput / physical limit are printed once it plugs in\n", h.VMDTUnavailable)
		return
	}
	for _, b := range h.VMDT {
		fmt.Fprintf(w, "scenario 1 vmdt %s: p50 %s p90 %s p99 %s over %d runs (%d failed), wire %.2f B/B (both hops of every relay path), achieved loss %.1f%%\n",
			b.Mode, fmtMS(b.P50ms), fmtMS(b.P90ms), fmtMS(b.P99ms), b.Runs, b.Failed, b.Wire, b.Loss*100)
		if b.Failed > 0 && b.Info != "" {
			fmt.Fprintf(w, "scenario 1 vmdt %s first error: %s\n", b.Mode, b.Info)
		}
	}
	for _, r := range h.Ratios {
		fmt.Fprintf(w, "%s: %s\n", r.Name, fmtPtr(r.Value))
	}
	fmt.Fprintf(w, "vmdt wire bytes per payload byte (scenario 1): %s\n", fmtPtr(h.VMDTWire))
	fmt.Fprintf(w, "vmdt sender wire bytes per payload byte (scenario 1): %s (links leaving the sender only; goal n/k = %s)\n", fmtPtr(h.VMDTSender), fmtPtr(h.VMDTNOverK))
	fmt.Fprintf(w, "vmdt goodput / physical limit (scenario 3): %s\n", fmtPtr(h.VMDTGoodput))
}

func fmtRatePtr(p *float64) string {
	if p == nil {
		return "failed"
	}
	return formatRate(*p * 1e6)
}

// Package config describes what a netlab run measures: global settings
// (runs per measurement, seed, time limits, transports, cold/warm) and a
// list of scenarios, each a grid of payload sizes x loss rates x RTTs x
// relay path counts. It parses the JSON form, fills in defaults and
// validates; it knows nothing about namespaces or transports.
//
// Path semantics: a scenario's loss and RTT are end-to-end values of one
// path from sender to receiver. A relayed path crosses two emulated hops
// (sender->relay, relay->receiver); each hop gets one quarter of the RTT as
// one-way delay and loss 1-sqrt(1-p) in each direction, so the two hops
// compose to exactly RTT and p. The direct path (used by the single-path
// baselines) is one hop with half the RTT as one-way delay and loss p in
// each direction. Rate applies to every hop and to the direct path.
package config

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"time"
)

// Config is one netlab run. Zero values mean the defaults noted.
type Config struct {
	Seed       uint64     `json:"seed"`        // base of every loss seed; runs repeat with the same seed
	Runs       int        `json:"runs"`        // runs per measurement; default 30
	MinRuns    int        `json:"min_runs"`    // runs made even when the budget is spent; default 3
	Budget     Duration   `json:"budget"`      // wall-clock budget per measurement, 0 = none
	Timeout    Duration   `json:"timeout"`     // per transfer; default 60s
	Queue      Duration   `json:"queue"`       // emulator queue limit on rate-limited hops; default 50ms
	ProbeCount int        `json:"probe_count"` // UDP echo probes per path and link setting; default 100
	Transports []string   `json:"transports"`  // default: every known transport
	Modes      []string   `json:"modes"`       // "cold", "warm"; default both
	Scenarios  []Scenario `json:"scenarios"`
}

// Scenario is a grid of cells measured on the same lab.
type Scenario struct {
	ID          string     `json:"id"`           // [a-z0-9-]+, used in file names
	Title       string     `json:"title"`        // one line for the report
	Sizes       []Size     `json:"sizes"`        // payload sizes
	LossPercent []float64  `json:"loss_percent"` // end-to-end loss per path and direction, percent
	RTT         []Duration `json:"rtt"`          // end-to-end round-trip time per path
	Rate        Rate       `json:"rate"`         // per hop and direct path; 0 = unlimited
	Paths       []int      `json:"paths"`        // n, relay paths used (1..8); default [6]
	K           int        `json:"k"`            // shares needed; 0 = n/2 (at least 1)
	Fail        *Failure   `json:"fail"`         // relay paths that go dark during each transfer
	Transports  []string   `json:"transports"`   // restricts the global list when set
	Modes       []string   `json:"modes"`        // overrides the global list when set
	Runs        int        `json:"runs"`         // overrides the global runs when set
	MinRuns     int        `json:"min_runs"`     // overrides the global min_runs when set
	Budget      *Duration  `json:"budget"`       // overrides the global budget when set ("0s" = none)
	Timeout     Duration   `json:"timeout"`      // overrides the global per-transfer timeout when set
	Plot        string     `json:"plot"`         // "", "loss" (time vs loss) or "paths" (goodput vs path count)
}

// Limits bound the runs of one measurement (one transport in one mode on
// one cell).
type Limits struct {
	Runs    int           // at most this many runs
	MinRuns int           // at least this many runs, even when the budget is spent
	Budget  time.Duration // no new run starts after this much wall-clock time, once MinRuns are made; 0 = none
	Timeout time.Duration // per transfer
}

// Limits returns the run limits of a scenario's measurements: the
// scenario's own values where set, the global ones otherwise. A scenario
// that lowers runs below the global min_runs without setting its own
// min_runs gets min_runs = runs.
func (c *Config) Limits(s *Scenario) Limits {
	l := Limits{Runs: c.Runs, MinRuns: c.MinRuns, Budget: time.Duration(c.Budget), Timeout: time.Duration(c.Timeout)}
	if s.Runs > 0 {
		l.Runs = s.Runs
	}
	l.MinRuns = min(l.MinRuns, l.Runs)
	if s.MinRuns > 0 {
		l.MinRuns = s.MinRuns
	}
	if s.Budget != nil {
		l.Budget = time.Duration(*s.Budget)
	}
	if s.Timeout > 0 {
		l.Timeout = time.Duration(s.Timeout)
	}
	return l
}

// OverrideRuns sets the global runs to runs and lowers every other run
// count (min_runs, and each scenario's runs and min_runs) to at most runs,
// as the command line's -runs does. runs <= 0 changes nothing.
func (c *Config) OverrideRuns(runs int) {
	if runs <= 0 {
		return
	}
	c.Runs, c.MinRuns = runs, min(c.MinRuns, runs)
	for i := range c.Scenarios {
		s := &c.Scenarios[i]
		s.Runs, s.MinRuns = min(s.Runs, runs), min(s.MinRuns, runs)
	}
}

// SetBudget replaces the global and every scenario's budget, as the
// command line's -budget does.
func (c *Config) SetBudget(d time.Duration) {
	c.Budget = Duration(d)
	for i := range c.Scenarios {
		c.Scenarios[i].Budget = nil
	}
}

// Failure takes Paths relay paths down (every packet dropped, both hops,
// both directions) once At of the payload's bytes have left the sender, as
// counted by the emulator.
type Failure struct {
	Paths int     `json:"paths"`
	At    float64 `json:"at"` // fraction in (0, 1); default 0.5
}

// MaxRelays is the most relay hosts a lab has.
const MaxRelays = 8

// Cell is one point of a scenario's grid.
type Cell struct {
	Scenario *Scenario
	N, K     int
	Size     Size
	Loss     float64 // fraction in [0, 1)
	RTT      time.Duration
}

func (c Cell) String() string {
	return fmt.Sprintf("%s n=%d k=%d size=%v loss=%g%% rtt=%v rate=%v", c.Scenario.ID, c.N, c.K, c.Size, c.Loss*100, c.RTT, c.Scenario.Rate)
}

//go:embed *.json
var builtins embed.FS

// Builtin returns a configuration shipped with netlab: "full" (make bench)
// or "quick" (make bench-quick).
func Builtin(name string) (*Config, error) {
	b, err := builtins.ReadFile(name + ".json")
	if err != nil {
		return nil, invalid("no built-in configuration %q (have full, quick)", name)
	}
	return Parse(b)
}

// Parse decodes, defaults and validates a JSON configuration. Unknown keys
// are rejected.
func Parse(data []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("trailing data after the configuration object")
	}
	c.setDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) setDefaults() {
	if c.Runs == 0 {
		c.Runs = 30
	}
	if c.MinRuns == 0 {
		c.MinRuns = min(3, c.Runs)
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(60 * time.Second)
	}
	if c.Queue == 0 {
		c.Queue = Duration(50 * time.Millisecond)
	}
	if c.ProbeCount == 0 {
		c.ProbeCount = 100
	}
	if len(c.Modes) == 0 {
		c.Modes = []string{"cold", "warm"}
	}
	for i := range c.Scenarios {
		s := &c.Scenarios[i]
		if len(s.Paths) == 0 {
			s.Paths = []int{6}
		}
		if s.Fail != nil && s.Fail.At == 0 {
			s.Fail.At = 0.5
		}
	}
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

func (c *Config) validate() error {
	switch {
	case c.Runs < 1 || c.Runs > 10000:
		return invalid("runs %d: want 1..10000", c.Runs)
	case c.MinRuns < 1 || c.MinRuns > c.Runs:
		return invalid("min_runs %d: want 1..runs", c.MinRuns)
	case c.Timeout < Duration(time.Second):
		return invalid("timeout %v: want at least 1s", c.Timeout)
	case c.ProbeCount < 1 || c.ProbeCount > 10000:
		return invalid("probe_count %d: want 1..10000", c.ProbeCount)
	case len(c.Scenarios) == 0:
		return invalid("no scenarios")
	}
	if err := validModes(c.Modes); err != nil {
		return err
	}
	for _, t := range c.Transports {
		if !idPattern.MatchString(t) {
			return invalid("transport name %q", t)
		}
	}
	seen := map[string]bool{}
	for i := range c.Scenarios {
		s := &c.Scenarios[i]
		if !idPattern.MatchString(s.ID) || seen[s.ID] {
			return invalid("scenario %d: id %q must be unique and match %s", i, s.ID, idPattern)
		}
		seen[s.ID] = true
		if err := s.validate(); err != nil {
			return fmt.Errorf("scenario %s: %w", s.ID, err)
		}
		if s.MinRuns > c.Limits(s).Runs {
			return fmt.Errorf("scenario %s: %w", s.ID, invalid("min_runs %d exceeds runs %d", s.MinRuns, c.Limits(s).Runs))
		}
	}
	return nil
}

func validModes(modes []string) error {
	seen := map[string]bool{}
	for _, m := range modes {
		if (m != "cold" && m != "warm") || seen[m] {
			return invalid("mode %q: want cold or warm, each at most once", m)
		}
		seen[m] = true
	}
	return nil
}

func (s *Scenario) validate() error {
	switch {
	case len(s.Sizes) == 0 || len(s.LossPercent) == 0 || len(s.RTT) == 0:
		return invalid("sizes, loss_percent and rtt must each have at least one value")
	case len(s.Sizes)*len(s.LossPercent)*len(s.RTT)*len(s.Paths) > 10000:
		return invalid("more than 10000 cells")
	case s.Runs < 0 || s.Runs > 10000:
		return invalid("runs %d", s.Runs)
	case s.MinRuns < 0:
		return invalid("min_runs %d", s.MinRuns)
	case s.Timeout != 0 && s.Timeout < Duration(time.Second):
		return invalid("timeout %v: want at least 1s", s.Timeout)
	case s.Plot != "" && s.Plot != "loss" && s.Plot != "paths":
		return invalid("plot %q: want loss or paths", s.Plot)
	}
	for _, l := range s.LossPercent {
		if math.IsNaN(l) || l < 0 || l >= 100 {
			return invalid("loss %v%%: want 0 <= loss < 100", l)
		}
	}
	for _, r := range s.RTT {
		if r <= 0 || r > Duration(10*time.Second) {
			return invalid("rtt %v: want 0 < rtt <= 10s", r)
		}
	}
	for _, n := range s.Paths {
		if n < 1 || n > MaxRelays {
			return invalid("paths %d: want 1..%d", n, MaxRelays)
		}
		if s.K > n {
			return invalid("k %d exceeds n %d", s.K, n)
		}
		if s.Fail != nil && s.Fail.Paths > n {
			return invalid("fail.paths %d exceeds n %d", s.Fail.Paths, n)
		}
	}
	if s.K < 0 {
		return invalid("k %d", s.K)
	}
	if f := s.Fail; f != nil && (f.Paths < 1 || math.IsNaN(f.At) || f.At <= 0 || f.At >= 1) {
		return invalid("fail: want paths >= 1 and 0 < at < 1")
	}
	for _, t := range s.Transports {
		if !idPattern.MatchString(t) {
			return invalid("transport name %q", t)
		}
	}
	if len(s.Modes) > 0 {
		return validModes(s.Modes)
	}
	return nil
}

// Threshold returns k for n relay paths.
func (s *Scenario) Threshold(n int) int {
	if s.K > 0 {
		return s.K
	}
	return max(1, n/2)
}

// Cells lists the scenario's grid in a stable order: paths, RTT, size, loss.
func (s *Scenario) Cells() []Cell {
	var out []Cell
	for _, n := range s.Paths {
		for _, rtt := range s.RTT {
			for _, size := range s.Sizes {
				for _, l := range s.LossPercent {
					out = append(out, Cell{Scenario: s, N: n, K: s.Threshold(n), Size: size, Loss: l / 100, RTT: time.Duration(rtt)})
				}
			}
		}
	}
	return out
}

// MaxPaths is the largest path count any scenario uses.
func (c *Config) MaxPaths() int {
	m := 1
	for _, s := range c.Scenarios {
		for _, n := range s.Paths {
			m = max(m, n)
		}
	}
	return m
}

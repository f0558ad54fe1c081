package config

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	good := map[string]Size{"70800": 70800, "70800B": 70800, "1KiB": 1024, "64KiB": 65536, "1MiB": 1 << 20,
		"16MiB": 16 << 20, "1.5KB": 1500, " 2 MB ": 2e6, "1GiB": 1 << 30}
	for in, want := range good {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1KiB", "2GiB", "KiB", "1XB", "NaN", "1e400", "0.1B"} {
		if _, err := ParseSize(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSize(%q) err = %v, want ErrInvalid", in, err)
		}
	}
	for _, s := range []Size{1, 1000, 1024, 70800, 1 << 20, 16 << 20} {
		back, err := ParseSize(s.String())
		if err != nil || back != s {
			t.Errorf("round trip %v: %v, %v", s, back, err)
		}
	}
}

func TestParseRate(t *testing.T) {
	good := map[string]Rate{"20Mbit/s": 20e6, "20Mbit": 20e6, "1.5Gbit/s": 1.5e9, "64kbit/s": 64e3, "0": 0, "unlimited": 0, "9000bit/s": 9000}
	for in, want := range good {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "20", "20MB/s", "-1Mbit", "11Gbit/s", "1bit/s", "Mbit/s", "NaNMbit"} {
		if _, err := ParseRate(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseRate(%q) err = %v, want ErrInvalid", in, err)
		}
	}
	for _, r := range []Rate{0, 20e6, 1.5e9, 64e3} {
		back, err := ParseRate(r.String())
		if err != nil || back != r {
			t.Errorf("round trip %v: %v, %v", r, back, err)
		}
	}
}

func TestBuiltinsParse(t *testing.T) {
	for _, name := range []string{"full", "quick"} {
		c, err := Builtin(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Runs < 30 || c.Scenarios[0].ID != "doc" {
			t.Errorf("%s: runs %d, first scenario %q", name, c.Runs, c.Scenarios[0].ID)
		}
		doc := c.Scenarios[0].Cells()
		if len(doc) != 1 || doc[0].Size != 70800 || doc[0].Loss != 0.06 || doc[0].RTT != 20*time.Millisecond || doc[0].N != 6 || doc[0].K != 3 {
			t.Errorf("%s: doc cell = %+v", name, doc)
		}
	}
	full, _ := Builtin("full")
	if got := len(full.Scenarios[1].Cells()); got != 40 {
		t.Errorf("grid has %d cells, want 4 sizes x 5 losses x 2 RTTs = 40", got)
	}
	if full.MaxPaths() != 8 {
		t.Errorf("MaxPaths = %d", full.MaxPaths())
	}
	agg := full.Scenarios[2].Cells()
	if len(agg) != 3 || agg[0].N != 4 || agg[0].K != 2 || agg[2].N != 8 || agg[2].K != 4 {
		t.Errorf("aggregate k=n/2 not applied: %+v", agg)
	}
	if f := full.Scenarios[3].Fail; f == nil || f.Paths != 3 || f.At != 0.5 {
		t.Errorf("failure scenario = %+v", f)
	}
	if _, err := Builtin("nope"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown builtin: %v", err)
	}
}

const minimal = `{"scenarios":[{"id":"a","sizes":["1KiB"],"loss_percent":[1],"rtt":["20ms"]}]}`

func TestParseDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Runs != 30 || c.MinRuns != 3 || c.Timeout != Duration(time.Minute) || len(c.Modes) != 2 || c.Scenarios[0].Paths[0] != 6 || c.Scenarios[0].Threshold(6) != 3 {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func TestParseRejects(t *testing.T) {
	bad := map[string]string{
		"unknown key":                      `{"scenarios":[],"colour":1}`,
		"no scenarios":                     `{}`,
		"trailing":                         minimal + `{}`,
		"loss 100":                         strings.Replace(minimal, `[1]`, `[100]`, 1),
		"negative loss":                    strings.Replace(minimal, `[1]`, `[-1]`, 1),
		"zero rtt":                         strings.Replace(minimal, `"20ms"`, `"0s"`, 1),
		"bad size":                         strings.Replace(minimal, `"1KiB"`, `"lots"`, 1),
		"nine paths":                       strings.Replace(minimal, `"id":"a"`, `"id":"a","paths":[9]`, 1),
		"k above n":                        strings.Replace(minimal, `"id":"a"`, `"id":"a","paths":[2],"k":3`, 1),
		"bad id":                           strings.Replace(minimal, `"id":"a"`, `"id":"A b"`, 1),
		"duplicate id":                     `{"scenarios":[` + minimal[14:len(minimal)-2] + `,` + minimal[14:len(minimal)-2] + `]}`,
		"bad mode":                         `{"modes":["hot"],` + minimal[1:],
		"bad fail":                         strings.Replace(minimal, `"id":"a"`, `"id":"a","fail":{"paths":3,"at":1.5}`, 1),
		"fail above n":                     strings.Replace(minimal, `"id":"a"`, `"id":"a","paths":[2],"fail":{"paths":3}`, 1),
		"min above runs":                   `{"runs":2,"min_runs":5,` + minimal[1:],
		"short timeout":                    `{"timeout":"10ms",` + minimal[1:],
		"bad plot":                         strings.Replace(minimal, `"id":"a"`, `"id":"a","plot":"pie"`, 1),
		"bad transport":                    `{"transports":["TCP!"],` + minimal[1:],
		"scenario min_runs above its runs": strings.Replace(minimal, `"id":"a"`, `"id":"a","runs":2,"min_runs":3`, 1),
		"scenario min_runs above runs":     strings.Replace(minimal, `"id":"a"`, `"id":"a","min_runs":31`, 1),
		"negative scenario min_runs":       strings.Replace(minimal, `"id":"a"`, `"id":"a","min_runs":-1`, 1),
		"short scenario timeout":           strings.Replace(minimal, `"id":"a"`, `"id":"a","timeout":"500ms"`, 1),
		"negative scenario budget":         strings.Replace(minimal, `"id":"a"`, `"id":"a","budget":"-1s"`, 1),
		"not an object":                    `[1,2]`,
		"string for count":                 `{"runs":"30",` + minimal[1:],
	}
	for name, in := range bad {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	for _, name := range []string{"full", "quick"} {
		b, _ := builtins.ReadFile(name + ".json")
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		for i := range c.Scenarios {
			for _, cell := range c.Scenarios[i].Cells() {
				if cell.K < 1 || cell.K > cell.N || cell.Loss < 0 || cell.Loss >= 1 || cell.RTT <= 0 || cell.Size <= 0 {
					t.Fatalf("invalid cell accepted: %+v", cell)
				}
			}
		}
	})
}

func FuzzParseUnits(f *testing.F) {
	for _, s := range []string{"64KiB", "1MiB", "70800", "20Mbit/s", "unlimited", "20ms", "1.5Gbit"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := ParseSize(s); err == nil && (v <= 0 || v > MaxSize) {
			t.Fatalf("ParseSize(%q) = %v", s, v)
		}
		if v, err := ParseRate(s); err == nil && (v < 0 || v > MaxRate) {
			t.Fatalf("ParseRate(%q) = %v", s, v)
		}
		if v, err := ParseDuration(s); err == nil && (v < 0 || v > MaxDuration) {
			t.Fatalf("ParseDuration(%q) = %v", s, v)
		}
	})
}

func TestLimits(t *testing.T) {
	c, err := Parse([]byte(`{"runs":30,"min_runs":3,"budget":"60s","timeout":"60s","scenarios":[
		{"id":"plain","sizes":["1KiB"],"loss_percent":[0],"rtt":["20ms"]},
		{"id":"own","sizes":["1KiB"],"loss_percent":[0],"rtt":["20ms"],"runs":10,"min_runs":2,"budget":"6s","timeout":"20s"},
		{"id":"nobudget","sizes":["1KiB"],"loss_percent":[0],"rtt":["20ms"],"budget":"0s"},
		{"id":"fewruns","sizes":["1KiB"],"loss_percent":[0],"rtt":["20ms"],"runs":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Limits{
		"plain":    {Runs: 30, MinRuns: 3, Budget: time.Minute, Timeout: time.Minute},
		"own":      {Runs: 10, MinRuns: 2, Budget: 6 * time.Second, Timeout: 20 * time.Second},
		"nobudget": {Runs: 30, MinRuns: 3, Budget: 0, Timeout: time.Minute},
		"fewruns":  {Runs: 2, MinRuns: 2, Budget: time.Minute, Timeout: time.Minute},
	}
	for i := range c.Scenarios {
		s := &c.Scenarios[i]
		if got := c.Limits(s); got != want[s.ID] {
			t.Errorf("%s: limits %+v, want %+v", s.ID, got, want[s.ID])
		}
	}

	// -runs 5: global runs 5, nothing above it; -budget 3s replaces
	// every budget.
	c.OverrideRuns(5)
	c.SetBudget(3 * time.Second)
	for i := range c.Scenarios {
		s := &c.Scenarios[i]
		l := c.Limits(s)
		if l.Runs > 5 || l.MinRuns > l.Runs || l.Budget != 3*time.Second {
			t.Errorf("%s after overrides: %+v", s.ID, l)
		}
	}
	if l := c.Limits(&c.Scenarios[0]); l.Runs != 5 || l.MinRuns != 3 {
		t.Errorf("plain after -runs 5: %+v", l)
	}
	c.OverrideRuns(0) // no-op
	if c.Runs != 5 {
		t.Errorf("OverrideRuns(0) changed runs to %d", c.Runs)
	}
}

// A parsed configuration survives a JSON round trip unchanged: the
// results file stores it, and netlab report parses it again.
func TestConfigRoundTrip(t *testing.T) {
	for _, name := range []string{"full", "quick"} {
		c, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: parse of its own JSON: %v\n%s", name, err, b)
		}
		if !reflect.DeepEqual(c, back) {
			t.Errorf("%s: round trip changed the configuration:\n%+v\n%+v", name, c, back)
		}
	}
}

// The full configuration is what make bench runs: every scenario of the
// issue, with the limits that keep it near 50 minutes (see the README).
func TestFullConfigLimits(t *testing.T) {
	c, err := Builtin("full")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*Scenario{}
	for i := range c.Scenarios {
		byID[c.Scenarios[i].ID] = &c.Scenarios[i]
	}
	doc, grid, agg := byID["doc"], byID["grid"], byID["aggregate"]
	if doc == nil || grid == nil || agg == nil || byID["failure"] == nil {
		t.Fatalf("scenarios: %v", byID)
	}
	if l := c.Limits(doc); l.Runs != 30 || len(c.Transports) != 6 {
		t.Errorf("doc: %+v, transports %v", l, c.Transports)
	}
	if l := c.Limits(grid); l.MinRuns != 2 || l.Budget < 5*time.Second || l.Budget > 8*time.Second || l.Timeout != 20*time.Second {
		t.Errorf("grid limits: %+v", l)
	}
	if len(grid.Modes) != 1 || grid.Modes[0] != "warm" || len(grid.Transports) != 0 {
		t.Errorf("grid: modes %v transports %v", grid.Modes, grid.Transports)
	}
	if len(agg.Paths) != 3 || agg.Sizes[0] != 4<<20 {
		t.Errorf("aggregate: paths %v sizes %v", agg.Paths, agg.Sizes)
	}
}

package runner

import (
	"time"

	"github.com/vmdt/vmdt/bench/netlab/config"
	"github.com/vmdt/vmdt/bench/netlab/emu"
	"github.com/vmdt/vmdt/bench/netlab/micro"
	"github.com/vmdt/vmdt/bench/netlab/stats"
)

// Report is everything one netlab run measured. Its JSON form (WriteJSON,
// LoadReport) is the results file from which `netlab report` renders the
// Markdown and the plots again.
type Report struct {
	Machine      Machine
	ConfigName   string
	Config       *config.Config // the configuration run, after command-line overrides
	Seed         uint64
	Started      time.Time
	Finished     time.Time // last checkpoint while running
	Incomplete   string    // why the run stopped early; "" once it finished
	Transports   []TransportInfo
	Probes       []ProbeRecord
	Measurements []*Measurement
	Micro        *micro.Results // Go microbenchmarks (make bench's micro step), if given
}

// TransportInfo describes one transport that was asked for.
type TransportInfo struct {
	Name        string
	Multipath   bool
	Settings    string
	Unavailable string // why it could not run, if it could not
}

// ProbeRecord is a calibration of one link setting: what was configured
// and what the UDP echo probes measured.
type ProbeRecord struct {
	Scenario   string
	Setting    string        // human-readable link setting
	RTT        time.Duration // configured end-to-end RTT of a path
	Loss       float64       // configured end-to-end one-way loss of a path
	Direct     ProbeLine     // sender <-> receiver
	RelayHop1  ProbeLine     // sender <-> relay1 (first hop of a relayed path)
	RelayHop2  ProbeLine     // relay1 <-> receiver
	RelayRTT   time.Duration // RelayHop1 + RelayHop2 median RTTs
	Unroutable int64         // packets the emulator could not route during the probes
}

// ProbeLine is one probed pair.
type ProbeLine struct {
	Sent, Received int
	RTTP50, RTTMin time.Duration
	RTTP99         time.Duration
	OneWayLoss     float64 // estimated from the round-trip loss
}

// Measurement is one transport in one mode on one cell: a set of runs.
type Measurement struct {
	Scenario  string
	Cell      CellInfo
	Transport string
	Mode      string
	Multipath bool

	Times   []time.Duration // per run; stats.Failed for failed runs
	Summary stats.Summary
	Errors  []string // the first few errors
	Info    string   // what the transport reported about itself
	Reused  string   // set when copied from an identical single-path measurement

	PayloadBytes int64         // size times runs attempted
	Wire         emu.LinkStats // every link, both directions, during the runs
	SenderOut    emu.LinkStats // links leaving the sender
	DirectLoss   float64       // achieved random loss on the direct path (both directions)
	RelayLoss    float64       // achieved end-to-end random loss of relayed paths, from hop counts
	Unroutable   int64
	PathsFailed  int // runs in which the relay paths were taken down (scenario 4)

	CellIndex int           // position of the cell in the scenario's grid (config.Scenario.Cells)
	Timeout   time.Duration // per-transfer timeout in force
	Setup     time.Duration // wall-clock time of the transport's Setup for this cell; 0 when kept from an earlier cell
	Wall      time.Duration // wall-clock time of the measurement: warm-up, runs, preparation and restarts
}

// CellInfo is the cell's parameters in a form that serialises well.
type CellInfo struct {
	N, K     int
	Size     int64
	Loss     float64 // fraction
	RTT      time.Duration
	Rate     float64 // bit/s per path, 0 = unlimited
	FailAt   float64 // fraction of the payload after which paths fail, 0 = none
	FailDown int     // how many relay paths fail
}

// WirePerPayload is the bytes offered to all links per payload byte.
func (m *Measurement) WirePerPayload() float64 {
	if m.PayloadBytes == 0 {
		return 0
	}
	return float64(m.Wire.OfferedBytes) / float64(m.PayloadBytes)
}

// SenderPerPayload is the bytes the sender put on its links per payload byte.
func (m *Measurement) SenderPerPayload() float64 {
	if m.PayloadBytes == 0 {
		return 0
	}
	return float64(m.SenderOut.OfferedBytes) / float64(m.PayloadBytes)
}

// Goodput returns payload bits per second at the given completion time.
func (m *Measurement) Goodput(d time.Duration) float64 {
	if d <= 0 || d == stats.Failed {
		return 0
	}
	return float64(m.Cell.Size*8) / d.Seconds()
}

// PhysicalLimit is the highest goodput the paths allow: for a multipath
// transport n paths x rate x k/n (each share is 1/k of the message), for a
// single-path one the direct path's rate. 0 when rates are unlimited.
func (m *Measurement) PhysicalLimit() float64 {
	if m.Cell.Rate == 0 {
		return 0
	}
	if m.Multipath {
		return float64(m.Cell.N) * m.Cell.Rate * float64(m.Cell.K) / float64(m.Cell.N)
	}
	return m.Cell.Rate
}

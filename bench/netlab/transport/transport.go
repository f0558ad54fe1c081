// Package transport defines how netlab drives one way of moving a payload
// from the lab's sender to its receiver, and provides the single-path
// baselines (Linux TCP with CUBIC or BBR, KCP with FEC, libp2p over TCP or
// QUIC) plus VMDT itself, run as real vmdt daemons (vmdt.go).
//
// The runner calls Setup once per measurement cell (or once per group of
// cells that differ only in loss and size, for a transport registered
// with KeepAcrossCells), then Transfer once per run, then Close. A Transfer moves one Payload and reports the completion
// time: from just before connection setup (Cold) or just before the first
// write on an established connection (Warm) until the receiver holds every
// byte, checked against the payload's SHA-256. Implementations start their
// programs inside the lab's namespaces (Env.Lab.Command) so that all their
// traffic crosses the emulated links, where it is counted.
package transport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/lab"
)

// Errors; test with errors.Is.
var (
	// ErrUnavailable: the transport cannot run on this machine or is not
	// built yet. The runner reports it and moves on.
	ErrUnavailable = errors.New("transport not available")
	// ErrCorrupt: the receiver got bytes other than the payload.
	ErrCorrupt = errors.New("transport: receiver got different bytes than were sent")
	// ErrUnknown: no transport of that name is registered.
	ErrUnknown = errors.New("transport: unknown name")
)

// Mode says whether a transfer includes connection setup.
type Mode int

// Modes.
const (
	Cold Mode = iota // a new connection, set up inside the timed interval
	Warm             // over a connection set up before the timed interval
)

func (m Mode) String() string {
	if m == Warm {
		return "warm"
	}
	return "cold"
}

// ParseMode parses "cold" or "warm".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "cold":
		return Cold, nil
	case "warm":
		return Warm, nil
	}
	return 0, fmt.Errorf("transport: mode %q, want cold or warm", s)
}

// Payload is one message to move, in memory and in a file that every
// namespace can read.
type Payload struct {
	Data   []byte
	File   string
	SHA256 [32]byte
}

// Env is what a transport may use.
type Env struct {
	Lab  *lab.Lab // hosts, addresses, Command to run programs in a namespace
	N, K int      // multipath transports use relays Lab.Relays[:N]; any K shares rebuild the message
	Exe  string   // the running netlab binary, for helpers run inside namespaces
	Dir  string   // scratch directory readable and writable from every namespace
}

// Result is one completed transfer.
type Result struct {
	Elapsed time.Duration // completion time as defined in the package doc
	Info    string        // what the transport reports about itself, e.g. "cc=cubic"
}

// Transport moves payloads from Env.Lab.Sender to Env.Lab.Receiver.
type Transport interface {
	Name() string
	// Setup starts whatever the transport needs (listeners, nodes) and
	// returns once the receiver can accept transfers. It returns an error
	// wrapping ErrUnavailable if the transport cannot run here.
	Setup(ctx context.Context, env Env) error
	// Transfer moves p and reports its completion time. On error the
	// runner calls Close and Setup again before the next run.
	Transfer(ctx context.Context, p Payload, mode Mode) (Result, error)
	// Close stops everything Setup started. It is safe to call twice.
	Close() error
}

// Preparer is implemented by transports that need to do work before each
// timed run that must not be timed or counted, such as restarting a node
// so that a cold run starts without sessions. The runner calls PrepareRun
// before every run, outside the timed interval and outside the byte
// counts.
type Preparer interface {
	PrepareRun(ctx context.Context, mode Mode) error
}

// Info describes a registered transport.
type Info struct {
	Name      string
	Multipath bool   // uses the relay paths; single-path ones use only the direct path
	Settings  string // one line for the report
	New       func() Transport
	// KeepAcrossCells says that Setup is slow (vmdt starts a whole network
	// of daemons) and that a set-up transport may carry on while only the
	// loss rate and the payload size change: the runner then keeps it for
	// consecutive cells with the same n, k, RTT and rate instead of
	// setting it up for every cell, and runs nothing else meanwhile.
	KeepAcrossCells bool
}

var (
	registryMu sync.Mutex
	registry   = map[string]Info{}
)

// Register makes a transport available by name. It panics on a duplicate
// name, as a programming error at init time.
func Register(i Info) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[i.Name]; dup {
		panic("transport: duplicate registration of " + i.Name)
	}
	registry[i.Name] = i
}

// Lookup returns the registered transport of that name.
func Lookup(name string) (Info, error) {
	registryMu.Lock()
	defer registryMu.Unlock()
	i, ok := registry[name]
	if !ok {
		return Info{}, fmt.Errorf("%w: %q (have %v)", ErrUnknown, name, namesLocked())
	}
	return i, nil
}

// Names lists the registered transports, sorted.
func Names() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	return namesLocked()
}

func namesLocked() []string {
	var n []string
	for k := range registry {
		n = append(n, k)
	}
	sort.Strings(n)
	return slices.Clip(n)
}

package emu

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/netip"
	"sync"
	"time"

	logging "github.com/ipfs/go-log/v2"
)

var log = logging.Logger("vmdt/netlab/emu")

// Errors returned by Emulator methods; test with errors.Is.
var (
	ErrUnknownHost = errors.New("emu: unknown host")
	ErrUnknownLink = errors.New("emu: unknown link")
	ErrStarted     = errors.New("emu: emulator already started")
	ErrDuplicate   = errors.New("emu: duplicate host or link")
)

// Device carries whole IP packets, one per Read or Write: a TUN device
// opened with IFF_TUN|IFF_NO_PI, or an in-memory fake. Close must unblock
// a pending Read.
type Device = io.ReadWriteCloser

type host struct {
	name string
	addr netip.Addr
	dev  Device
}

type link struct {
	key  LinkKey
	dst  *host
	kick chan struct{} // wakes the delivery goroutine after a push

	mu     sync.Mutex // guards the fields below
	shaper *Shaper
	queue  DelayQueue
	stats  LinkStats
}

// Emulator forwards packets between hosts' devices over shaped links.
type Emulator struct {
	seed uint64

	mu         sync.Mutex // guards everything below
	hosts      map[string]*host
	byAddr     map[netip.Addr]*host
	links      map[LinkKey]*link
	unroutable int64
	started    bool
	closed     bool

	done chan struct{}
	wg   sync.WaitGroup
}

// New returns an Emulator whose links draw losses from generators derived
// from seed.
func New(seed uint64) *Emulator {
	return &Emulator{
		seed:   seed,
		hosts:  map[string]*host{},
		byAddr: map[netip.Addr]*host{},
		links:  map[LinkKey]*link{},
		done:   make(chan struct{}),
	}
}

// AddHost registers a host with its address and device. The Emulator
// owns dev from now on and closes it in Close. Hosts are added before
// Start.
func (e *Emulator) AddHost(name string, addr netip.Addr, dev Device) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.started:
		return ErrStarted
	case e.hosts[name] != nil || e.byAddr[addr] != nil:
		return fmt.Errorf("%w: host %s %v", ErrDuplicate, name, addr)
	}
	h := &host{name: name, addr: addr, dev: dev}
	e.hosts[name], e.byAddr[addr] = h, h
	return nil
}

// Connect creates the directed link from -> to. Links are created before
// Start; their parameters may change later with SetParams.
func (e *Emulator) Connect(from, to string, p LinkParams) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := LinkKey{from, to}
	switch {
	case e.started:
		return ErrStarted
	case e.hosts[from] == nil || e.hosts[to] == nil || from == to:
		return fmt.Errorf("%w: %v", ErrUnknownHost, k)
	case e.links[k] != nil:
		return fmt.Errorf("%w: link %v", ErrDuplicate, k)
	}
	e.links[k] = &link{key: k, dst: e.hosts[to], kick: make(chan struct{}, 1), shaper: NewShaper(p, linkSeed(e.seed, k))}
	return nil
}

// linkSeed derives a link's loss seed from the run seed and its name, so
// every link has its own independent, repeatable loss pattern.
func linkSeed(seed uint64, k LinkKey) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%s|%s", seed, k.From, k.To)
	return h.Sum64()
}

// Start launches a reader goroutine per host and a delivery goroutine per
// link. Close stops them.
func (e *Emulator) Start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started || e.closed {
		return ErrStarted
	}
	e.started = true
	for _, h := range e.hosts {
		e.wg.Add(1)
		go e.readLoop(h)
	}
	for _, l := range e.links {
		e.wg.Add(1)
		go e.deliverLoop(l)
	}
	return nil
}

// Close stops forwarding, closes every device and waits for the
// goroutines. Packets still queued are discarded.
func (e *Emulator) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.done)
	var errs []error
	for _, h := range e.hosts {
		if err := h.dev.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", h.name, err))
		}
	}
	e.mu.Unlock()
	e.wg.Wait()
	return errors.Join(errs...)
}

func (e *Emulator) link(from, to string) (*link, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.links[LinkKey{from, to}]
	if l == nil {
		return nil, fmt.Errorf("%w: %s->%s", ErrUnknownLink, from, to)
	}
	return l, nil
}

// SetParams changes a link's parameters. Packets already queued keep
// their delivery times.
func (e *Emulator) SetParams(from, to string, p LinkParams) error {
	l, err := e.link(from, to)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.shaper.SetParams(p)
	l.mu.Unlock()
	return nil
}

// SetDown takes a link down or brings it up. Taking it down also discards
// the packets in flight on it, as a cut cable would.
func (e *Emulator) SetDown(from, to string, down bool) error {
	l, err := e.link(from, to)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.shaper.SetDown(down)
	if down {
		l.stats.DownPackets += int64(l.queue.Clear())
	}
	return nil
}

// Reseed restarts every link's loss generator from a seed derived from
// seed, as at the start of a run.
func (e *Emulator) Reseed(seed uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, l := range e.links {
		l.mu.Lock()
		l.shaper.Reseed(linkSeed(seed, k))
		l.mu.Unlock()
	}
}

// Stats returns a snapshot of every counter.
func (e *Emulator) Stats() Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Snapshot{Links: make(map[LinkKey]LinkStats, len(e.links)), Unroutable: e.unroutable}
	for k, l := range e.links {
		l.mu.Lock()
		s.Links[k] = l.stats
		l.mu.Unlock()
	}
	return s
}

// route returns the link pkt from src takes. For a packet to a lab host
// that src has no link to (say, relay to relay) it returns nil and true:
// the sender should be told that host is unreachable.
func (e *Emulator) route(src *host, pkt []byte) (l *link, unreachable bool) {
	dst, ok := IPv4Dst(pkt)
	e.mu.Lock()
	defer e.mu.Unlock()
	if ok {
		if h := e.byAddr[dst]; h != nil {
			l = e.links[LinkKey{src.name, h.name}]
			unreachable = l == nil
		}
	}
	if l == nil {
		e.unroutable++
	}
	return l, unreachable
}

func (e *Emulator) readLoop(h *host) {
	defer e.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := h.dev.Read(buf)
		if err != nil {
			select {
			case <-e.done:
			default:
				log.Errorf("read from %s: %v", h.name, err)
			}
			return
		}
		l, unreachable := e.route(h, buf[:n])
		if unreachable {
			// Without this answer a connect to a host the lab has no
			// path to would hang until the kernel gives up.
			if icmp, ok := HostUnreachable(buf[:n]); ok {
				if _, err := h.dev.Write(icmp); err != nil {
					log.Debugf("host unreachable to %s: %v", h.name, err)
				}
			}
		}
		if l == nil {
			continue
		}
		pkt := append([]byte(nil), buf[:n]...)
		l.mu.Lock()
		l.stats.OfferedPackets++
		l.stats.OfferedBytes += int64(n)
		l.stats.MaxPacket = max(l.stats.MaxPacket, n)
		at, v := l.shaper.Offer(time.Now(), n)
		switch v {
		case Deliver:
			l.queue.Push(at, pkt)
		case DropLoss:
			l.stats.LostPackets++
		case DropQueue:
			l.stats.QueueDropPackets++
		case DropDown:
			l.stats.DownPackets++
		}
		l.mu.Unlock()
		if v == Deliver {
			select {
			case l.kick <- struct{}{}:
			default:
			}
		}
	}
}

// maxTimerBias bounds the timer-lateness correction.
const maxTimerBias = 2 * time.Millisecond

// deliverLoop writes a link's packets to the destination when they are
// due. Go timers fire late (by up to about a millisecond here), which
// would add that much to every hop's delay; the loop therefore tracks the
// lateness of its wake-ups (an exponentially weighted average, bias) and
// wakes that much early, delivering every packet due within bias of the
// wake-up. The error then averages out instead of accumulating per hop.
// Under testing/synctest timers are exact, bias stays 0 and delivery
// times are exact.
func (e *Emulator) deliverLoop(l *link) {
	defer e.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var bias time.Duration
	for {
		l.mu.Lock()
		now := time.Now()
		pkt, ok := l.queue.PopDue(now.Add(bias))
		next, pending := l.queue.Next()
		l.mu.Unlock()
		if ok {
			_, err := l.dst.dev.Write(pkt)
			l.mu.Lock()
			if err != nil {
				l.stats.WriteErrors++
			} else {
				l.stats.DeliveredPackets++
				l.stats.DeliveredBytes += int64(len(pkt))
			}
			l.mu.Unlock()
			continue
		}
		var wake <-chan time.Time
		var requested time.Time
		if pending {
			wait := next.Sub(now) - bias
			requested = now.Add(wait)
			timer.Reset(wait)
			wake = timer.C
		}
		select {
		case fired := <-wake:
			late := fired.Sub(requested)
			if woke := time.Now().Sub(requested); woke > late {
				late = woke
			}
			bias += (min(max(late, 0), maxTimerBias) - bias) / 8
		case <-l.kick:
		case <-e.done:
			return
		}
	}
}

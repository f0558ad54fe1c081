package rdt

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	logging "github.com/ipfs/go-log/v2"

	"github.com/vmdt/vmdt/protocol"
)

var log = logging.Logger("vmdt/rdt")

// sendBatch is how many datagrams the send loop takes from one session
// before it moves on to the next; with GSO they leave in one system call.
// 32 datagrams of at most 1200 bytes stay below the 64 KiB limit of one
// segmented send.
const sendBatch = 32

// noOffload disables GSO and GRO; tests set it to exercise the plain path.
var noOffload = false

// Transport multiplexes reliable share transfers with many peers over one
// net.PacketConn. It owns two goroutines: the read loop, which opens
// datagrams, feeds them to their sessions and answers with immediate
// ACKs, and the send loop, which polls the sessions that have work and
// sleeps until the earliest of their deadlines.
type Transport struct {
	conn  net.PacketConn
	udp   *net.UDPConn // set for the allocation-free UDP path
	gso   atomic.Bool  // send batches of datagrams with UDP_SEGMENT
	gro   bool         // the socket may coalesce received datagrams
	p     *params
	epoch time.Time

	peersMu sync.Mutex // serialises changes to peers
	peers   atomic.Pointer[peerTable]
	order   uint64 // guarded by peersMu
	total   memBudget
	retired counters // of removed sessions; guarded by peersMu

	activeMu sync.Mutex
	active   []*peer
	wake     chan struct{}

	delivMu    sync.Mutex
	delivs     []queuedDelivery
	delivHead  int
	delivReady chan struct{}

	quit      chan struct{}
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup

	ctr transportCounters
}

type queuedDelivery struct {
	d        Delivery
	p        *peer
	reserved int64
	filled   int64
}

// Segment is a newly arrived piece of an inbound share, reported to
// Config.OnSegment.
type Segment struct {
	From    net.Addr
	KeyID   uint32
	Header  protocol.VMDTHeader // Offset is where Payload starts in the share
	Payload []byte              // valid only during the OnSegment call
}

// Delivery is a complete inbound share.
type Delivery struct {
	From   net.Addr
	KeyID  uint32
	Header protocol.VMDTHeader // Offset is 0; ShareLen is len(Share)
	Share  []byte
}

// New starts a transport on conn, which it owns from now on: Close closes
// it. cfg may be nil for defaults.
func New(conn net.PacketConn, cfg *Config) (*Transport, error) {
	p, err := cfg.params()
	if err != nil {
		return nil, err
	}
	t := &Transport{
		conn:       conn,
		p:          p,
		epoch:      time.Now(),
		wake:       make(chan struct{}, 1),
		delivReady: make(chan struct{}, 1),
		quit:       make(chan struct{}),
	}
	t.udp, _ = conn.(*net.UDPConn)
	growSocketBuffers(conn)
	if t.udp != nil && !noOffload {
		gso, gro := enableOffload(t.udp)
		t.gso.Store(gso)
		t.gro = gro
	}
	t.total.capacity = p.MaxReassemblyTotal
	t.peers.Store(&peerTable{byKey: map[string]*peer{}, newest: map[string]*peer{}})
	t.wg.Add(2)
	go t.readLoop()
	go t.sendLoop()
	return t, nil
}

// socketBuffer is the kernel buffer size asked for in each direction.
// Linux caps it at net.core.rmem_max / wmem_max.
const socketBuffer = 4 << 20

// growSocketBuffers enlarges the kernel buffers of conn, if it has them,
// so that bursts at high rates are not dropped by the receiving socket.
// Failure is harmless: the congestion controller adapts to the loss.
func growSocketBuffers(conn net.PacketConn) {
	if c, ok := conn.(interface{ SetReadBuffer(int) error }); ok {
		_ = c.SetReadBuffer(socketBuffer)
	}
	if c, ok := conn.(interface{ SetWriteBuffer(int) error }); ok {
		_ = c.SetWriteBuffer(socketBuffer)
	}
}

// LocalAddr returns the address of the underlying connection.
func (t *Transport) LocalAddr() net.Addr { return t.conn.LocalAddr() }

func (t *Transport) now() time.Duration { return time.Since(t.epoch) }

// Close stops the transport: it sends CLOSE to every peer, closes the
// connection, stops both goroutines and waits for them, and fails every
// pending transfer with an error that wraps net.ErrClosed. Shares already
// complete stay available to Receive. Close is idempotent.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		t.closed.Store(true)
		tbl := t.peers.Load()
		var ev []event
		for _, p := range tbl.byKey {
			ev = t.shutdownPeer(p, ErrClosed, true, ev[:0])
		}
		close(t.quit)
		t.closeErr = t.conn.Close()
		t.wg.Wait()
		if errors.Is(t.closeErr, net.ErrClosed) {
			t.closeErr = nil
		}
	})
	return t.closeErr
}

// shutdownPeer ends the session of p with err, optionally sending CLOSE,
// and dispatches the resulting events.
func (t *Transport) shutdownPeer(p *peer, err error, sendClose bool, ev []event) []event {
	buf := make([]byte, 0, t.p.MaxDatagram+tagLen)
	p.mu.Lock()
	wasClosed := p.s.closed
	p.s.shutdown(err)
	var d []byte
	if sendClose && !wasClosed {
		p.s.closing = true
		d = p.s.poll(t.now(), buf)
	}
	ev = p.s.takeEvents(ev)
	p.mu.Unlock()
	if d != nil {
		t.write(p, p.keys.sealDatagram(new(nonce), d))
	}
	t.dispatch(p, ev)
	return ev
}

// write sends one sealed datagram to p.
func (t *Transport) write(p *peer, d []byte) {
	var err error
	if t.udp != nil && p.ap.IsValid() {
		_, err = t.udp.WriteToUDPAddrPort(d, p.ap)
	} else {
		_, err = t.conn.WriteTo(d, p.addr)
	}
	if err != nil {
		t.ctr.writeErrors.Add(1)
		return
	}
	t.ctr.datagramsSent.Add(1)
	t.ctr.bytesSent.Add(uint64(len(d)))
}

// dispatch acts on session events outside the session lock, then clears
// them so the slice keeps no references.
func (t *Transport) dispatch(p *peer, ev []event) {
	for i := range ev {
		e := &ev[i]
		switch e.kind {
		case evSegment:
			if t.p.OnSegment != nil {
				t.p.OnSegment(Segment{From: p.addr, KeyID: p.keyID, Header: e.hdr, Payload: e.data})
			}
		case evDelivery:
			t.enqueue(queuedDelivery{
				d:        Delivery{From: p.addr, KeyID: p.keyID, Header: e.hdr, Share: e.data},
				p:        p,
				reserved: e.reserved,
				filled:   e.filled,
			})
		case evOutDone:
			e.out.owner.finish(e.err)
			if e.err != nil {
				log.Debugw("outgoing transfer failed", "peer", p.addr, "msg", e.out.hdr.MessageID, "share", e.out.hdr.ShareIndex, "err", e.err)
			}
		case evInFailed:
			log.Debugw("inbound transfer dropped", "peer", p.addr, "msg", e.hdr.MessageID, "share", e.hdr.ShareIndex, "err", e.err)
			if t.p.OnInboundFailed != nil {
				t.p.OnInboundFailed(p.addr, e.hdr, e.err)
			}
		case evPeerClosed:
			log.Debugw("peer closed the session", "peer", p.addr, "key", p.keyID)
			if t.unlinkPeer(p) {
				t.retire(p)
			}
		}
	}
	clear(ev)
}

func (t *Transport) enqueue(q queuedDelivery) {
	t.delivMu.Lock()
	t.delivs = append(t.delivs, q)
	t.delivMu.Unlock()
	select {
	case t.delivReady <- struct{}{}:
	default:
	}
}

// kick makes the send loop poll p's session soon: after a call that may
// have given it something to send.
func (t *Transport) kick(p *peer) {
	p.mu.Lock()
	p.scheduled = 0
	p.mu.Unlock()
	t.wakeFor(p)
}

// wakeFor puts p on the send loop's active list and wakes the loop; the
// caller has lowered p.scheduled to the session's new deadline.
func (t *Transport) wakeFor(p *peer) {
	t.activate(p)
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *Transport) activate(p *peer) {
	t.activeMu.Lock()
	if !p.active {
		p.active = true
		t.active = append(t.active, p)
	}
	t.activeMu.Unlock()
}

// takeActive moves the active list into list.
func (t *Transport) takeActive(list []*peer) []*peer {
	t.activeMu.Lock()
	list = append(list, t.active...)
	for _, p := range t.active {
		p.active = false
	}
	clear(t.active)
	t.active = t.active[:0]
	t.activeMu.Unlock()
	return list
}

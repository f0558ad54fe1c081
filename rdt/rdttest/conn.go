package rdttest

import (
	"container/heap"
	"net"
	"os"
	"sync"
	"time"
)

// packet is a datagram waiting in a Conn's receive queue.
type packet struct {
	data []byte
	from net.Addr
	at   time.Time // when it becomes readable
	seq  uint64    // tie-breaker: order of sending
}

type packetQueue []packet

func (q packetQueue) Len() int { return len(q) }
func (q packetQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q packetQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *packetQueue) Push(x any)   { *q = append(*q, x.(packet)) }
func (q *packetQueue) Pop() any {
	old := *q
	p := old[len(old)-1]
	old[len(old)-1] = packet{}
	*q = old[:len(old)-1]
	return p
}

// Conn is one endpoint of a Network. It implements net.PacketConn; reads
// return datagrams in the order they become readable.
type Conn struct {
	n     *Network
	addr  Addr
	naddr net.Addr

	mu       sync.Mutex
	queue    packetQueue
	deadline time.Time
	notify   chan struct{} // signalled when the queue or deadline changes
	closed   chan struct{}
	once     sync.Once
}

var _ net.PacketConn = (*Conn)(nil)

func newConn(n *Network, a Addr) *Conn {
	return &Conn{n: n, addr: a, naddr: a, notify: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (c *Conn) push(p packet) {
	c.mu.Lock()
	heap.Push(&c.queue, p)
	c.mu.Unlock()
	c.signal()
}

func (c *Conn) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// ReadFrom implements net.PacketConn. A datagram longer than b is
// truncated, as UDP does.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		select {
		case <-c.closed:
			c.mu.Unlock()
			return 0, nil, c.opErr("read", net.ErrClosed)
		default:
		}
		now := time.Now()
		if len(c.queue) > 0 && !c.queue[0].at.After(now) {
			p := heap.Pop(&c.queue).(packet)
			c.mu.Unlock()
			return copy(b, p.data), p.from, nil
		}
		if !c.deadline.IsZero() && !now.Before(c.deadline) {
			c.mu.Unlock()
			return 0, nil, c.opErr("read", os.ErrDeadlineExceeded)
		}
		wait := time.Duration(-1)
		if len(c.queue) > 0 {
			wait = c.queue[0].at.Sub(now)
		}
		if !c.deadline.IsZero() {
			if d := c.deadline.Sub(now); wait < 0 || d < wait {
				wait = d
			}
		}
		c.mu.Unlock()
		var (
			timer   *time.Timer
			timeout <-chan time.Time
		)
		if wait >= 0 {
			timer = time.NewTimer(wait)
			timeout = timer.C
		}
		select {
		case <-c.notify:
		case <-timeout:
		case <-c.closed:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// WriteTo implements net.PacketConn. Datagrams to addresses without a
// Conn vanish, as with UDP.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-c.closed:
		return 0, c.opErr("write", net.ErrClosed)
	default:
	}
	c.n.send(c, b, addr)
	return len(b), nil
}

// Close implements net.PacketConn. It is idempotent.
func (c *Conn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.n.remove(c)
	})
	return nil
}

// LocalAddr returns the Conn's address.
func (c *Conn) LocalAddr() net.Addr { return c.naddr }

// SetDeadline sets the read deadline; writes never block.
func (c *Conn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetReadDeadline implements net.PacketConn.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	c.signal()
	return nil
}

// SetWriteDeadline implements net.PacketConn; writes never block.
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }

func (c *Conn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "rdttest", Addr: c.naddr, Err: err}
}

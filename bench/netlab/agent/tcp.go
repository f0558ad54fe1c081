package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// ccControl returns a socket Control function that sets the TCP
// congestion control algorithm on each socket before it connects or
// listens. It is set per socket because the namespace-wide sysctl is not
// writable on every machine.
func ccControl(cc string) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, cc)
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("set TCP_CONGESTION %q (see /proc/sys/net/ipv4/tcp_available_congestion_control): %w", cc, serr)
		}
		return nil
	}
}

// congestionControl reads back the algorithm a connection really uses.
func congestionControl(c net.Conn) string {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return "?"
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return "?"
	}
	cc := "?"
	_ = raw.Control(func(fd uintptr) {
		if s, err := unix.GetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION); err == nil {
			cc = s
		}
	})
	return cc
}

// streamServer reads framed messages from every accepted connection.
type streamServer struct {
	ln     net.Listener
	report func(message)
	info   string

	mu    sync.Mutex
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func serveStreams(ln net.Listener, info string, report func(message)) *streamServer {
	s := &streamServer{ln: ln, report: report, info: info, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

func (s *streamServer) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go s.readLoop(c)
	}
}

func (s *streamServer) readLoop(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	buf := make([]byte, 256<<10)
	for {
		m, err := readMessage(c, buf)
		if err != nil {
			return
		}
		s.report(m)
	}
}

func (s *streamServer) Addr() string { return s.ln.Addr().String() }
func (s *streamServer) Info() string { return s.info }

func (s *streamServer) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func listenTCP(addr, cc string, report func(message)) (receiver, error) {
	lc := net.ListenConfig{Control: ccControl(cc)}
	ln, err := lc.Listen(context.Background(), "tcp4", addr)
	if err != nil {
		return nil, err
	}
	return serveStreams(ln, "cc="+cc, report), nil
}

// tcpSender sends over one TCP connection at a time.
type tcpSender struct {
	target, cc string
	conn       net.Conn
}

func (t *tcpSender) Connected() bool { return t.conn != nil }

func (t *tcpSender) Connect(ctx context.Context) error {
	if t.conn != nil {
		return errors.New("already connected")
	}
	d := net.Dialer{Control: ccControl(t.cc)}
	c, err := d.DialContext(ctx, "tcp4", t.target)
	if err != nil {
		return err
	}
	t.conn = c
	return nil
}

func (t *tcpSender) Disconnect() error {
	if t.conn == nil {
		return nil
	}
	err := t.conn.Close()
	t.conn = nil
	return err
}

func (t *tcpSender) Send(ctx context.Context, id uint64, data []byte) error {
	if t.conn == nil {
		return net.ErrClosed
	}
	stop := context.AfterFunc(ctx, func() { t.conn.Close() })
	defer stop()
	return writeMessage(t.conn, id, data)
}

func (t *tcpSender) Info() string {
	if t.conn == nil {
		return "cc=" + t.cc + " (requested)"
	}
	return "cc=" + congestionControl(t.conn)
}

func (t *tcpSender) Close() error { return t.Disconnect() }

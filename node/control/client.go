package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/internal/p2pdial"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// ErrClosed is returned by a Client used after Close or after an I/O or
// protocol error broke its stream, and by a closed Service.
var ErrClosed = errors.New("control: closed")

// Client is one control stream to a peer. Commands run one at a time; a
// Client is safe for concurrent use but serialises its callers. An ERR
// reply leaves the stream usable (until the server's error limit); an I/O
// error or malformed reply resets it.
type Client struct {
	s  *Service
	st network.Stream
	r  *bufio.Reader

	mu     sync.Mutex
	broken error // set once the stream is unusable
}

// Dial opens a control stream to p.
func (s *Service) Dial(ctx context.Context, p peer.ID) (*Client, error) {
	ctx, cancel := s.withService(ctx)
	defer cancel()
	if s.ctx.Err() != nil {
		return nil, ErrClosed
	}
	st, err := s.h.NewStream(ctx, p, ProtocolID)
	if rctx, ok := p2pdial.PastBackoff(ctx, err); ok {
		st, err = s.h.NewStream(rctx, p, ProtocolID)
	}
	if err != nil {
		return nil, fmt.Errorf("control: open stream to %s: %w", p, err)
	}
	return &Client{s: s, st: st, r: bufio.NewReaderSize(st, ctl.MaxLineLen)}, nil
}

// Peer returns the peer the client talks to.
func (c *Client) Peer() peer.ID { return c.st.Conn().RemotePeer() }

// Close ends the stream.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken == nil {
		c.broken = ErrClosed
		return c.st.Close()
	}
	return nil
}

// exchange sends cmd and hands the reply lines to read, under a deadline
// of the earlier of ctx's and RequestTimeout. next returns the next reply
// line without its "\n".
func (c *Client) exchange(ctx context.Context, cmd ctl.Command, read func(next func() (string, error)) error) error {
	line, err := ctl.AppendCommand(nil, cmd)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return c.broken
	}
	ctx, cancel := c.s.withService(ctx)
	defer cancel()
	deadline := time.Now().Add(c.s.cfg.RequestTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.st.SetDeadline(deadline)
	// Cancellation moves the deadline to now, which unblocks I/O.
	stop := context.AfterFunc(ctx, func() { _ = c.st.SetDeadline(time.Now()) })
	defer stop()

	err = c.roundTrip(line, read)
	if err == nil {
		return nil
	}
	var e *ctl.Error
	if errors.As(err, &e) && e.Remote {
		return err // the peer refused; the stream is still in step
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	c.broken = fmt.Errorf("%w: %w", ErrClosed, err)
	_ = c.st.Reset()
	return err
}

func (c *Client) roundTrip(line []byte, read func(next func() (string, error)) error) error {
	if _, err := c.st.Write(line); err != nil {
		return fmt.Errorf("control: write to %s: %w", c.Peer(), err)
	}
	return read(c.readLine)
}

func (c *Client) readLine() (string, error) {
	raw, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", ctl.Errorf(ctl.CodeTooLarge, "reply line exceeds %d bytes", ctl.MaxLineLen)
	}
	if err != nil {
		return "", fmt.Errorf("control: read from %s: %w", c.Peer(), err)
	}
	return string(raw[:len(raw)-1]), nil
}

package rdt

import (
	"fmt"
	"net"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

// Defaults used for zero Config fields.
const (
	DefaultMaxDatagram          = 1200
	DefaultMaxShareLen          = 64 << 20
	DefaultMaxReassemblyPerPeer = 64 << 20
	DefaultMaxReassemblyTotal   = 256 << 20
	DefaultTransferTimeout      = 15 * time.Second
	DefaultMinRTO               = 20 * time.Millisecond
	DefaultMaxRTO               = 2 * time.Second
	DefaultMaxAckDelay          = 5 * time.Millisecond
)

// Limits on Config.MaxDatagram. The lower bound leaves room for a full ACK
// (32 ranges) and a useful payload; the upper one is the largest UDP
// payload over IPv4.
const (
	minMaxDatagram = 512
	maxMaxDatagram = 65507
)

// overhead is what a data datagram spends besides payload.
const overhead = protocol.RDTHeaderLen + protocol.VMDTHeaderLen + tagLen

// Config tunes a Transport. The zero value of every field selects its
// default; a nil *Config selects all defaults.
type Config struct {
	// MaxDatagram is the largest datagram sent, in bytes, headers and tag
	// included. Both ends should use the same value; a receiver drops
	// datagrams longer than its own MaxDatagram. Default 1200, which
	// leaves 1104 bytes of payload per datagram.
	MaxDatagram int

	// MaxShareLen caps the length of one share, sent or received.
	// Default 64 MiB.
	MaxShareLen int

	// MaxReassemblyPerPeer and MaxReassemblyTotal cap the memory held for
	// inbound shares, per peer session and over all sessions: a transfer
	// reserves its full share length when its first datagram arrives and
	// keeps it until the application takes the share from Receive (or the
	// transfer ends otherwise). A datagram that would start a transfer
	// beyond a cap is dropped unacknowledged; its sender retries until it
	// fits or times out. Defaults 64 MiB and 256 MiB.
	MaxReassemblyPerPeer int64
	MaxReassemblyTotal   int64

	// TransferTimeout bounds how long a transfer may go without progress.
	// An outgoing transfer fails with ErrTimeout (and ErrPeerUnreachable
	// if the peer sent nothing in that time); an inbound one is freed and
	// reported to OnInboundFailed. Default 15 s.
	TransferTimeout time.Duration

	// MinRTO and MaxRTO bound the retransmission timeout (RFC 6298).
	// Defaults 20 ms and 2 s.
	MinRTO, MaxRTO time.Duration

	// MaxAckDelay is how long a receiver may hold back an acknowledgement.
	// Default 5 ms.
	MaxAckDelay time.Duration

	// OnSegment, if not nil, is called for each newly arrived piece of an
	// inbound share: authenticated, not a replay, and holding bytes not
	// seen before (each byte of a share is reported once; a zero-length
	// share is reported once with no payload). It runs on the read loop:
	// it must return quickly, and Payload is valid only during the call.
	// It may call Transport and Outgoing methods (for example
	// Outgoing.WriteAt to forward the bytes cut-through), except Close.
	OnSegment func(Segment)

	// Reassemble, if not nil, is asked once per new inbound transfer
	// whether to buffer it for delivery through Receive. When it returns
	// false the transfer is still acknowledged and reported to OnSegment,
	// but no reassembly memory is reserved and Receive never returns it.
	// It is called with an internal lock held and must not call the
	// Transport. Nil means every transfer is reassembled.
	Reassemble func(from net.Addr, h protocol.VMDTHeader) bool

	// OnInboundFailed, if not nil, is called when an inbound transfer ends
	// without completing: it timed out (ErrTimeout), was abandoned by
	// either end (ErrAbandoned), its session closed (ErrPeerClosed), or
	// the transport closed (ErrClosed). It may run on the transport's
	// goroutines or on one calling AbandonMessage, RemovePeer or Close,
	// possibly concurrently; it must return quickly and must not call
	// Close.
	OnInboundFailed func(from net.Addr, h protocol.VMDTHeader, err error)
}

// params is a Config with defaults applied and derived values computed.
type params struct {
	Config
	maxPayload int
}

func (c *Config) params() (*params, error) {
	p := &params{}
	if c != nil {
		p.Config = *c
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def64 := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.MaxDatagram, DefaultMaxDatagram)
	def(&p.MaxShareLen, DefaultMaxShareLen)
	def64(&p.MaxReassemblyPerPeer, DefaultMaxReassemblyPerPeer)
	def64(&p.MaxReassemblyTotal, DefaultMaxReassemblyTotal)
	defD(&p.TransferTimeout, DefaultTransferTimeout)
	defD(&p.MinRTO, DefaultMinRTO)
	defD(&p.MaxRTO, DefaultMaxRTO)
	defD(&p.MaxAckDelay, DefaultMaxAckDelay)
	switch {
	case p.MaxDatagram < minMaxDatagram || p.MaxDatagram > maxMaxDatagram:
		return nil, fmt.Errorf("rdt: MaxDatagram %d outside [%d, %d]", p.MaxDatagram, minMaxDatagram, maxMaxDatagram)
	case p.MaxShareLen < 0 || uint64(p.MaxShareLen) > 1<<32-1:
		return nil, fmt.Errorf("rdt: MaxShareLen %d outside [0, 2^32-1]", p.MaxShareLen)
	case p.MaxReassemblyPerPeer < 0 || p.MaxReassemblyTotal < 0:
		return nil, fmt.Errorf("rdt: negative reassembly cap")
	case p.TransferTimeout < 0 || p.MinRTO < 0 || p.MaxRTO < p.MinRTO || p.MaxAckDelay < 0:
		return nil, fmt.Errorf("rdt: invalid timers (timeout %v, RTO %v..%v, ack delay %v)",
			p.TransferTimeout, p.MinRTO, p.MaxRTO, p.MaxAckDelay)
	}
	p.maxPayload = p.MaxDatagram - overhead
	return p, nil
}

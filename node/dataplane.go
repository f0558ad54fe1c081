package node

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/vmdt/vmdt/rdt"
)

// dataPlane is an ordinary node's UDP socket and the RDT transport on it.
// It implements control.DataPlane, through which the control protocol
// installs per-hop session keys.
type dataPlane struct {
	conn *net.UDPConn
	port int
	rdt  *rdt.Transport

	closeOnce sync.Once
	closeErr  error
}

// startDataPlane opens the UDP socket at udp (host:port) and starts the
// RDT transport on it with cfg (nil means the defaults).
func startDataPlane(udp string, cfg *rdt.Config) (*dataPlane, error) {
	laddr, err := net.ResolveUDPAddr("udp", udp)
	if err != nil {
		return nil, fmt.Errorf("%w: udp address %q: %v", ErrBadConfig, udp, err)
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("node: data plane socket: %w", err)
	}
	t, err := rdt.New(conn, cfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("node: rdt: %w", err)
	}
	return &dataPlane{conn: conn, port: conn.LocalAddr().(*net.UDPAddr).Port, rdt: t}, nil
}

// UDPPort returns the port of the RDT socket.
func (d *dataPlane) UDPPort() int { return d.port }

// AddPeer installs a per-hop session key for the RDT peer at addr.
func (d *dataPlane) AddPeer(addr net.Addr, keyID uint32, key [32]byte, initiator bool) error {
	return d.rdt.AddPeer(addr, keyID, key, initiator)
}

func (d *dataPlane) localAddr() net.Addr { return d.conn.LocalAddr() }

// close stops the transport, then closes the socket (whether or not the
// transport already did). It is idempotent.
func (d *dataPlane) close() error {
	d.closeOnce.Do(func() {
		err := d.rdt.Close()
		if cerr := d.conn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = errors.Join(err, cerr)
		}
		d.closeErr = err
	})
	return d.closeErr
}

// Package emutest provides an in-memory emu.Device for tests: the test
// injects packets as if the host's kernel had sent them, and receives the
// packets the emulator delivers to the host.
package emutest

import (
	"net"
	"sync"
)

// Device is an in-memory packet device. Inject blocks until the emulator
// reads the packet; delivered packets queue on Delivered.
type Device struct {
	in        chan []byte
	Delivered chan []byte // packets the emulator wrote, buffered

	closeOnce sync.Once
	closed    chan struct{}
}

// New returns a Device whose Delivered channel buffers up to buffer
// packets; a write beyond that blocks until the test reads.
func New(buffer int) *Device {
	return &Device{in: make(chan []byte), Delivered: make(chan []byte, buffer), closed: make(chan struct{})}
}

// Inject hands pkt to the emulator as sent by this host. It reports false
// if the device was closed first.
func (d *Device) Inject(pkt []byte) bool {
	select {
	case d.in <- pkt:
		return true
	case <-d.closed:
		return false
	}
}

// Read implements emu.Device.
func (d *Device) Read(b []byte) (int, error) {
	select {
	case p := <-d.in:
		return copy(b, p), nil
	case <-d.closed:
		return 0, net.ErrClosed
	}
}

// Write implements emu.Device.
func (d *Device) Write(b []byte) (int, error) {
	select {
	case d.Delivered <- append([]byte(nil), b...):
		return len(b), nil
	case <-d.closed:
		return 0, net.ErrClosed
	}
}

// Close implements emu.Device; it unblocks Read, Write and Inject.
func (d *Device) Close() error {
	d.closeOnce.Do(func() { close(d.closed) })
	return nil
}

package rdt

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

// readScratch is the read loop's reusable memory.
type readScratch struct {
	key     []byte
	events  []event
	ack     []byte
	nonce   nonce
	touched []*peer // sessions that received datagrams since the last flush
}

// readLoop reads datagrams until the connection is closed.
func (t *Transport) readLoop() {
	defer t.wg.Done()
	size := t.p.MaxDatagram + 1 // one spare byte detects oversized datagrams
	if t.gro {
		size = 1 << 16
	}
	buf := make([]byte, size)
	oob := make([]byte, 2*cmsgSpace)
	sc := &readScratch{
		key: make([]byte, 0, 64),
		ack: make([]byte, 0, t.p.MaxDatagram+tagLen),
	}
	for {
		var (
			n, seg int
			err    error
		)
		sc.key = sc.key[:0]
		switch {
		case t.gro:
			var (
				oobn int
				ap   netip.AddrPort
			)
			n, oobn, _, ap, err = t.udp.ReadMsgUDPAddrPort(buf, oob)
			if err == nil {
				sc.key = appendAddrPortKey(sc.key, ap)
				seg = groSegmentSize(oob[:oobn])
			}
		case t.udp != nil:
			var ap netip.AddrPort
			n, ap, err = t.udp.ReadFromUDPAddrPort(buf)
			if err == nil {
				sc.key = appendAddrPortKey(sc.key, ap)
			}
		default:
			var from net.Addr
			n, from, err = t.conn.ReadFrom(buf)
			if err == nil && from != nil {
				sc.key = appendAddrKey(sc.key, from)
			}
		}
		if err != nil {
			if t.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			log.Debugw("read error", "err", err)
			continue
		}
		if seg <= 0 || seg >= n {
			t.ingest(buf[:n], sc)
		} else {
			// Several datagrams coalesced by GRO, all of seg bytes but
			// the last.
			akey := len(sc.key)
			for off := 0; off < n; off += seg {
				sc.key = sc.key[:akey]
				t.ingest(buf[off:min(off+seg, n)], sc)
			}
		}
		t.flushReads(sc)
	}
}

// handleDatagram processes one datagram received from the address whose
// key is in sc.key, and sends the ACK it calls for.
func (t *Transport) handleDatagram(d []byte, sc *readScratch) {
	t.ingest(d, sc)
	t.flushReads(sc)
}

// ingest feeds one datagram to its session. Everything before the session
// lock is allocation-free and creates no state, so a bogus datagram costs
// only its parsing and, if its key id matches a session, one failed AEAD
// open. ACKs wait for flushReads, so a batch of datagrams is answered
// once.
func (t *Transport) ingest(d []byte, sc *readScratch) {
	t.ctr.datagramsReceived.Add(1)
	t.ctr.bytesReceived.Add(uint64(len(d)))
	if !plausibleHeader(d) || len(d) > t.p.MaxDatagram || len(d) < protocol.RDTHeaderLen+tagLen {
		t.ctr.droppedMalformed.Add(1)
		return
	}
	h, _, err := protocol.ParseRDTHeader(d)
	if err != nil {
		t.ctr.droppedMalformed.Add(1)
		return
	}
	sc.key = appendPeerKey(sc.key, h.KeyID)
	p := t.peers.Load().byKey[string(sc.key)]
	if p == nil {
		t.ctr.droppedUnknownPeer.Add(1)
		return
	}
	body, err := p.keys.openDatagram(&sc.nonce, h, d)
	if err != nil {
		t.ctr.droppedAuth.Add(1)
		return
	}
	now := t.now()
	p.mu.Lock()
	p.s.receive(now, h, body)
	sc.events = p.s.takeEvents(sc.events[:0])
	p.mu.Unlock()
	t.dispatch(p, sc.events)
	for _, q := range sc.touched {
		if q == p {
			return
		}
	}
	sc.touched = append(sc.touched, p)
}

// flushReads sends the ACKs due at the sessions that received datagrams
// and wakes the send loop for those whose next deadline moved earlier.
func (t *Transport) flushReads(sc *readScratch) {
	for i, p := range sc.touched {
		now := t.now()
		var ack []byte
		p.mu.Lock()
		if p.s.ackDue(now) {
			ack = p.s.ackDatagram(now, sc.ack[:0])
		}
		wake := false
		if dl := p.s.deadline(now); dl < p.scheduled {
			p.scheduled = dl
			wake = true
		}
		p.mu.Unlock()
		if ack != nil {
			t.write(p, p.keys.sealDatagram(&sc.nonce, ack))
		}
		if wake {
			t.wakeFor(p)
		}
		sc.touched[i] = nil
	}
	sc.touched = sc.touched[:0]
}

// sendLoop polls active sessions for datagrams and sleeps until the
// earliest deadline among them or until kicked.
func (t *Transport) sendLoop() {
	defer t.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// The datagrams of one batch lie back to back, MaxDatagram bytes
	// apart, so that runs of full-sized ones can leave in one GSO send.
	stride := t.p.MaxDatagram
	block := make([]byte, sendBatch*stride)
	bufs := make([][]byte, sendBatch)
	for i := range bufs {
		bufs[i] = block[i*stride : i*stride : (i+1)*stride]
	}
	oob := make([]byte, 0, cmsgSpace)
	out := make([][]byte, 0, sendBatch)
	n := new(nonce)
	var (
		list []*peer
		ev   []event
	)
	for {
		list = t.takeActive(list[:0])
		next := never
		for _, p := range list {
			now := t.now()
			p.mu.Lock()
			dl := p.scheduled
			p.mu.Unlock()
			if dl > now {
				// Nothing due yet (a busy peer must not make the loop
				// poll all the idle ones).
				if dl != never {
					t.activate(p)
					next = min(next, dl)
				}
				continue
			}
			out, ev, dl = t.service(p, now, n, bufs, out[:0], ev[:0], block, oob)
			if dl != never {
				t.activate(p)
				next = min(next, dl)
			}
		}
		clear(list)
		if next == never {
			select {
			case <-t.wake:
				continue
			case <-t.quit:
				return
			}
		}
		wait := next - t.now()
		if wait <= 0 {
			select {
			case <-t.quit:
				return
			default:
				continue
			}
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-t.wake:
			timer.Stop()
		case <-t.quit:
			timer.Stop()
			return
		}
	}
}

// service polls one session for up to sendBatch datagrams, writes them and
// dispatches the events, and records in p.scheduled when it needs the
// loop again.
func (t *Transport) service(p *peer, now time.Duration, n *nonce, bufs, out [][]byte, ev []event, block, oob []byte) ([][]byte, []event, time.Duration) {
	p.mu.Lock()
	for len(out) < len(bufs) {
		d := p.s.poll(now, bufs[len(out)][:0])
		if d == nil {
			break
		}
		out = append(out, d)
	}
	ev = p.s.takeEvents(ev)
	dl := p.s.deadline(now)
	switch {
	case len(out) == len(bufs):
		dl = now // more may be waiting
	case len(out) == 0 && dl <= now:
		dl = now + minPollInterval // nothing came out although due: do not spin
	}
	p.scheduled = dl
	p.mu.Unlock()
	for i, d := range out {
		out[i] = p.keys.sealDatagram(n, d)
	}
	t.writeBatch(p, out, block, oob)
	t.dispatch(p, ev)
	return out, ev, dl
}

// plausibleHeader checks what protocol.ParseRDTHeader checks, without
// building an error (which allocates) for the many datagrams that fail.
func plausibleHeader(d []byte) bool {
	if len(d) < protocol.RDTHeaderLen || d[0] != protocol.RDTVersion {
		return false
	}
	const known = protocol.FlagData | protocol.FlagAck | protocol.FlagPing | protocol.FlagClose
	flags := d[1]
	return flags != 0 && flags&^known == 0 && (d[8]|d[9]|d[10]|d[11]) != 0
}

// Limits of one segmented send: the kernel takes at most 64 segments
// (UDP_MAX_SEGMENTS on older kernels) and 64 KiB of payload.
const (
	maxSegments       = 64
	maxSegmentedBytes = 65000
)

// writeBatch sends the sealed datagrams out, which lie in block at
// multiples of MaxDatagram. With GSO, each run of full-sized datagrams
// (and the one after it, which may be shorter) leaves in one system call.
func (t *Transport) writeBatch(p *peer, out [][]byte, block, oob []byte) {
	stride := t.p.MaxDatagram
	maxRun := min(maxSegments, maxSegmentedBytes/stride) // may be < 2: no GSO
	for i := 0; i < len(out); {
		j := i
		for j < len(out)-1 && j-i+1 < maxRun && len(out[j]) == stride {
			j++
		}
		if j == i || !t.gso.Load() || !p.ap.IsValid() {
			t.write(p, out[i])
			i++
			continue
		}
		run := block[i*stride : j*stride+len(out[j])]
		_, _, err := t.udp.WriteMsgUDPAddrPort(run, appendSegmentSize(oob[:0], stride), p.ap)
		switch {
		case err == nil:
			t.ctr.datagramsSent.Add(uint64(j - i + 1))
			t.ctr.bytesSent.Add(uint64(len(run)))
		case gsoRejected(err):
			log.Debugw("UDP segmentation offload refused; sending datagrams one by one", "err", err)
			t.gso.Store(false)
			for _, d := range out[i : j+1] {
				t.write(p, d)
			}
		default:
			t.ctr.writeErrors.Add(1)
		}
		i = j + 1
	}
}

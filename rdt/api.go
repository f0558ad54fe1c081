package rdt

import (
	"context"
	"fmt"
	"maps"
	"net"
	"sync"

	"github.com/vmdt/vmdt/protocol"
)

// AddPeer creates the session for (addr, keyID) with the 32-byte session
// key both ends agreed, deriving one AES-256-GCM key per direction.
// initiator must be true on exactly one of the two ends. Later Sends to
// addr use the newest key added for it.
func (t *Transport) AddPeer(addr net.Addr, keyID uint32, key [32]byte, initiator bool) error {
	if t.closed.Load() {
		return ErrClosed
	}
	if addr == nil {
		return fmt.Errorf("%w: nil address", ErrUnknownPeer)
	}
	keys, err := newSessionKeys(key, keyID, initiator)
	if err != nil {
		return err
	}
	akey := string(appendAddrKey(nil, addr))
	pkey := string(appendPeerKey([]byte(akey), keyID))
	p := &peer{
		addr:   addr,
		keyID:  keyID,
		key:    pkey,
		akey:   akey,
		keys:   keys,
		budget: &peerBudget{total: &t.total},
	}
	p.budget.peer.capacity = t.p.MaxReassemblyPerPeer
	if u, ok := addr.(*net.UDPAddr); ok {
		p.ap = u.AddrPort()
	}
	p.s = newSession(t.p, keyID, addr, p.budget, t.now())
	p.scheduled = never

	t.peersMu.Lock()
	defer t.peersMu.Unlock()
	if t.closed.Load() {
		return ErrClosed
	}
	old := t.peers.Load()
	if old.byKey[pkey] != nil {
		return fmt.Errorf("%w: %v key %d", ErrPeerExists, addr, keyID)
	}
	t.order++
	p.order = t.order
	tbl := &peerTable{byKey: maps.Clone(old.byKey), newest: maps.Clone(old.newest)}
	tbl.byKey[pkey] = p
	tbl.newest[akey] = p
	t.peers.Store(tbl)
	return nil
}

// RemovePeer ends the session for (addr, keyID): it sends CLOSE to the
// peer, fails the session's outgoing transfers and drops its inbound ones
// with ErrPeerClosed. Unknown pairs are ignored.
func (t *Transport) RemovePeer(addr net.Addr, keyID uint32) {
	if addr == nil {
		return
	}
	pkey := string(appendPeerKey(appendAddrKey(nil, addr), keyID))
	p := t.peers.Load().byKey[pkey]
	if p == nil || !t.unlinkPeer(p) {
		return
	}
	t.shutdownPeer(p, errPeerRemoved, !t.closed.Load(), nil)
	t.retire(p)
}

// unlinkPeer removes p from the peer table. It reports whether p was
// still linked.
func (t *Transport) unlinkPeer(p *peer) bool {
	t.peersMu.Lock()
	defer t.peersMu.Unlock()
	old := t.peers.Load()
	if old.byKey[p.key] != p {
		return false
	}
	tbl := &peerTable{byKey: maps.Clone(old.byKey), newest: maps.Clone(old.newest)}
	delete(tbl.byKey, p.key)
	if tbl.newest[p.akey] == p {
		delete(tbl.newest, p.akey)
		for _, q := range tbl.byKey {
			if q.akey == p.akey && (tbl.newest[p.akey] == nil || q.order > tbl.newest[p.akey].order) {
				tbl.newest[p.akey] = q
			}
		}
	}
	t.peers.Store(tbl)
	return true
}

// retire moves the counters of an unlinked peer into the transport's
// totals.
func (t *Transport) retire(p *peer) {
	t.peersMu.Lock()
	p.mu.Lock()
	t.retired.add(&p.s.ctr)
	p.s.ctr = counters{}
	p.mu.Unlock()
	t.peersMu.Unlock()
}

// Send transmits share to the peer at to, under the newest key added for
// it, and blocks until the peer acknowledged every byte. h names the
// transfer (message id, share index, n, k, source, destination); its
// Offset and ShareLen are set by the transport. Send does not copy share:
// the caller must not modify it until Send returns.
//
// Send fails with ErrTimeout (and ErrPeerUnreachable) when the peer
// stops acknowledging for Config.TransferTimeout, with ErrAbandoned when
// the peer says it needs no more of the message, and with ctx's error
// when ctx ends first, in which case the transfer is abandoned.
//
// The receiver remembers completed transfers for 2 × TransferTimeout: a
// transfer with the same name sent again within that time is
// acknowledged but not delivered a second time.
func (t *Transport) Send(ctx context.Context, to net.Addr, h protocol.VMDTHeader, share []byte) error {
	if len(share) > t.p.MaxShareLen {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrShareTooLarge, len(share), t.p.MaxShareLen)
	}
	o, err := t.open(to, h, wholeShare(share), true)
	if err != nil {
		return err
	}
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		o.Abandon()
		<-o.done
		if o.err == nil {
			return nil // completed in the meantime
		}
		return ctx.Err()
	}
}

// OpenSend starts a streamed transfer of a share of h.ShareLen bytes to
// the peer at to. The bytes are supplied with Outgoing.WriteAt in any
// order, as they become available, and are sent as soon as they are
// written; Outgoing.Wait reports completion as Send does.
func (t *Transport) OpenSend(to net.Addr, h protocol.VMDTHeader) (*Outgoing, error) {
	if uint64(h.ShareLen) > uint64(t.p.MaxShareLen) {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrShareTooLarge, h.ShareLen, t.p.MaxShareLen)
	}
	return t.open(to, h, chunkedShare(int(h.ShareLen)), false)
}

func (t *Transport) open(to net.Addr, h protocol.VMDTHeader, data shareBuf, written bool) (*Outgoing, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	if to == nil {
		return nil, fmt.Errorf("%w: nil address", ErrUnknownPeer)
	}
	h.Offset = 0
	h.ShareLen = uint32(data.length)
	var enc [protocol.VMDTHeaderLen]byte
	if _, _, err := protocol.ParseVMDTHeader(protocol.AppendVMDTHeader(enc[:0], h)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidHeader, err)
	}
	p := t.peers.Load().newest[string(appendAddrKey(nil, to))]
	if p == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownPeer, to)
	}
	tr := newOutTransfer(h, data)
	if written && data.length > 0 {
		tr.avail.add(0, uint64(data.length))
		tr.fresh.add(0, uint64(data.length))
	}
	o := &Outgoing{t: t, p: p, tr: tr, done: make(chan struct{})}
	tr.owner = o
	p.mu.Lock()
	err := ErrClosed
	if !t.closed.Load() {
		err = p.s.startOut(t.now(), tr)
	}
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	t.kick(p)
	return o, nil
}

// Outgoing is a pending outgoing transfer started by OpenSend.
type Outgoing struct {
	t    *Transport
	p    *peer
	tr   *outTransfer
	once sync.Once
	done chan struct{}
	err  error // set before done is closed
}

func (o *Outgoing) finish(err error) {
	o.once.Do(func() {
		o.err = err
		close(o.done)
	})
}

// Header returns the VMDT header of the transfer (Offset 0).
func (o *Outgoing) Header() protocol.VMDTHeader { return o.tr.hdr }

// WriteAt supplies len(p) bytes of the share starting at off; it
// implements io.WriterAt. The bytes are copied. Bytes written before are
// kept, so overlapping writes must agree. It fails with ErrRange outside
// the share and with the transfer's error once the transfer ended.
func (o *Outgoing) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, ErrRange
	}
	o.p.mu.Lock()
	err := o.p.s.writeOut(o.t.now(), o.tr, p, uint64(off))
	o.p.mu.Unlock()
	if err != nil {
		return 0, err
	}
	o.t.kick(o.p)
	return len(p), nil
}

// Wait blocks until the transfer ends and returns its error (nil when the
// peer acknowledged every byte), or until ctx ends, returning ctx's error
// and leaving the transfer running.
func (o *Outgoing) Wait(ctx context.Context) error {
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when the transfer ends.
func (o *Outgoing) Done() <-chan struct{} { return o.done }

// Err returns the transfer's error once Done is closed, nil before.
func (o *Outgoing) Err() error {
	select {
	case <-o.done:
		return o.err
	default:
		return nil
	}
}

// Abandon ends the transfer unless it already ended: sending stops, the
// peer is told to drop what it has, and Wait returns ErrAbandoned.
func (o *Outgoing) Abandon() {
	o.p.mu.Lock()
	o.p.s.abandonOut(o.tr)
	ev := o.p.s.takeEvents(nil)
	o.p.mu.Unlock()
	o.t.dispatch(o.p, ev)
	o.t.kick(o.p)
}

// Receive returns the next complete inbound share, blocking until one
// arrives, ctx ends or the transport closes. Taking a share releases its
// reassembly memory.
func (t *Transport) Receive(ctx context.Context) (Delivery, error) {
	for {
		t.delivMu.Lock()
		if t.delivHead < len(t.delivs) {
			q := t.delivs[t.delivHead]
			t.delivs[t.delivHead] = queuedDelivery{}
			t.delivHead++
			if t.delivHead == len(t.delivs) {
				t.delivs, t.delivHead = t.delivs[:0], 0
			}
			more := t.delivHead < len(t.delivs)
			t.delivMu.Unlock()
			if more {
				select {
				case t.delivReady <- struct{}{}:
				default:
				}
			}
			t.released(q)
			return q.d, nil
		}
		t.delivMu.Unlock()
		if t.closed.Load() {
			return Delivery{}, ErrClosed
		}
		select {
		case <-t.delivReady:
		case <-ctx.Done():
			return Delivery{}, ctx.Err()
		case <-t.quit:
		}
	}
}

// released returns a delivered share's memory to its budgets and lets the
// peer know if its window opened.
func (t *Transport) released(q queuedDelivery) {
	q.p.budget.release(q.reserved, q.filled)
	q.p.mu.Lock()
	q.p.s.windowOpened(t.now())
	dl := q.p.s.deadline(t.now())
	wake := dl < q.p.scheduled
	if wake {
		q.p.scheduled = dl
	}
	q.p.mu.Unlock()
	if wake {
		t.wakeFor(q.p)
	}
}

// AbandonMessage ends every transfer of message id from src (the VMDT
// header's Src), inbound and outgoing, with every peer: inbound ones are
// freed and their senders told to stop (their Sends return ErrAbandoned),
// outgoing ones fail with ErrAbandoned. Inbound transfers of the message
// that start within 2 × TransferTimeout are refused the same way. The
// multipath layer calls it when it has decoded a message from k shares.
// Message ids are chosen by their senders, so another sender's message
// with the same id is not affected.
func (t *Transport) AbandonMessage(src protocol.DDTAddr, id protocol.MessageID) {
	var ev []event
	for _, p := range t.peers.Load().byKey {
		p.mu.Lock()
		p.s.abandonMessage(t.now(), msgKey{src, id})
		ev = p.s.takeEvents(ev[:0])
		p.mu.Unlock()
		t.dispatch(p, ev)
		t.kick(p)
	}
}

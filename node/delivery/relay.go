package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/friends"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
	"github.com/vmdt/vmdt/rdt"
)

// relayKey names a share this node relays.
type relayKey struct {
	src   protocol.DDTAddr
	id    protocol.MessageID
	index uint8
}

// relayed is an announced share: segments of it are forwarded to out.
type relayed struct {
	n, k     uint8
	shareLen uint32
	dst      protocol.DDTAddr
	dstPeer  peer.ID
	out      *rdt.Outgoing // nil while RELAY_OPEN is being served
	// from is the RDT session the first segment came over; later
	// segments must come over the same one.
	from     string
	stop     chan struct{} // closed when the inbound transfer failed
	stopOnce sync.Once
	pool     *pooling // not nil: the share is kept in the share pool (pool.go)
	// keep, if not nil, holds a copy of every byte forwarded, so that
	// the share can go to the pool if forwarding fails (fallback.go).
	keep *pooling
}

// RelayOpen serves RELAY_OPEN (control.Delivery): it checks the request
// (friend token for (sender, receiver), receiver peer owns the receiver
// address, share length, per-sender and total limits), sets up the data
// plane to the receiver and opens the forward transfer. Refusals are
// ctl errors with codes 403, 409, 413, 429 or 503.
func (e *Engine) RelayOpen(ctx context.Context, _ peer.ID, cmd *ctl.RelayOpen) error {
	key, r, err := e.admitRelay(cmd)
	if err != nil {
		return err
	}
	out, err := e.openForward(ctx, cmd)
	if err != nil && e.cfg.Pool != nil {
		err = e.openPool(key, r, cmd, err) // keep the share for the receiver instead
		if err == nil {
			return nil
		}
	}
	if err != nil {
		e.dropRelay(key, r)
		return err
	}
	keep := e.keepBuffer(cmd) // nil unless the pool could take the share
	e.mu.Lock()
	if e.relays[key] != r || e.ctx.Err() != nil {
		e.releaseKeepLocked(keep)
		e.takeEarlyLocked(key)
		e.mu.Unlock()
		out.Abandon()
		return ctl.Errorf(ctl.CodeUnavailable, "closing")
	}
	r.out = out
	r.keep = keep
	e.wg.Add(1)
	e.mu.Unlock()
	go e.watchForward(key, r)
	e.flushEarly(key)
	return nil
}

// cmdKey is the relayKey of an announced share.
func cmdKey(cmd *ctl.RelayOpen) relayKey {
	return relayKey{src: cmd.ClientID, id: cmd.MessageID, index: uint8(cmd.Index)}
}

// admitRelay checks an announced share (RELAY_OPEN or SHARE_POOL_ADD) and
// reserves its slot; segments are kept as early ones until the caller
// sets r.out or r.pool. The caller releases the slot with dropRelay if it
// fails. A refusal drops the share's early segments, unless it is a
// duplicate announcement (the first one owns them).
func (e *Engine) admitRelay(cmd *ctl.RelayOpen) (relayKey, *relayed, error) {
	key, r, err := e.checkRelay(cmd)
	if err != nil {
		var ce *ctl.Error
		if !errors.As(err, &ce) || ce.Code != ctl.CodeConflict {
			e.dropEarly(cmdKey(cmd))
		}
	}
	return key, r, err
}

// checkRelay is admitRelay without the early segments' cleanup.
func (e *Engine) checkRelay(cmd *ctl.RelayOpen) (relayKey, *relayed, error) {
	src := cmd.ClientID
	switch {
	case cmd.Dst == e.self || src == e.self:
		return relayKey{}, nil, ctl.Errorf(ctl.CodeForbidden, "this node is an end of the message")
	case int64(cmd.ShareLen) > int64(e.cfg.MaxShareLen):
		return relayKey{}, nil, ctl.Errorf(ctl.CodeTooLarge, "share of %d bytes, at most %d", cmd.ShareLen, e.cfg.MaxShareLen)
	}
	tok, err := friends.ParseToken(cmd.Token)
	if err != nil {
		return relayKey{}, nil, ctl.Errorf(ctl.CodeForbidden, "token: %v", err)
	}
	if err := tok.Verify(src, cmd.Dst, e.cfg.Now()); err != nil {
		return relayKey{}, nil, ctl.Errorf(ctl.CodeForbidden, "token: %v", err)
	}
	if owner, err := ddtOfPeer(cmd.DstPeer); err != nil || owner != cmd.Dst {
		return relayKey{}, nil, ctl.Errorf(ctl.CodeForbidden, "peer %s does not own %s", cmd.DstPeer, cmd.Dst)
	}

	key := cmdKey(cmd)
	r := &relayed{n: uint8(cmd.N), k: uint8(cmd.K), shareLen: cmd.ShareLen, dst: cmd.Dst, dstPeer: cmd.DstPeer,
		stop: make(chan struct{})}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.ctx.Err() != nil:
		return relayKey{}, nil, ctl.Errorf(ctl.CodeUnavailable, "closing")
	case e.relays[key] != nil:
		return relayKey{}, nil, ctl.Errorf(ctl.CodeConflict, "share %d of %s already announced", cmd.Index, cmd.MessageID)
	case e.perSender[src] >= e.cfg.MaxRelaysPerSender || len(e.relays) >= e.cfg.MaxRelays:
		return relayKey{}, nil, ctl.Errorf(ctl.CodeRateLimited, "relaying too many shares")
	}
	e.relays[key] = r
	e.perSender[src]++
	return key, r, nil
}

func (e *Engine) openForward(ctx context.Context, cmd *ctl.RelayOpen) (*rdt.Outgoing, error) {
	ep, err := e.endpoint(ctx, cmd.DstPeer)
	if err != nil {
		return nil, ctl.Errorf(ctl.CodeUnavailable, "receiver unreachable: %v", err)
	}
	h := protocol.VMDTHeader{Type: protocol.TypeShare, ShareIndex: uint8(cmd.Index), N: uint8(cmd.N), K: uint8(cmd.K),
		MessageID: cmd.MessageID, Src: cmd.ClientID, Dst: cmd.Dst, ShareLen: cmd.ShareLen}
	out, err := e.cfg.Transport.OpenSend(ep.UDPAddr, h)
	if err != nil {
		e.forgetEndpoint(cmd.DstPeer)
		return nil, ctl.Errorf(ctl.CodeUnavailable, "forward: %v", err)
	}
	return out, nil
}

// watchForward waits for the forward transfer to end. If it failed
// because the receiver became unreachable and this node has a share pool
// with room, the share is kept in the pool instead (fallback.go).
// Otherwise, if it failed (the receiver has enough shares, or is
// unreachable), the sender is told to stop too, by abandoning the
// message on this node.
func (e *Engine) watchForward(key relayKey, r *relayed) {
	defer e.wg.Done()
	stopped := false
	select {
	case <-r.out.Done():
	case <-r.stop:
		stopped = true
		r.out.Abandon()
		<-r.out.Done()
	case <-e.ctx.Done():
		stopped = true
		r.out.Abandon()
		<-r.out.Done()
	}
	err := r.out.Err()
	if err != nil && !stopped && e.poolAfterForward(key, r, err) {
		e.keepPooled(key, r)
		return
	}
	e.dropRelay(key, r)
	if err != nil {
		if !errors.Is(err, rdt.ErrAbandoned) {
			log.Debugw("forward failed", "message", key.id, "share", key.index, "err", err)
		}
		e.cfg.Transport.AbandonMessage(key.src, key.id)
	}
}

func (e *Engine) dropRelay(key relayKey, r *relayed) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.relays[key] != r {
		return
	}
	delete(e.relays, key)
	e.takeEarlyLocked(key)
	e.releaseKeepLocked(r.keep)
	if e.perSender[key.src]--; e.perSender[key.src] <= 0 {
		delete(e.perSender, key.src)
	}
}

// forwardSegment writes a segment of an announced share to the forward
// transfer. Segments of unannounced shares, with other parameters, or
// from another RDT session than the first are dropped.
func (e *Engine) forwardSegment(s rdt.Segment) {
	h := s.Header
	from := fmt.Sprintf("%s/%d", s.From, s.KeyID)
	key := headerKey(h)
	e.mu.Lock()
	r := e.relays[key]
	if r != nil && r.pool != nil {
		e.mu.Unlock()
		e.poolSegment(r, s, from)
		return
	}
	if (r == nil || r.out == nil) && e.canSendEarly(int(h.ShareLen)) {
		// Not announced yet, or its announcement is being served (early.go).
		e.stashEarlyLocked(key, s, from)
		e.mu.Unlock()
		return
	}
	ok := r != nil && r.out != nil && r.n == h.N && r.k == h.K && r.shareLen == h.ShareLen
	if ok {
		if r.from == "" {
			r.from = from
		}
		ok = r.from == from
	}
	if ok && r.keep != nil {
		r.keep.put(h.Offset, s.Payload, e.cfg.Now())
	}
	e.mu.Unlock()
	if !ok {
		log.Debugw("segment not relayed", "message", h.MessageID, "share", h.ShareIndex, "from", from)
		return
	}
	if _, err := r.out.WriteAt(s.Payload, int64(h.Offset)); err != nil {
		log.Debugw("forward write", "message", h.MessageID, "share", h.ShareIndex, "err", err)
	}
}

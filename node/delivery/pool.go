package delivery

import (
	"context"
	"errors"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/sharepool"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
	"github.com/vmdt/vmdt/rdt"
)

// Store and forward, relay side.
//
// A relay with a share pool (Config.Pool) keeps a share for its receiver
// when the sender deposits it with SHARE_POOL_ADD (the sender knows the
// receiver is offline), or when serving RELAY_OPEN it cannot reach the
// receiver (no data plane to it, or the forward transfer cannot be
// opened; it then answers OK|pool), or when a forward it had opened
// fails mid-transfer (fallback.go). Either way it checks the friend token
// and limits as for forwarding, checks that the pool has room (else
// ERR|413 naming the limit, so the sender knows at once), takes the whole
// share from the sender over RDT into memory, and stores the sealed
// envelope in the pool, where it survives restarts until the pool's TTL.
// A share that no longer fits when complete (the pool filled meanwhile)
// is dropped and logged; no other share is evicted.
//
// When the receiver sends SHARE_POOL_CLAIM, the relay lists what it holds
// for it (of one message, or of all) and pushes each share over RDT with
// the VMDT FlagPool set; it deletes a share once its transfer completed
// (or the receiver abandoned it, having decoded the message already).

// pooling is the buffer of a share being taken into the pool.
type pooling struct {
	buf  []byte
	got  int           // bytes received; RDT reports each byte once
	last time.Time     // when bytes last arrived
	full chan struct{} // closed when got reaches len(buf)
}

func newPooling(shareLen int, now time.Time) *pooling {
	return &pooling{buf: make([]byte, shareLen), last: now, full: make(chan struct{})}
}

// put copies a segment's payload at off into p; e.mu must be held. A
// payload outside the share, or one arriving when p is complete, is
// ignored (false).
func (p *pooling) put(off uint32, payload []byte, now time.Time) bool {
	if p.got >= len(p.buf) || int64(off)+int64(len(payload)) > int64(len(p.buf)) {
		return false
	}
	copy(p.buf[off:], payload)
	p.got += len(payload)
	p.last = now
	if p.got >= len(p.buf) {
		close(p.full)
	}
	return true
}

// pushKey names a pooled share being pushed to its receiver.
type pushKey struct {
	dst, src protocol.DDTAddr
	id       protocol.MessageID
	index    uint8
}

// RelayOpenMode serves RELAY_OPEN like RelayOpen and says how the share
// is relayed: ctl.RelayModeForward, or ctl.RelayModePool when this node
// keeps it for an unreachable receiver (control.RelayModer).
func (e *Engine) RelayOpenMode(ctx context.Context, from peer.ID, cmd *ctl.RelayOpen) (string, error) {
	if err := e.RelayOpen(ctx, from, cmd); err != nil {
		return "", err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.relays[relayKey{src: cmd.ClientID, id: cmd.MessageID, index: uint8(cmd.Index)}]; r != nil && r.pool != nil {
		return ctl.RelayModePool, nil
	}
	return ctl.RelayModeForward, nil
}

// SharePoolAdd serves SHARE_POOL_ADD (control.SharePool): it admits the
// share like RELAY_OPEN (token, receiver peer, limits) and keeps it in
// the pool without trying to reach the receiver. Refusals are ctl errors:
// 403 (token), 409, 413 (pool or share limit), 429, 501 (no pool), 503.
func (e *Engine) SharePoolAdd(_ context.Context, _ peer.ID, cmd *ctl.SharePoolAdd) error {
	if e.cfg.Pool == nil {
		return ctl.Errorf(ctl.CodeNotImplemented, "no share pool")
	}
	ro := ctl.RelayOpen(*cmd)
	key, r, err := e.admitRelay(&ro)
	if err != nil {
		return err
	}
	if err := e.openPool(key, r, &ro, errDeposited); err != nil {
		e.dropRelay(key, r)
		return err
	}
	return nil
}

// errDeposited is the "cause" of pooling a deposited share.
var errDeposited = errors.New("deposited by the sender")

// openPool turns the announced share r into one kept in the pool, after
// forwarding failed with cause. It returns a ctl error if the pool cannot
// take it.
func (e *Engine) openPool(key relayKey, r *relayed, cmd *ctl.RelayOpen, cause error) error {
	if err := e.cfg.Pool.Check(cmd.ClientID, cmd.Dst, int(cmd.ShareLen)); err != nil {
		var code ctl.Code
		switch {
		case errors.Is(err, sharepool.ErrFull), errors.Is(err, sharepool.ErrInvalid):
			code = ctl.CodeTooLarge
		default:
			code = ctl.CodeUnavailable
		}
		return ctl.Errorf(code, "share pool refuses the share: %v (%v)", err, cause)
	}
	p := newPooling(int(cmd.ShareLen), e.cfg.Now())
	e.mu.Lock()
	if e.relays[key] != r || e.ctx.Err() != nil {
		e.mu.Unlock()
		return ctl.Errorf(ctl.CodeUnavailable, "closing")
	}
	r.pool = p
	e.wg.Add(1)
	e.mu.Unlock()
	log.Infow("pooling share", "message", cmd.MessageID, "share", cmd.Index, "dst", cmd.Dst, "cause", cause)
	go e.watchPool(key, r)
	e.flushEarly(key)
	return nil
}

// poolSegment copies a segment of a share being pooled into its buffer.
func (e *Engine) poolSegment(r *relayed, s rdt.Segment, from string) {
	h := s.Header
	e.mu.Lock()
	defer e.mu.Unlock()
	p := r.pool
	if r.n != h.N || r.k != h.K || r.shareLen != h.ShareLen || p.got >= len(p.buf) {
		return
	}
	if r.from == "" {
		r.from = from
	}
	if r.from != from || !p.put(h.Offset, s.Payload, e.cfg.Now()) {
		log.Debugw("segment not pooled", "message", h.MessageID, "share", h.ShareIndex, "from", from)
	}
}

// watchPool runs keepPooled as an engine goroutine.
func (e *Engine) watchPool(key relayKey, r *relayed) {
	defer e.wg.Done()
	e.keepPooled(key, r)
}

// keepPooled waits until the share is complete and stores it, or drops
// it when the inbound transfer fails, makes no progress for
// InboundTimeout, or the engine closes. It releases the share's slot.
func (e *Engine) keepPooled(key relayKey, r *relayed) {
	defer e.dropRelay(key, r)
	tick := time.NewTicker(e.cfg.InboundTimeout)
	defer tick.Stop()
	for {
		select {
		case <-r.pool.full:
			e.storePooled(key, r)
			return
		case <-r.stop:
			return
		case <-e.ctx.Done():
			return
		case <-tick.C:
			e.mu.Lock()
			stale := e.cfg.Now().Sub(r.pool.last) >= e.cfg.InboundTimeout
			e.mu.Unlock()
			if stale {
				log.Infow("pooled share incomplete; dropped", "message", key.id, "share", key.index)
				return
			}
		}
	}
}

func (e *Engine) storePooled(key relayKey, r *relayed) {
	dst := r.dst
	err := e.cfg.Pool.Add(sharepool.Entry{MsgID: key.id, Src: key.src, Dst: dst, ShareIndex: key.index,
		N: r.n, K: r.k, Data: r.pool.buf})
	if err != nil {
		log.Warnw("pooled share dropped", "message", key.id, "share", key.index, "dst", dst, "err", err)
		return
	}
	log.Debugw("share pooled", "message", key.id, "share", key.index, "dst", dst)
}

// SharePoolClaim serves SHARE_POOL_CLAIM (control.SharePool): it lists
// the shares the pool holds for cmd.ClientID (of cmd.MessageID unless
// cmd.Any), at most ctl.MaxHeldShares and none already being pushed, and
// pushes them to from over RDT.
func (e *Engine) SharePoolClaim(_ context.Context, from peer.ID, cmd *ctl.SharePoolClaim) ([]ctl.HeldShare, error) {
	if e.cfg.Pool == nil {
		return nil, ctl.Errorf(ctl.CodeNotImplemented, "no share pool")
	}
	if owner, err := ddtOfPeer(from); err != nil || owner != cmd.ClientID {
		return nil, ctl.Errorf(ctl.CodeWrongClient, "peer %s does not own %s", from, cmd.ClientID)
	}
	var id *protocol.MessageID
	if !cmd.Any {
		id = &cmd.MessageID
	}
	entries, err := e.cfg.Pool.Claim(cmd.ClientID, id)
	if err != nil {
		return nil, ctl.Errorf(ctl.CodeUnavailable, "share pool: %v", err)
	}
	var push []sharepool.Entry
	var held []ctl.HeldShare
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx.Err() != nil {
		return nil, ctl.Errorf(ctl.CodeUnavailable, "closing")
	}
	for _, en := range entries {
		pk := pushKey{dst: en.Dst, src: en.Src, id: en.MsgID, index: en.ShareIndex}
		if len(held) == ctl.MaxHeldShares || e.pushing[pk] {
			continue
		}
		e.pushing[pk] = true
		push = append(push, en)
		held = append(held, ctl.HeldShare{MessageID: en.MsgID, Src: en.Src, Index: int(en.ShareIndex),
			N: int(en.N), K: int(en.K), ShareLen: uint32(len(en.Data))})
	}
	if len(push) > 0 {
		e.wg.Add(1)
		go e.pushPooled(from, push)
	}
	return held, nil
}

// pushPooled sends pooled shares to their receiver, one after the other,
// deleting each from the pool once its transfer completed.
func (e *Engine) pushPooled(to peer.ID, entries []sharepool.Entry) {
	defer e.wg.Done()
	defer func() {
		e.mu.Lock()
		for _, en := range entries {
			delete(e.pushing, pushKey{dst: en.Dst, src: en.Src, id: en.MsgID, index: en.ShareIndex})
		}
		e.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.DeliveryTimeout)
	defer cancel()
	ep, err := e.endpoint(ctx, to)
	if err != nil {
		log.Infow("cannot push pooled shares", "peer", to, "err", err)
		return
	}
	for _, en := range entries {
		h := protocol.VMDTHeader{Type: protocol.TypeShare, Flags: protocol.FlagPool, ShareIndex: en.ShareIndex,
			N: en.N, K: en.K, MessageID: en.MsgID, Src: en.Src, Dst: en.Dst}
		err := e.cfg.Transport.Send(ctx, ep.UDPAddr, h, en.Data)
		if err != nil && !errors.Is(err, rdt.ErrAbandoned) {
			e.forgetEndpoint(to)
			log.Infow("pooled share not pushed; kept", "message", en.MsgID, "share", en.ShareIndex, "err", err)
			return
		}
		// Delivered, or abandoned because the receiver has the message.
		if err := e.cfg.Pool.Delete(en.Dst, en.MsgID, en.ShareIndex); err != nil && !errors.Is(err, sharepool.ErrNotFound) {
			log.Warnw("pooled share not deleted", "message", en.MsgID, "share", en.ShareIndex, "err", err)
		}
	}
}

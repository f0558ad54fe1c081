package delivery

import (
	"context"
	"errors"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol/ctl"
	"github.com/vmdt/vmdt/rdt"
)

// Falling back to the share pool mid-transfer.
//
// A relay with a share pool (Config.Pool) that forwards a share keeps a
// copy of every byte it has forwarded (relayed.keep), if its pool could
// take the share when it was announced. If the forward
// transfer then fails for a reason other than an abandon (the receiver
// went silent: rdt.ErrTimeout / rdt.ErrPeerUnreachable, or its session
// closed: rdt.ErrPeerClosed), and the pool still has room for the share
// (sharepool.Pool.Check), the share switches to pool mode: the copy
// becomes the pooling buffer, the sender's transfer into this relay keeps
// running (the sender is not told to stop), and once every byte has
// arrived the envelope is stored in the pool, to be pushed when the
// receiver claims it. An abandon (the receiver has enough shares, or the
// sender or this engine stopped) never pools.
//
// Memory: the copy is one buffer of the share's length, at most
// Config.MaxShareLen, on top of the RDT transport's own send buffer of
// the same size; at most Config.MaxRelays shares are relayed
// at once (Config.MaxRelaysPerSender per sender), and all copies together
// stay within Config.MaxKeepBytes. A relay without a share pool keeps no
// copy.
//
// The sender is not told that a relay pooled a share this way: the
// control protocol has no message for it. Its transfer to the relay
// completes (the relay took every byte), and no DELIVERED comes. When
// Config.DeliveryTimeout passes without DELIVERED, Send probes the
// receiver with a fresh data-plane handshake; if that fails and at least
// k relays took every byte of their shares, Send reports StatusPooled
// with those shares as OutcomeHeld (the relay kept the share if it has a
// pool with room; the sender cannot tell) and returns no error. If the
// receiver is reachable, or fewer than k shares were taken, Send fails
// with ErrNoConfirmation as before.

// keepBuffer returns the buffer a forwarded share's bytes are copied
// into, or nil if this node has no share pool, the pool could not take
// the share now, or the copies already held reach Config.MaxKeepBytes
// (then a failed forward is not pooled). The caller must hand the buffer
// to a relayed entry, whose dropRelay releases it, or call releaseKeep.
func (e *Engine) keepBuffer(cmd *ctl.RelayOpen) *pooling {
	if e.cfg.Pool == nil || e.cfg.Pool.Check(cmd.ClientID, cmd.Dst, int(cmd.ShareLen)) != nil {
		return nil
	}
	e.mu.Lock()
	if e.kept+int64(cmd.ShareLen) > e.cfg.MaxKeepBytes {
		e.mu.Unlock()
		return nil
	}
	e.kept += int64(cmd.ShareLen)
	e.mu.Unlock()
	return newPooling(int(cmd.ShareLen), e.cfg.Now())
}

// releaseKeepLocked returns a keep buffer's bytes to the budget.
func (e *Engine) releaseKeepLocked(p *pooling) {
	if p != nil {
		e.kept -= int64(len(p.buf))
	}
}

// poolAfterForward decides, after the forward transfer of r failed with
// cause, whether to keep the share in the pool instead; if so it switches
// r to pool mode and the caller runs keepPooled.
func (e *Engine) poolAfterForward(key relayKey, r *relayed, cause error) bool {
	if errors.Is(cause, rdt.ErrAbandoned) || errors.Is(cause, rdt.ErrClosed) {
		return false
	}
	e.forgetEndpoint(r.dstPeer) // the session to the receiver is dead
	if r.keep == nil {
		return false
	}
	if err := e.cfg.Pool.Check(key.src, r.dst, int(r.shareLen)); err != nil {
		log.Infow("forward failed; share pool refuses the share", "message", key.id, "share", key.index,
			"cause", cause, "err", err)
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.relays[key] != r || e.ctx.Err() != nil {
		return false
	}
	r.pool = r.keep
	log.Infow("forward failed; pooling share", "message", key.id, "share", key.index, "dst", r.dst,
		"have", r.pool.got, "of", len(r.pool.buf), "cause", cause)
	return true
}

// OutcomeHeld: the relay took every byte of the share, but the receiver
// became unreachable without confirming the message. A relay with a
// share pool that has room keeps the share for the receiver; the sender
// cannot tell whether it did.
const OutcomeHeld = "held"

// heldByRelays is called when a Send got no DELIVERED in time: if at
// least k relays took every byte of their shares and the receiver cannot
// be reached now, it marks those shares OutcomeHeld and returns true.
func (e *Engine) heldByRelays(ctx context.Context, rep *Report, dstPeer peer.ID, k int) bool {
	took := 0
	for _, s := range rep.Shares {
		if s.Outcome == OutcomeRelayed || s.Outcome == OutcomePooled {
			took++
		}
	}
	if took < k || !e.receiverGone(ctx, dstPeer) {
		return false
	}
	for i, s := range rep.Shares {
		if s.Outcome == OutcomeRelayed {
			rep.Shares[i].Outcome = OutcomeHeld
		}
	}
	return true
}

// receiverGone reports whether a fresh data-plane handshake with the
// receiver fails within ProbeTimeout. Only a Send that can deposit shares
// asks (a relay may then have pooled them).
func (e *Engine) receiverGone(ctx context.Context, dstPeer peer.ID) bool {
	if _, ok := e.cfg.Control.(sharePoolAdder); !ok {
		return false
	}
	e.forgetEndpoint(dstPeer)
	pctx, cancel := context.WithTimeout(ctx, e.cfg.ProbeTimeout)
	defer cancel()
	_, err := e.endpoint(pctx, dstPeer)
	if err != nil && ctx.Err() == nil {
		log.Infow("no delivery confirmation and the receiver is unreachable; relays may hold its shares",
			"peer", dstPeer, "err", err)
		return true
	}
	return false
}

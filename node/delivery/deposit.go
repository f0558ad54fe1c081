package delivery

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol/ctl"
)

// Store and forward, sender side. Before choosing relays, Send checks
// whether the receiver is reachable: a data-plane session to it (cached,
// see endpoint) within Config.ProbeTimeout, with a PeerFinder lookup if
// the first attempt fails. If that fails outright (not merely slowly:
// a probe that runs out of time decides nothing), the Send deposits every share
// with SHARE_POOL_ADD (the relay keeps it without trying to forward) and
// reports StatusPooled once k shares are held. Otherwise it announces
// shares with RELAY_OPEN, and a relay that cannot reach the receiver
// still answers OK|pool and keeps the share.

// sharePoolAdder is the part of the control protocol that deposits a
// share; *control.Service implements it.
type sharePoolAdder interface {
	SharePoolAdd(ctx context.Context, relay peer.ID, cmd ctl.SharePoolAdd) error
}

// receiverOfflineKey marks the context of a Send whose receiver was found
// offline.
type receiverOfflineKey struct{}

func receiverOffline(ctx context.Context) bool {
	v, _ := ctx.Value(receiverOfflineKey{}).(bool)
	return v
}

// checkReceiver returns ctx, marked if the receiver's peer cannot be
// reached (so the Send's shares are deposited). It reaches the receiver
// only if the control protocol can deposit shares; otherwise there is no
// choice to make.
func (e *Engine) checkReceiver(ctx context.Context, dstPeer peer.ID) context.Context {
	if _, ok := e.cfg.Control.(sharePoolAdder); !ok {
		return ctx
	}
	pctx, cancel := context.WithTimeout(ctx, e.cfg.ProbeTimeout)
	defer cancel()
	_, err := e.reach(pctx, dstPeer)
	if err == nil || ctx.Err() != nil || pctx.Err() != nil {
		// Reached, or the Send ended, or the probe only ran out of time:
		// a slow receiver is not an offline one, so announce with
		// RELAY_OPEN and let each relay pool the share if it cannot
		// reach the receiver either.
		return ctx
	}
	log.Infow("receiver unreachable; depositing shares with relays", "peer", dstPeer, "err", err)
	return context.WithValue(ctx, receiverOfflineKey{}, true)
}

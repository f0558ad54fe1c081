package delivery

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol/ctl"
)

// Report status and share outcome of a message kept for an offline
// receiver.
const (
	// StatusPooled: the receiver did not confirm, but at least k shares
	// were taken into relays' share pools (OutcomePooled), or, when the
	// receiver went offline mid-transfer, at least k relays took every
	// byte of their shares (OutcomeHeld; fallback.go); the receiver will
	// fetch them when it comes online.
	StatusPooled = "pooled"
	// OutcomePooled: the relay took every byte of the share into its
	// share pool.
	OutcomePooled = "pooled"
)

// relayOpen announces a share and returns the relay's mode
// (ctl.RelayModeForward or ctl.RelayModePool). When the Send knows the
// receiver is offline (withReceiverOffline, deposit.go) it deposits the
// share with SHARE_POOL_ADD instead of RELAY_OPEN; an accepted deposit is
// ctl.RelayModePool.
func (e *Engine) relayOpen(ctx context.Context, relay peer.ID, cmd ctl.RelayOpen) (string, error) {
	if a, ok := e.cfg.Control.(sharePoolAdder); ok && receiverOffline(ctx) {
		if err := a.SharePoolAdd(ctx, relay, ctl.SharePoolAdd(cmd)); err != nil {
			return "", err
		}
		return ctl.RelayModePool, nil
	}
	if m, ok := e.cfg.Control.(relayModer); ok {
		return m.RelayOpenMode(ctx, relay, cmd)
	}
	return ctl.RelayModeForward, e.cfg.Control.RelayOpen(ctx, relay, cmd)
}

// spares hands out relays not yet used by a Send, to carry the shares
// whose relay failed. It probes the candidates the first time one is
// needed. It is used by the Send's own goroutine only.
type spares struct {
	e       *Engine
	dstPeer peer.ID
	used    map[peer.ID]bool
	probed  bool
	list    []candidate
	tried   int // spares handed out
}

func newSpares(e *Engine, dstPeer peer.ID, relays []candidate) *spares {
	s := &spares{e: e, dstPeer: dstPeer, used: map[peer.ID]bool{e.selfPeer: true, dstPeer: true}}
	for _, r := range relays {
		s.used[r.peer] = true
	}
	return s
}

// next returns a responsive relay not used yet, if there is one.
func (s *spares) next(ctx context.Context) (candidate, bool) {
	if !s.probed {
		s.probed = true
		s.list = s.probe(ctx)
	}
	if len(s.list) == 0 {
		return candidate{}, false
	}
	c := s.list[0]
	s.list = s.list[1:]
	s.used[c.peer] = true
	s.tried++
	return c, true
}

func (s *spares) probe(ctx context.Context) []candidate {
	var peers []peer.ID
	for _, p := range s.e.relayCandidates(ctx) {
		if !s.used[p] {
			s.used[p] = true // probed once
			peers = append(peers, p)
		}
	}
	peers = peers[:min(len(peers), s.e.cfg.MaxCandidates)]
	return s.e.probeRelays(ctx, peers, len(peers))
}

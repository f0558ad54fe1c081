package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// Store and forward, receiver side: at start and every
// Config.ClaimInterval the engine sends SHARE_POOL_CLAIM|*|<self> to its candidate peers
// (connected peers and routing table). Each relay holding shares for this
// node lists them and pushes them over RDT (VMDT FlagPool); they arrive
// through OnSegment like live shares and go through the same assembly,
// inbox and DELIVERED path.

// sharePoolClaimer is the part of the control protocol that claims
// pooled shares; *control.Service implements it.
type sharePoolClaimer interface {
	SharePoolClaim(ctx context.Context, p peer.ID, id *protocol.MessageID) ([]ctl.HeldShare, error)
}

// relayModer is the part of the control protocol that learns how a relay
// takes a share; *control.Service implements it.
type relayModer interface {
	RelayOpenMode(ctx context.Context, relay peer.ID, cmd ctl.RelayOpen) (string, error)
}

// claimLoop claims pooled shares at start and then every ClaimInterval.
func (e *Engine) claimLoop() {
	defer e.wg.Done()
	tick := time.NewTicker(e.cfg.ClaimInterval)
	defer tick.Stop()
	for {
		if n, _ := e.Claim(e.ctx); n > 0 {
			log.Infow("relays hold shares for this node", "shares", n)
		}
		select {
		case <-e.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Claim asks every candidate peer for the shares it holds for this node
// and returns how many they announced; the relays then push them over
// RDT, and complete messages reach the inbox as usual. The node may call
// it when a peer connects. It returns an error only if the control
// protocol cannot claim or ctx ends; peers that hold nothing or refuse are
// skipped.
func (e *Engine) Claim(ctx context.Context) (int, error) {
	pc, ok := e.cfg.Control.(sharePoolClaimer)
	if !ok {
		return 0, ctl.Errorf(ctl.CodeNotImplemented, "control protocol cannot claim pooled shares")
	}
	seen := map[peer.ID]bool{e.selfPeer: true}
	var peers []peer.ID
	for _, p := range e.relayCandidates(ctx) {
		if !seen[p] {
			seen[p] = true
			peers = append(peers, p)
		}
	}
	peers = peers[:min(len(peers), e.cfg.MaxCandidates)]
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, e.cfg.RelayOpenTimeout)
			defer cancel()
			held, err := pc.SharePoolClaim(cctx, p, nil)
			if err != nil {
				if ctl.CodeOf(err) != ctl.CodeNotImplemented {
					log.Debugw("claim", "peer", p, "err", err)
				}
				return
			}
			mu.Lock()
			total += len(held)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total, ctx.Err()
}

package delivery

import (
	"context"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
)

// relayCandidatesKey is the context key of WithRelayCandidates.
type relayCandidatesKey struct{}

// WithRelayCandidates returns a context under which Send and SendFile
// choose relays (and spare relays) only among peers instead of
// Config.Peers, for example among the members of a cluster, and Claim
// asks only those peers. The usual
// rules still apply: this node and the receiver are never relays, and
// fewer than n responsive peers fail with ErrNotEnoughRelays.
func WithRelayCandidates(ctx context.Context, peers []peer.ID) context.Context {
	return context.WithValue(ctx, relayCandidatesKey{}, slices.Clone(peers))
}

// relayCandidates returns the peers a send under ctx may use as relays.
func (e *Engine) relayCandidates(ctx context.Context) []peer.ID {
	if p, ok := ctx.Value(relayCandidatesKey{}).([]peer.ID); ok {
		return slices.Clone(p)
	}
	return e.cfg.Peers.Candidates()
}

// messageIDKey is the context key of the message id Send uses instead of
// a random one: tests set it to make two senders use the same id, as a
// sender who relayed another's message can.
type messageIDKey struct{}

// reportObserverKey is the context key of WithReportObserver.
type reportObserverKey struct{}

// WithReportObserver returns a context under which every message Send or
// SendFile sends (each chunk of a file, and its manifest) hands its
// Report to f once relays were chosen, whether it was delivered or not.
// f may be called from several goroutines at once.
func WithReportObserver(ctx context.Context, f func(Report)) context.Context {
	return context.WithValue(ctx, reportObserverKey{}, f)
}

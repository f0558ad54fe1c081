package control

import (
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol/ctl"
	"golang.org/x/time/rate"
)

// peerState is what the server keeps per remote peer: its token bucket,
// shared by all its streams, and how many of its streams are being served.
// Entries outlive streams so that opening a new stream does not refill
// the bucket; an entry is forgotten only when idle with a full bucket,
// where forgetting changes nothing.
type peerState struct {
	lines   *rate.Limiter
	streams int // guarded by Service.mu
}

// enter admits a new served stream of p. It returns ok=false if the
// service is closed (the caller resets the stream and returns). Otherwise
// the stream counts as a handler until leave; refuse is non-nil if the
// stream must be answered with that error and closed.
func (s *Service) enter(st network.Stream, p peer.ID) (ps *peerState, refuse error, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, false
	}
	s.handlers.Add(1)
	ps = s.peers[p]
	if ps == nil {
		if len(s.peers) >= s.cfg.MaxPeers && !s.forgetIdlePeerLocked() {
			return nil, ctl.Errorf(ctl.CodeRateLimited, "too many peers"), true
		}
		ps = &peerState{lines: rate.NewLimiter(rate.Limit(s.cfg.LineRate), s.cfg.LineBurst)}
		s.peers[p] = ps
	}
	if ps.streams >= s.cfg.MaxStreamsPerPeer {
		return nil, ctl.Errorf(ctl.CodeRateLimited, "too many concurrent streams"), true
	}
	ps.streams++
	s.streams[st] = struct{}{}
	return ps, nil, true
}

// leave ends what enter started; ps is nil for a refused stream.
func (s *Service) leave(st network.Stream, ps *peerState) {
	s.mu.Lock()
	if ps != nil {
		ps.streams--
		delete(s.streams, st)
	}
	s.mu.Unlock()
	s.handlers.Done()
}

// forgetIdlePeerLocked drops one peer with no streams and a full bucket.
func (s *Service) forgetIdlePeerLocked() bool {
	for p, ps := range s.peers {
		if ps.streams == 0 && ps.lines.Tokens() >= float64(ps.lines.Burst()) {
			delete(s.peers, p)
			return true
		}
	}
	return false
}

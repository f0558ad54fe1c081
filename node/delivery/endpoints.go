package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/control"
)

// endpoint is a data-plane session to a peer, reused for EndpointTTL.
type endpoint struct {
	ep  control.PeerEndpoint
	at  time.Time
	err error
}

// endpoint returns a data-plane session to p: a recent one, or a new one
// from control.ConnectDataPlane. If that fails and a PeerFinder is set, it
// looks p up and tries once more.
func (e *Engine) endpoint(ctx context.Context, p peer.ID) (control.PeerEndpoint, error) {
	now := e.cfg.Now()
	e.mu.Lock()
	c, ok := e.endpoints[p]
	e.mu.Unlock()
	if ok && now.Sub(c.at) < e.cfg.EndpointTTL {
		return c.ep, nil
	}
	ep, err := e.cfg.Control.ConnectDataPlane(ctx, p)
	if err != nil && e.cfg.Finder != nil && ctx.Err() == nil {
		if ferr := e.cfg.Finder.FindPeer(ctx, p); ferr == nil {
			ep, err = e.cfg.Control.ConnectDataPlane(retryDial(ctx), p)
		}
	}
	if err != nil {
		return control.PeerEndpoint{}, fmt.Errorf("data plane to %s: %w", p, err)
	}
	if ep.UDPAddr == nil {
		return control.PeerEndpoint{}, fmt.Errorf("data plane to %s: no UDP address", p)
	}
	e.mu.Lock()
	e.endpoints[p] = endpoint{ep: ep, at: now}
	e.mu.Unlock()
	return ep, nil
}

// forgetEndpoint drops the cached session to p after it failed.
func (e *Engine) forgetEndpoint(p peer.ID) {
	e.mu.Lock()
	delete(e.endpoints, p)
	e.mu.Unlock()
}

// withFinder runs fn against p; if it fails and a PeerFinder is set, it looks
// p up and tries once more.
func (e *Engine) withFinder(ctx context.Context, p peer.ID, fn func() error) error {
	err := fn()
	if err == nil || e.cfg.Finder == nil || ctx.Err() != nil {
		return err
	}
	if ferr := e.cfg.Finder.FindPeer(ctx, p); ferr != nil {
		return errors.Join(err, ferr)
	}
	return fn()
}

// retryDial marks ctx for a deliberate redial after a fresh peer lookup: a
// failed first dial put the peer's addresses on the swarm's dial backoff,
// which must not refuse this one.
func retryDial(ctx context.Context) context.Context {
	return network.WithForceDirectDial(ctx, "retry after peer lookup")
}

// prefixOf returns the network prefix relays are spread over: the /24 of
// an IPv4 address, the /48 of an IPv6 one.
func prefixOf(a net.Addr) netip.Prefix {
	u, ok := a.(*net.UDPAddr)
	if !ok {
		return netip.Prefix{}
	}
	ip, ok := netip.AddrFromSlice(u.IP)
	if !ok {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, _ := ip.Prefix(bits)
	return p
}

// candidate is a responsive relay.
type candidate struct {
	peer   peer.ID
	ep     control.PeerEndpoint
	prefix netip.Prefix
}

// chooseDiverse picks n of cands, spreading them over network prefixes:
// round by round, one relay from each prefix that still has one, prefixes
// in order of first appearance, relays within a prefix in the given
// order. So a prefix gets a second relay only when every prefix has one
// or is exhausted. It returns fewer than n if cands has fewer.
func chooseDiverse(cands []candidate, n int) []candidate {
	var order []netip.Prefix
	groups := make(map[netip.Prefix][]candidate)
	for _, c := range cands {
		if _, ok := groups[c.prefix]; !ok {
			order = append(order, c.prefix)
		}
		groups[c.prefix] = append(groups[c.prefix], c)
	}
	out := make([]candidate, 0, min(n, len(cands)))
	for round := 0; len(out) < n && len(out) < len(cands); round++ {
		for _, p := range order {
			if g := groups[p]; round < len(g) && len(out) < n {
				out = append(out, g[round])
			}
		}
	}
	return out
}

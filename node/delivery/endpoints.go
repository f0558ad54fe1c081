package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/control"
	"github.com/vmdt/vmdt/protocol/ctl"
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
	if err != nil && e.cfg.Finder != nil && ctx.Err() == nil && !noDataPlane(err) {
		if ferr := e.cfg.Finder.FindPeer(ctx, p); ferr == nil {
			ep, err = e.cfg.Control.ConnectDataPlane(ctx, p)
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
	delete(e.unresponsive, p)
	e.mu.Unlock()
	return ep, nil
}

// noDataPlane reports whether err is a peer's answer that it has no data
// plane (ERR|501, as a bootstrap node answers): a lookup will not help.
func noDataPlane(err error) bool {
	var ce *ctl.Error
	return errors.As(err, &ce) && ce.Remote && ce.Code == ctl.CodeNotImplemented
}

// Relay probes. A probe that fails is tried once more at once (reach); a
// candidate whose probe failed is remembered
// (Engine.unresponsive) and skipped by later Sends: for Config.NoDataPlaneTTL
// if it answered that it has no data plane, else for Config.UnresponsiveTTL.
// A probe cut short because enough relays had answered is not remembered.

// probeRelay returns a data-plane session to the candidate relay p, like
// endpoint, or an error at once if a recent probe of p failed.
func (e *Engine) probeRelay(ctx context.Context, p peer.ID) (control.PeerEndpoint, error) {
	e.mu.Lock()
	until, bad := e.unresponsive[p]
	e.mu.Unlock()
	if bad && e.cfg.Now().Before(until) {
		return control.PeerEndpoint{}, fmt.Errorf("data plane to %s: %w", p, errUnresponsive)
	}
	return e.reach(ctx, p)
}

// reach is endpoint, tried once more if the first attempt fails for
// another reason than the peer having no data plane: a first handshake
// can fail on a connection the peer has just replaced (it restarted) or
// at a busy moment (ERR|429). The dial backoff the first failure leaves
// does not refuse the second attempt (control.Service.Dial dials past it).
func (e *Engine) reach(ctx context.Context, p peer.ID) (control.PeerEndpoint, error) {
	ep, err := e.endpoint(ctx, p)
	if err != nil && !noDataPlane(err) && ctx.Err() == nil {
		log.Debugw("data plane handshake failed; trying once more", "peer", p, "err", err)
		ep, err = e.endpoint(ctx, p)
	}
	return ep, err
}

// markUnresponsive remembers that the probe of p failed with err.
func (e *Engine) markUnresponsive(p peer.ID, err error) {
	ttl := e.cfg.UnresponsiveTTL
	if noDataPlane(err) {
		ttl = e.cfg.NoDataPlaneTTL
	}
	e.mu.Lock()
	e.unresponsive[p] = e.cfg.Now().Add(ttl)
	e.mu.Unlock()
}

// errEnoughRelays cancels the probes still running once enough relays
// answered.
var errEnoughRelays = errors.New("enough relays answered")

// errUnresponsive: a recent probe of the peer failed.
var errUnresponsive = errors.New("a recent probe failed")

// probeRelays probes peers concurrently within Config.ProbeTimeout and
// returns the responsive ones, spread over network prefixes
// (chooseDiverse), at most want of them. It returns as soon as want
// candidates spanning want prefixes answered, or, once want answered,
// after ProbeGrace more (so that later ones may improve the spread), or
// when every probe ended; the remaining probes are cancelled and waited
// for.
func (e *Engine) probeRelays(ctx context.Context, peers []peer.ID, want int) []candidate {
	ectx, enough := context.WithCancelCause(ctx)
	defer enough(errEnoughRelays)
	pctx, cancel := context.WithTimeout(ectx, e.cfg.ProbeTimeout)
	defer cancel()
	type answer struct {
		i int
		c *candidate
	}
	answers := make(chan answer, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ep, err := e.probeRelay(pctx, p)
			if err != nil {
				// Remember the failure unless the probe was cut short: by the
				// Send's end or because enough relays answered. (A probe that
				// ran out of ProbeTimeout counts as failed.)
				if !errors.Is(err, errUnresponsive) && ctx.Err() == nil && ectx.Err() == nil {
					e.markUnresponsive(p, err)
				}
				log.Debugw("relay candidate skipped", "peer", p, "err", err)
				answers <- answer{i: i}
				return
			}
			answers <- answer{i: i, c: &candidate{peer: p, ep: ep, prefix: prefixOf(ep.UDPAddr)}}
		}()
	}
	found := make([]*candidate, len(peers))
	nFound := 0
	prefixes := map[netip.Prefix]bool{}
	var grace <-chan time.Time
collect:
	for range peers {
		select {
		case a := <-answers:
			if a.c == nil {
				continue
			}
			found[a.i] = a.c
			nFound++
			prefixes[a.c.prefix] = true
			if nFound >= want && len(prefixes) >= want {
				break collect
			}
			if nFound >= want && grace == nil {
				t := time.NewTimer(e.cfg.ProbeGrace)
				defer t.Stop()
				grace = t.C
			}
		case <-grace:
			break collect
		case <-pctx.Done():
			break collect
		}
	}
	enough(errEnoughRelays)
	wg.Wait()
	var out []candidate
	for _, c := range found {
		if c != nil {
			out = append(out, *c)
		}
	}
	return chooseDiverse(out, min(want, len(out)))
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

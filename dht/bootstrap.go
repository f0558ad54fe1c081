package dht

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// rtPoll is how often Bootstrap checks whether kad-dht has taken a
// connected bootstrap peer into its routing table, which it does
// asynchronously after identify and a liveness query.
const rtPoll = 10 * time.Millisecond

// rtWait bounds that wait when ctx has no earlier deadline.
const rtWait = 30 * time.Second

// Bootstrap connects to the bootstrap peers, waits until at least one of
// them is in the routing table, and runs a routing-table refresh, so that
// the table holds the peers near this node and across the key space. With
// no bootstrap peers (the first node of a network) it returns nil at once.
// Errors wrap ErrNoBootstrap when no bootstrap peer could be joined.
func (d *DHT) Bootstrap(ctx context.Context) error {
	if d.closed() {
		return ErrClosed
	}
	var (
		mu        sync.Mutex
		connected []peer.ID
		errs      []error
		wg        sync.WaitGroup
	)
	for _, ai := range d.cfg.BootstrapPeers {
		if ai.ID == d.h.ID() {
			continue
		}
		wg.Add(1)
		go func(ai peer.AddrInfo) {
			defer wg.Done()
			err := d.h.Connect(ctx, ai)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", ai.ID, err))
				return
			}
			connected = append(connected, ai.ID)
		}(ai)
	}
	wg.Wait()
	if len(connected) == 0 {
		if len(errs) == 0 {
			return nil // we are the only bootstrap node
		}
		return fmt.Errorf("%w: %w", ErrNoBootstrap, errors.Join(errs...))
	}
	for _, err := range errs {
		log.Infow("bootstrap peer unreachable", "error", err)
	}
	if err := d.waitRoutingTable(ctx, connected); err != nil {
		return err
	}
	select {
	case err := <-d.kad.RefreshRoutingTable():
		if err != nil {
			log.Debugw("routing table refresh", "error", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-d.ctx.Done():
		return ErrClosed
	}
}

// waitRoutingTable waits until one of peers is in the routing table.
func (d *DHT) waitRoutingTable(ctx context.Context, peers []peer.ID) error {
	ctx, cancel := context.WithTimeout(ctx, rtWait)
	defer cancel()
	t := time.NewTicker(rtPoll)
	defer t.Stop()
	for {
		for _, p := range peers {
			if d.kad.RoutingTable().Find(p) != "" {
				return nil
			}
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("%w: connected to %d bootstrap peers but none answered as a DHT server: %w", ErrNoBootstrap, len(peers), ctx.Err())
		case <-d.ctx.Done():
			return ErrClosed
		}
	}
}

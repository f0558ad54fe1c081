package dht

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"

	"github.com/vmdt/vmdt/dht/namerec"
)

// ProbeHold is the hold a claimant first asks every notary for. Only once
// a majority granted it does it ask for the full namerec.ClaimTTL, so a
// race that splits the notaries blocks the name for at most ProbeHold.
const ProbeHold = 2 * time.Minute

var (
	// ErrNameTaken reports that notaries hold the name for another key.
	ErrNameTaken = errors.New("dht: username held by another key")
	// ErrNotary reports a notary that could not be asked or answered
	// nonsense.
	ErrNotary = errors.New("dht: notary request failed")
)

// HeldError is the error RegisterName wraps when some notary holds the name
// for another key; errors.Is(err, ErrNameTaken) holds for it.
type HeldError struct {
	Name      string
	Notary    peer.ID
	HeldUntil time.Time // by that notary's clock
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%v: notary %s holds %q until %s", ErrNameTaken, e.Notary, e.Name, e.HeldUntil.Format(time.RFC3339))
}

func (e *HeldError) Unwrap() error { return ErrNameTaken }

// askNotary sends one claim to notary and returns its response. A granted
// countersignature is verified before it is returned.
func (d *DHT) askNotary(ctx context.Context, notary peer.ID, priv crypto.PrivKey, name string, hold time.Duration) (*namerec.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.NotaryTimeout)
	defer cancel()
	q, err := namerec.NewClaimRequest(priv, notary, name, hold)
	if err != nil {
		return nil, err
	}
	req, err := namerec.AppendRequest(nil, q)
	if err != nil {
		return nil, err
	}
	if notary == d.h.ID() {
		if d.cfg.LocalNotary == nil {
			return nil, fmt.Errorf("%w: %s is this node and Config.LocalNotary is not set", ErrNotary, notary)
		}
		return d.parseGrant(notary, priv, name, d.cfg.LocalNotary.Answer(req))
	}
	if len(d.h.Peerstore().Addrs(notary)) == 0 && d.h.Network().Connectedness(notary) != network.Connected {
		if ai, err := d.kad.FindPeer(ctx, notary); err == nil {
			d.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.TempAddrTTL)
		}
	}
	s, err := d.h.NewStream(ctx, notary, namerec.NotaryProtocol)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotary, notary, err)
	}
	dl, _ := ctx.Deadline()
	_ = s.SetDeadline(dl)
	if _, err := s.Write(req); err != nil {
		_ = s.Reset()
		return nil, fmt.Errorf("%w: %s: write: %w", ErrNotary, notary, err)
	}
	if err := s.CloseWrite(); err != nil {
		_ = s.Reset()
		return nil, fmt.Errorf("%w: %s: %w", ErrNotary, notary, err)
	}
	b, err := io.ReadAll(io.LimitReader(s, namerec.MaxResponseSize+1))
	if err != nil {
		_ = s.Reset()
		return nil, fmt.Errorf("%w: %s: read: %w", ErrNotary, notary, err)
	}
	_ = s.Close()
	return d.parseGrant(notary, priv, name, b)
}

// parseGrant decodes a notary's response and verifies a granted
// countersignature.
func (d *DHT) parseGrant(notary peer.ID, priv crypto.PrivKey, name string, b []byte) (*namerec.Response, error) {
	resp, err := namerec.ParseResponse(b, notary)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotary, notary, err)
	}
	if resp.Granted() {
		key, _ := crypto.MarshalPublicKey(priv.GetPublic())
		if err := d.auth.VerifyCounter(resp.Counter, name, key); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrNotary, notary, err)
		}
		if !d.cfg.Now().Before(resp.Counter.ValidUntil) {
			return nil, fmt.Errorf("%w: %s granted a hold that already lapsed at %s (clock skew?)", ErrNotary, notary, resp.Counter.ValidUntil.Format(time.RFC3339))
		}
	}
	return resp, nil
}

// claimRound is the outcome of asking every authority once.
type claimRound struct {
	counters []namerec.Countersignature
	held     []*HeldError
	errs     []error
}

// askAll asks the notaries in parallel for a hold of name.
func (d *DHT) askAll(ctx context.Context, notaries []peer.ID, priv crypto.PrivKey, name string, hold time.Duration) claimRound {
	var (
		mu    sync.Mutex
		round claimRound
		wg    sync.WaitGroup
	)
	for _, a := range notaries {
		wg.Add(1)
		go func(a peer.ID) {
			defer wg.Done()
			resp, err := d.askNotary(ctx, a, priv, name, hold)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				round.errs = append(round.errs, err)
			case resp.Granted():
				round.counters = append(round.counters, resp.Counter)
			case resp.Status == namerec.StatusHeld:
				round.held = append(round.held, &HeldError{Name: name, Notary: a, HeldUntil: resp.HeldUntil})
			default:
				round.errs = append(round.errs, fmt.Errorf("%w: %s: status %d: %s", ErrNotary, a, resp.Status, resp.Reason))
			}
		}(a)
	}
	wg.Wait()
	return round
}

// err explains why a round fell short of a majority.
func (r claimRound) err(name string, need, of int) error {
	if len(r.held) > 0 {
		errs := make([]error, 0, len(r.held)+len(r.errs))
		for _, h := range r.held {
			errs = append(errs, h)
		}
		return fmt.Errorf("dht: register %q: %d of %d notaries granted, %d needed: %w", name, len(r.counters), of, need, errors.Join(append(errs, r.errs...)...))
	}
	return fmt.Errorf("dht: register %q: %w: %d of %d notaries granted, %d needed: %w", name, ErrNoQuorum, len(r.counters), of, need, errors.Join(r.errs...))
}

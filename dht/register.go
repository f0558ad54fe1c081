package dht

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	recpb "github.com/libp2p/go-libp2p-record/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	cryptopb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht/namerec"
)

// ErrNotStored reports that a record could not be confirmed on enough
// remote DHT servers.
var ErrNotStored = errors.New("dht: record not confirmed on remote peers")

// storeRounds is how many times RegisterName looks up the closest peers
// and stores the record at those that lack it before giving up.
const storeRounds = 3

// RegisterName claims name for priv's key and stores the record binding it
// to the key, its DDT address, peer ID and sealKey (32-byte X25519).
//
// It first asks every authority for a ProbeHold-long hold; with a
// majority granted, it asks those that granted for the full
// namerec.ClaimTTL hold, builds and
// signs the record with the majority's countersignatures, and stores it in
// the DHT. It returns only once at least MinRemoteCopies (default 3)
// remote DHT servers among the 2*MinRemoteCopies closest to the name's key
// (all of them, at least one, if fewer exist) answered a direct GET_VALUE
// with the record; peers that lack it are sent it directly first.
//
// Errors: ErrInvalidName; ErrNameTaken (a *HeldError names the notary
// and its held-until) when a notary holds the name for another key and no
// majority granted; ErrNoQuorum when too few notaries answered;
// ErrNotStored; ErrNoAuthorities; ErrClosed.
func (d *DHT) RegisterName(ctx context.Context, name string, priv crypto.PrivKey, sealKey []byte) (*NameRecord, error) {
	n, err := NormalizeName(name)
	if err != nil {
		return nil, err
	}
	if len(sealKey) != SealKeyLen {
		return nil, fmt.Errorf("dht: seal key of %d bytes, want %d", len(sealKey), SealKeyLen)
	}
	if priv == nil || priv.Type() != cryptopb.KeyType_Ed25519 {
		return nil, fmt.Errorf("dht: register %q: %w", n, namerec.ErrUnsupportedKey)
	}
	if d.auth.Len() == 0 {
		return nil, fmt.Errorf("dht: register %q: %w", n, ErrNoAuthorities)
	}
	if d.closed() {
		return nil, ErrClosed
	}
	need := d.auth.Majority()
	probe := d.askAll(ctx, d.auth.IDs(), priv, n, ProbeHold)
	if len(probe.counters) < need {
		return nil, probe.err(n, need, d.auth.Len())
	}
	// Only the notaries that granted the probe are asked for the full
	// hold: the others hold the name for another key or did not answer,
	// and waiting for them again would only add delay.
	granted := make([]peer.ID, 0, len(probe.counters))
	for _, c := range probe.counters {
		granted = append(granted, c.Authority)
	}
	full := d.askAll(ctx, granted, priv, n, namerec.ClaimTTL)
	if len(full.counters) < need {
		return nil, full.err(n, need, d.auth.Len())
	}
	now := d.cfg.Now()
	seq := d.nextSeq(n, now)
	for attempt := 0; ; attempt++ {
		rec, val, err := namerec.NewRecord(priv, n, sealKey, seq, now.Add(namerec.ClaimTTL), full.counters)
		if err != nil {
			return nil, fmt.Errorf("dht: register %q: %w", n, err)
		}
		if _, _, err := d.names.Check(NameKey(n), val); err != nil {
			return nil, fmt.Errorf("dht: register %q: own record invalid: %w", n, err)
		}
		newer, err := d.store(ctx, rec, val)
		if err == nil {
			d.mu.Lock()
			d.regs[n] = time.Now()
			d.mu.Unlock()
			return rec, nil
		}
		if newer <= seq || newer == ^uint64(0) || attempt == 2 {
			return nil, err
		}
		// A remote peer holds our key's record with a higher sequence
		// number (our clock went back since we last registered): outbid it.
		seq = newer + 1
		d.noteSeq(n, seq)
	}
}

// nextSeq returns a sequence number above any this node used for name:
// the clock in milliseconds, or one more than the last.
func (d *DHT) nextSeq(name string, now time.Time) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	seq := uint64(now.UnixMilli())
	if last := d.seqs[name]; seq <= last {
		seq = last + 1
	}
	d.seqs[name] = seq
	return seq
}

func (d *DHT) noteSeq(name string, seq uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if seq > d.seqs[name] {
		d.seqs[name] = seq
	}
}

// store puts the record into the DHT and confirms remote copies. When a
// peer holds a record of the same key with a higher sequence number, it
// returns that number with the error.
func (d *DHT) store(ctx context.Context, rec *NameRecord, val []byte) (uint64, error) {
	key := NameKey(rec.Name)
	if err := d.kad.PutValue(ctx, key, val); err != nil {
		// kad-dht fails when it finds no peer or the local store holds a
		// better record; the direct checks below decide either way.
		log.Debugw("put name record", "name", rec.Name, "error", err)
	}
	var lastErr error
	for round := 0; round < storeRounds; round++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		peers, err := d.kad.GetClosestPeers(ctx, key)
		if err != nil && len(peers) == 0 {
			lastErr = fmt.Errorf("%w: find closest peers: %w", ErrNotStored, err)
			continue
		}
		remote := peers[:0:0]
		for _, p := range peers {
			if p != d.h.ID() {
				remote = append(remote, p)
			}
		}
		if len(remote) == 0 {
			lastErr = fmt.Errorf("%w: no remote DHT server found", ErrNotStored)
			continue
		}
		// The lookup returns peers closest first; resolvers ask those
		// first, so confirm there (kad-dht already sent the record to all).
		remote = remote[:min(len(remote), 2*d.cfg.MinRemoteCopies)]
		want := min(d.cfg.MinRemoteCopies, len(remote))
		ok, hi := d.confirm(ctx, key, rec, val, remote)
		if hi > rec.Seq {
			return hi, fmt.Errorf("%w: a peer holds this key's record with sequence number %d > %d", ErrNotStored, hi, rec.Seq)
		}
		if ok >= want {
			log.Debugw("name record stored", "name", rec.Name, "copies", ok, "asked", len(remote))
			return 0, nil
		}
		lastErr = fmt.Errorf("%w: %d of %d closest peers hold it, %d needed", ErrNotStored, ok, len(remote), want)
	}
	return 0, lastErr
}

// confirm asks each peer directly for key, stores val at those that lack
// it and asks again. It returns how many hold exactly val, and the highest
// sequence number of a valid record of rec's key that some peer holds
// instead (0 if none is higher than rec's); such a peer refuses val.
func (d *DHT) confirm(ctx context.Context, key string, rec *NameRecord, val []byte, peers []peer.ID) (int, uint64) {
	var (
		mu    sync.Mutex
		held  int
		newer uint64
		wg    sync.WaitGroup
	)
	for _, p := range peers {
		wg.Add(1)
		go func(p peer.ID) {
			defer wg.Done()
			ok, seq := d.holds(ctx, p, key, rec, val)
			if !ok && seq == 0 {
				if err := d.msgr.PutValue(ctx, p, recordFor(key, val)); err != nil {
					log.Debugw("direct put", "peer", p, "error", err)
				}
				ok, seq = d.holds(ctx, p, key, rec, val)
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				held++
			}
			if seq > newer {
				newer = seq
			}
		}(p)
	}
	wg.Wait()
	return held, newer
}

// holds asks p for key. It reports whether p holds exactly val and, if p
// holds a valid record of rec's key with a higher sequence number instead,
// that number.
func (d *DHT) holds(ctx context.Context, p peer.ID, key string, rec *NameRecord, val []byte) (bool, uint64) {
	got, _, err := d.msgr.GetValue(ctx, p, key)
	if err != nil || got == nil {
		return false, 0
	}
	if bytes.Equal(got.GetValue(), val) {
		return true, 0
	}
	other, _, err := d.names.Check(key, got.GetValue())
	if err != nil || !other.PubKey.Equals(rec.PubKey) || other.Seq <= rec.Seq {
		return false, 0
	}
	return false, other.Seq
}

func recordFor(key string, val []byte) *recpb.Record {
	return &recpb.Record{Key: []byte(key), Value: val}
}

package dht

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// Retry backoff of KeepName after a failed registration.
const (
	keepRetryMin = 30 * time.Second
)

// KeepName keeps name registered for priv's key: it registers at once (or,
// if this DHT registered the name less than RepublishInterval ago, one
// interval after that) and then every RepublishInterval, retrying failures with a backoff from 30 s
// up to RepublishInterval. Each registration renews the notaries' holds,
// so the name stays held while this node runs and becomes free
// namerec.ClaimTTL (7 days) after it stops. KeepName returns at once; the
// loop runs until ctx is done, d is closed, or KeepName is called again
// for the same name (which replaces the loop). Outcomes are logged.
func (d *DHT) KeepName(ctx context.Context, name string, priv crypto.PrivKey, sealKey []byte) {
	n, err := NormalizeName(name)
	if err != nil {
		log.Errorw("keep name", "name", name, "error", err)
		return
	}
	d.mu.Lock()
	if d.done {
		d.mu.Unlock()
		return
	}
	if k, ok := d.keeps[n]; ok {
		k.stop()
	}
	lctx, cancel := context.WithCancel(d.ctx)
	stopCtx := context.AfterFunc(ctx, cancel)
	k := &keeper{stop: cancel}
	d.keeps[n] = k
	d.wg.Add(1)
	d.mu.Unlock()

	sealKey = append([]byte(nil), sealKey...)
	go func() {
		defer d.wg.Done()
		defer func() {
			d.mu.Lock()
			if d.keeps[n] == k {
				delete(d.keeps, n)
			}
			d.mu.Unlock()
		}()
		defer stopCtx()
		defer cancel()
		d.keepLoop(lctx, n, priv, sealKey)
	}()
}

// keeper is one running KeepName loop.
type keeper struct{ stop context.CancelFunc }

func (d *DHT) keepLoop(ctx context.Context, name string, priv crypto.PrivKey, sealKey []byte) {
	first := min(keepRetryMin, d.cfg.RepublishInterval)
	retry := first
	// Right after RegisterName the record is fresh: republish one
	// interval after that registration rather than at once.
	d.mu.Lock()
	wait := time.Until(d.regs[name].Add(d.cfg.RepublishInterval))
	d.mu.Unlock()
	t := time.NewTimer(max(wait, 0))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		rec, err := d.RegisterName(rctx, name, priv, sealKey)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warnw("republish name failed", "name", name, "retry_in", retry, "error", err)
			t.Reset(retry)
			retry = min(2*retry, d.cfg.RepublishInterval)
			continue
		}
		log.Debugw("name republished", "name", name, "seq", rec.Seq)
		retry = first
		t.Reset(d.cfg.RepublishInterval)
	}
}

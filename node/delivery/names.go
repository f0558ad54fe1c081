package delivery

import (
	"context"
	"time"

	"github.com/vmdt/vmdt/dht"
)

// Name cache. Sending resolves the receiver's username in the DHT, which
// costs a lookup across the network (one or more round trips, more on
// lossy links). A record resolved in the last Config.NameCacheTTL (and
// not expired) is used again instead, as a DNS resolver caches answers.
// A record is only a hint for where the receiver is: the friend token
// binds the receiver's DDT address, and a cached record whose peer cannot
// be reached is dropped (forgetName) so the next Send resolves afresh.

// cachedName is a resolved username record and when it was resolved.
type cachedName struct {
	rec *dht.NameRecord
	at  time.Time
}

// resolve returns the record of name, from the cache if fresh.
func (e *Engine) resolve(ctx context.Context, name string) (*dht.NameRecord, error) {
	key, err := dht.NormalizeName(name)
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	e.mu.Lock()
	c, ok := e.names[key]
	e.mu.Unlock()
	if ok && now.Sub(c.at) < e.cfg.NameCacheTTL && now.Before(c.rec.Expiry) {
		return c.rec, nil
	}
	rec, err := e.cfg.Names.Resolve(ctx, key)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if len(e.names) >= maxCachedNames {
		clear(e.names)
	}
	e.names[key] = cachedName{rec: rec, at: now}
	e.mu.Unlock()
	return rec, nil
}

// forgetName drops the cached record of name.
func (e *Engine) forgetName(name string) {
	key, err := dht.NormalizeName(name)
	if err != nil {
		return
	}
	e.mu.Lock()
	delete(e.names, key)
	e.mu.Unlock()
}

// maxCachedNames bounds the name cache; when full it starts over.
const maxCachedNames = 1024

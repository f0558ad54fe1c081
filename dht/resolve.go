package dht

import (
	"context"
	"errors"
	"fmt"

	kaddht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/routing"
)

// ErrNameNotFound reports that no valid record exists for a name.
var ErrNameNotFound = errors.New("dht: username not found")

// resolveQuorum is how many valid answers beyond the first a lookup
// gathers before it stops early; the best of them by the validator's
// Select wins. Every valid answer names the same owner key (a quorum of
// notaries vouches for it), so more answers only buy freshness of the
// seal key.
const resolveQuorum = 2

// Resolve looks name up in the DHT and returns its best valid record.
// There is no reverse lookup: the DHT key is derived from the name only.
// Errors wrap ErrInvalidName, or ErrNameNotFound when no valid record is
// found.
func (d *DHT) Resolve(ctx context.Context, name string) (*NameRecord, error) {
	n, err := NormalizeName(name)
	if err != nil {
		return nil, err
	}
	if d.closed() {
		return nil, ErrClosed
	}
	key := NameKey(n)
	val, err := d.kad.GetValue(ctx, key, kaddht.Quorum(resolveQuorum))
	if val == nil {
		if err == nil || errors.Is(err, routing.ErrNotFound) {
			return nil, fmt.Errorf("%w: %q", ErrNameNotFound, n)
		}
		return nil, fmt.Errorf("dht: resolve %q: %w", n, err)
	}
	// kad-dht validated val already; checking again yields the parsed
	// record and catches a record that expired meanwhile.
	rec, _, err := d.names.Check(key, val)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrNameNotFound, n, err)
	}
	return rec, nil
}

package node

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/protocol"
)

// NameInfo is a resolved or registered username, as the API returns it.
type NameInfo struct {
	Username string           `json:"username"`
	DDTAddr  protocol.DDTAddr `json:"ddt_address"`
	PeerID   peer.ID          `json:"peer_id"`
	SealKey  string           `json:"seal_key"` // hex
	Seq      uint64           `json:"seq"`
	Expiry   time.Time        `json:"expiry"`
	// Countersignatures is how many authorities countersigned the claim.
	Countersignatures int `json:"countersignatures"`
}

func nameInfo(r *dht.NameRecord) NameInfo {
	return NameInfo{
		Username:          r.Name,
		DDTAddr:           r.DDTAddr,
		PeerID:            r.PeerID,
		SealKey:           hex.EncodeToString(r.SealKey),
		Seq:               r.Seq,
		Expiry:            r.Expiry,
		Countersignatures: len(r.Counters),
	}
}

// RegisterName claims name for this node: a majority of the authorities
// countersign it and the record is stored in the DHT. It returns once
// remote peers confirmed they hold the record; from then on the node keeps
// the record published until it closes. Errors wrap dht.ErrInvalidName for
// a malformed name.
func (n *Node) RegisterName(ctx context.Context, name string) (NameInfo, error) {
	if n.ctx.Err() != nil {
		return NameInfo{}, ErrClosed
	}
	rec, err := n.dht.RegisterName(ctx, name, n.priv, n.SealPublicKey())
	if err != nil {
		return NameInfo{}, fmt.Errorf("node: register %q: %w", name, err)
	}
	n.KeepName(rec.Name)
	return nameInfo(rec), nil
}

// KeepName keeps name published until the node closes: the DHT
// re-registers it before the record or its countersignatures expire (at
// once, unless this node registered it within the republish interval).
// It assumes the name belongs to this node, registered now or before a
// restart, and makes it the node's username (Username), which its friend
// requests carry. It returns at once; calling it again replaces the loop.
func (n *Node) KeepName(name string) {
	if n.ctx.Err() != nil {
		return
	}
	n.setUsername(name)
	n.dht.KeepName(n.ctx, name, n.priv, n.SealPublicKey())
}

// Resolve looks up a username in the DHT. Errors wrap dht.ErrNameNotFound
// when no valid record exists and dht.ErrInvalidName for a malformed name.
func (n *Node) Resolve(ctx context.Context, name string) (NameInfo, error) {
	if n.ctx.Err() != nil {
		return NameInfo{}, ErrClosed
	}
	rec, err := n.dht.Resolve(ctx, name)
	if err != nil {
		return NameInfo{}, fmt.Errorf("node: resolve %q: %w", name, err)
	}
	return nameInfo(rec), nil
}

// Username returns the node's username: the name it registered or keeps
// published, "" if none.
func (n *Node) Username() string {
	n.nameMu.Lock()
	defer n.nameMu.Unlock()
	return n.username
}

func (n *Node) setUsername(name string) {
	n.nameMu.Lock()
	defer n.nameMu.Unlock()
	n.username = name
}

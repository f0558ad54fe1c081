package node

import (
	"cmp"
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/control"
)

// ClusterView is a cluster this node is a member of, as the API shows
// it.
type ClusterView struct {
	ID      string          `json:"id"`
	N       int             `json:"n"`
	K       int             `json:"k"`
	Creator peer.ID         `json:"creator"`
	Members []ClusterMember `json:"members"`
}

// ClusterMember is one member of a cluster.
type ClusterMember struct {
	PeerID  peer.ID `json:"peer_id"`
	DDTAddr string  `json:"ddt_addr"`
}

func clusterView(c control.ClusterInfo) ClusterView {
	v := ClusterView{ID: c.ID.String(), N: c.N, K: c.K, Creator: c.Creator, Members: make([]ClusterMember, len(c.Members))}
	for i, m := range c.Members {
		v.Members[i] = ClusterMember{PeerID: m.PeerID, DDTAddr: m.DDTAddr.String()}
	}
	return v
}

// CreateCluster issues a new cluster whose sends default to n shares and
// threshold k (zeros: DefaultShares), with this node as creator and only
// member.
func (n *Node) CreateCluster(ctx context.Context, shares, threshold int) (ClusterView, error) {
	if n.dp == nil {
		return ClusterView{}, ErrNoDataPlane
	}
	if shares == 0 {
		shares = cmp.Or(n.defaultN, DefaultN)
	}
	if threshold == 0 {
		threshold = cmp.Or(n.defaultK, DefaultK)
	}
	c, err := n.ctl.CreateCluster(ctx, shares, threshold)
	if err != nil {
		return ClusterView{}, fmt.Errorf("node: create cluster: %w", err)
	}
	return clusterView(c), nil
}

// JoinCluster joins cluster id through via, one of its members, and
// returns this node's copy of the cluster.
func (n *Node) JoinCluster(ctx context.Context, id string, via peer.ID) (ClusterView, error) {
	if n.dp == nil {
		return ClusterView{}, ErrNoDataPlane
	}
	c, err := n.ctl.JoinCluster(ctx, via, id)
	if err != nil {
		return ClusterView{}, fmt.Errorf("node: join cluster %s: %w", id, err)
	}
	return clusterView(c), nil
}

// Clusters lists the clusters this node is a member of.
func (n *Node) Clusters() []ClusterView {
	list := n.ctl.Clusters()
	out := make([]ClusterView, len(list))
	for i, c := range list {
		out[i] = clusterView(c)
	}
	return out
}

// cluster returns this node's copy of cluster id, or an error wrapping
// ErrUnknownCluster.
func (n *Node) cluster(id string) (control.ClusterInfo, error) {
	for _, c := range n.ctl.Clusters() {
		if c.ID.String() == id {
			return c, nil
		}
	}
	return control.ClusterInfo{}, fmt.Errorf("%w: %q", ErrUnknownCluster, id)
}

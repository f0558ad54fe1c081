package control

import (
	"bytes"
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// cluster is this node's copy of a cluster. Every member holds one; there
// is no authoritative copy.
type cluster struct {
	id      ctl.ClusterID
	n, k    int
	creator peer.ID
	sig     []byte // creator's signature over ctl.AppendCharter
	members map[peer.ID]protocol.DDTAddr
	// left holds members that told this node they left, so that a stale
	// list merged later does not bring them back. A member that joins
	// again directly is taken off it.
	left map[peer.ID]struct{}
}

func (c *cluster) info() ClusterInfo {
	in := ClusterInfo{ID: c.id, N: c.n, K: c.k, Creator: c.creator, Signature: slices.Clone(c.sig)}
	for p, a := range c.members {
		in.Members = append(in.Members, Member{PeerID: p, DDTAddr: a})
	}
	slices.SortFunc(in.Members, func(a, b Member) int { return strings.Compare(string(a.PeerID), string(b.PeerID)) })
	return in
}

func (c *cluster) sameCharter(in ClusterInfo) bool {
	return c.n == in.N && c.k == in.K && c.creator == in.Creator && bytes.Equal(c.sig, in.Signature)
}

func (c *cluster) addMember(p peer.ID, a protocol.DDTAddr) error {
	if _, ok := c.members[p]; ok {
		return nil
	}
	if len(c.members) >= ctl.MaxClusterMembers {
		return ctl.Errorf(ctl.CodeTooLarge, "cluster %s has %d members", c.id, len(c.members))
	}
	c.members[p] = a
	return nil
}

func (c *cluster) removeMember(p peer.ID) {
	delete(c.members, p)
	if _, ok := c.left[p]; !ok && len(c.left) >= ctl.MaxClusterMembers {
		for q := range c.left { // forget an arbitrary departure
			delete(c.left, q)
			break
		}
	}
	c.left[p] = struct{}{}
}

// newCluster issues a cluster with this node as creator and only member.
func (s *Service) newCluster(n, k int) (*cluster, error) {
	c := &cluster{n: n, k: k, creator: s.h.ID(), members: map[peer.ID]protocol.DDTAddr{s.h.ID(): s.self}, left: map[peer.ID]struct{}{}}
	for c.id.IsZero() {
		_, _ = rand.Read(c.id[:])
	}
	sig, err := s.priv.Sign(ctl.AppendCharter(nil, c.id, n, k, c.creator))
	if err != nil {
		return nil, ctl.Errorf(ctl.CodeInternal, "sign charter: %w", err)
	}
	c.sig = sig
	return c, nil
}

// CreateCluster issues a new cluster with default n and k, this node its
// creator and only member. Others join with its id through any member.
func (s *Service) CreateCluster(ctx context.Context, n, k int) (ClusterInfo, error) {
	if !validNK(n, k) {
		return ClusterInfo{}, ctl.Errorf(ctl.CodeMalformed, "need 2 <= k <= n <= 255, got n=%d k=%d", n, k)
	}
	c, err := s.newCluster(n, k)
	if err != nil {
		return ClusterInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.storeClusterLocked(c); err != nil {
		return ClusterInfo{}, err
	}
	return c.info(), nil
}

func validNK(n, k int) bool { return ctl.MinShares <= k && k <= n && n <= ctl.MaxShares }

func (s *Service) storeClusterLocked(c *cluster) error {
	if err := s.roomForClusterLocked(c.id); err != nil {
		return err
	}
	s.clusters[c.id] = c
	return nil
}

// roomForClusterLocked fails if this node could not keep a copy of
// cluster id: it is closed, or at MaxClusters and not already a member.
func (s *Service) roomForClusterLocked(id ctl.ClusterID) error {
	if s.closed {
		return ErrClosed
	}
	if _, ok := s.clusters[id]; !ok && len(s.clusters) >= s.cfg.MaxClusters {
		return ctl.Errorf(ctl.CodeForbidden, "member of %d clusters already", len(s.clusters))
	}
	return nil
}

// roomForCluster checks roomForClusterLocked before asking a peer, so
// that a peer does not list this node in a cluster it cannot keep.
func (s *Service) roomForCluster(id ctl.ClusterID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roomForClusterLocked(id)
}

// Clusters returns copies of the clusters this node is a member of,
// ordered by id.
func (s *Service) Clusters() []ClusterInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ClusterInfo, 0, len(s.clusters))
	for _, c := range s.clusters {
		out = append(out, c.info())
	}
	slices.SortFunc(out, func(a, b ClusterInfo) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out
}

// clusterMemberLocked returns the peer id of a member of any of this
// node's clusters with DDT address a, or "".
func (s *Service) clusterMemberLocked(a protocol.DDTAddr) peer.ID {
	for _, c := range s.clusters {
		for p, m := range c.members {
			if m == a {
				return p
			}
		}
	}
	return ""
}

// adoptCluster merges a verified copy received from a peer into this
// node's copy, creating it if needed. Members that told this node they
// left stay out.
func (s *Service) adoptCluster(in ClusterInfo) (ClusterInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clusters[in.ID]
	if c == nil {
		c = &cluster{id: in.ID, n: in.N, k: in.K, creator: in.Creator, sig: slices.Clone(in.Signature),
			members: map[peer.ID]protocol.DDTAddr{s.h.ID(): s.self}, left: map[peer.ID]struct{}{}}
		if err := s.storeClusterLocked(c); err != nil {
			return ClusterInfo{}, err
		}
	} else if !c.sameCharter(in) {
		return ClusterInfo{}, ctl.Errorf(ctl.CodeConflict, "cluster %s: charter differs from ours", in.ID)
	}
	for _, m := range in.Members {
		if _, gone := c.left[m.PeerID]; gone {
			continue
		}
		if err := c.addMember(m.PeerID, m.DDTAddr); err != nil {
			break // full; keep what fits
		}
	}
	return c.info(), nil
}

// CreateClusterAt asks p to issue a cluster with p as creator and this
// node as second member, and keeps a copy.
func (s *Service) CreateClusterAt(ctx context.Context, p peer.ID, n, k int) (ClusterInfo, error) {
	if !validNK(n, k) {
		return ClusterInfo{}, ctl.Errorf(ctl.CodeMalformed, "need 2 <= k <= n <= 255, got n=%d k=%d", n, k)
	}
	if err := s.roomForCluster(ctl.ClusterID{}); err != nil {
		return ClusterInfo{}, err
	}
	c, err := s.Dial(ctx, p)
	if err != nil {
		return ClusterInfo{}, err
	}
	defer c.Close()
	in, err := c.CreateCluster(ctx, n, k)
	if err != nil {
		return ClusterInfo{}, err
	}
	return s.adoptCluster(in)
}

// JoinCluster joins the cluster clusterID through via, a member. It then
// announces itself with JOIN_CLUSTER to every other member it learns of
// and can reach, merging their lists into its copy, and returns the copy.
// Members that cannot be reached learn of this node when it, or a later
// joiner that knows it, reaches them.
func (s *Service) JoinCluster(ctx context.Context, via peer.ID, clusterID string) (ClusterInfo, error) {
	id, err := ctl.ParseClusterID(clusterID)
	if err != nil {
		return ClusterInfo{}, err
	}
	if err := s.roomForCluster(id); err != nil {
		return ClusterInfo{}, err
	}
	in, err := s.joinVia(ctx, via, id)
	if err != nil {
		return ClusterInfo{}, err
	}
	if _, err := s.adoptCluster(in); err != nil {
		return ClusterInfo{}, err
	}
	s.announce(ctx, id, via)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clusters[id]
	if c == nil {
		return ClusterInfo{}, ctl.Errorf(ctl.CodeConflict, "cluster %s left while joining", id)
	}
	return c.info(), nil
}

func (s *Service) joinVia(ctx context.Context, p peer.ID, id ctl.ClusterID) (ClusterInfo, error) {
	c, err := s.Dial(ctx, p)
	if err != nil {
		return ClusterInfo{}, err
	}
	defer c.Close()
	return c.JoinCluster(ctx, id)
}

// announceParallel bounds the members contacted at once.
const announceParallel = 8

// announce sends JOIN_CLUSTER to every member of id not yet contacted, in
// rounds, until no new members turn up. Failures are logged and skipped.
func (s *Service) announce(ctx context.Context, id ctl.ClusterID, via peer.ID) {
	contacted := map[peer.ID]bool{s.h.ID(): true, via: true}
	for {
		var todo []peer.ID
		s.mu.Lock()
		if c := s.clusters[id]; c != nil {
			for p := range c.members {
				if !contacted[p] {
					contacted[p] = true
					todo = append(todo, p)
				}
			}
		}
		s.mu.Unlock()
		if len(todo) == 0 || ctx.Err() != nil {
			return
		}
		s.eachPeer(ctx, todo, func(ctx context.Context, p peer.ID) {
			in, err := s.joinVia(ctx, p, id)
			if err == nil {
				_, err = s.adoptCluster(in)
			}
			if err != nil {
				log.Debugf("cluster %s: announce to %s: %v", id, p, err)
			}
		})
	}
}

// eachPeer runs f for every peer, announceParallel at a time, each under
// RequestTimeout, and returns when all are done.
func (s *Service) eachPeer(ctx context.Context, peers []peer.ID, f func(context.Context, peer.ID)) {
	sem := make(chan struct{}, announceParallel)
	var wg sync.WaitGroup
	for _, p := range peers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
			defer cancel()
			f(ctx, p)
		})
	}
	wg.Wait()
}

// LeaveCluster drops this node's copy of the cluster and tells every
// member it can reach (best effort). The cluster goes on without it; this
// holds for the creator too, since every member keeps the signed charter.
func (s *Service) LeaveCluster(ctx context.Context, clusterID string) error {
	id, err := ctl.ParseClusterID(clusterID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	c := s.clusters[id]
	var others []peer.ID
	if c != nil {
		delete(s.clusters, id)
		for p := range c.members {
			if p != s.h.ID() {
				others = append(others, p)
			}
		}
	}
	s.mu.Unlock()
	if c == nil {
		return ctl.Errorf(ctl.CodeUnknown, "not a member of cluster %s", id)
	}
	s.eachPeer(ctx, others, func(ctx context.Context, p peer.ID) {
		cl, err := s.Dial(ctx, p)
		if err == nil {
			err = cl.LeaveCluster(ctx, id)
			cl.Close()
		}
		if err != nil {
			log.Debugf("cluster %s: tell %s we left: %v", id, p, err)
		}
	})
	return nil
}

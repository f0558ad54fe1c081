package control

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// serveCreateCluster issues a cluster with this node as creator and the
// asker as second member.
func (s *Service) serveCreateCluster(c *servedStream, cmd *ctl.CreateCluster) ([]byte, error) {
	cl, err := s.newCluster(cmd.N, cmd.K)
	if err != nil {
		return nil, err
	}
	cl.members[c.peer] = c.client
	s.mu.Lock()
	err = s.storeClusterLocked(cl)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return appendCluster(nil, cl.info())
}

// serveJoinCluster adds the asker to a cluster this node is a member of
// and returns this node's copy. Knowing the id is the only admission
// check: the id is the invitation.
func (s *Service) serveJoinCluster(c *servedStream, cmd *ctl.JoinCluster) ([]byte, error) {
	s.mu.Lock()
	cl := s.clusters[cmd.Cluster]
	if cl == nil {
		s.mu.Unlock()
		return nil, ctl.Errorf(ctl.CodeUnknown, "not a member of cluster %s", cmd.Cluster)
	}
	err := cl.addMember(c.peer, c.client)
	if err == nil {
		delete(cl.left, c.peer)
	}
	in := cl.info()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return appendCluster(nil, in)
}

// serveLeaveCluster removes the asker from this node's copy. It is
// idempotent: a non-member leaving is answered OK.
func (s *Service) serveLeaveCluster(c *servedStream, cmd *ctl.LeaveCluster) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := s.clusters[cmd.Cluster]
	if cl == nil {
		return nil, ctl.Errorf(ctl.CodeUnknown, "not a member of cluster %s", cmd.Cluster)
	}
	cl.removeMember(c.peer)
	return ctl.AppendOK(nil), nil
}

// appendCluster appends a cluster reply: the header, then one MEMBER line
// per member.
func appendCluster(b []byte, in ClusterInfo) ([]byte, error) {
	h := ctl.ClusterReply{Cluster: in.ID, N: in.N, K: in.K, Creator: in.Creator, Signature: in.Signature, Members: len(in.Members)}
	b, err := h.Append(b)
	if err != nil {
		return nil, ctl.Errorf(ctl.CodeInternal, "cluster %s: %w", in.ID, err)
	}
	for _, m := range in.Members {
		b = ctl.AppendMemberLine(b, m.PeerID)
	}
	return b, nil
}

// readCluster reads a cluster reply and checks the creator's signature
// over the charter. Members whose id embeds no public key (so no DDT
// address can be derived) are dropped.
func readCluster(next func() (string, error)) (ClusterInfo, error) {
	line, err := next()
	if err != nil {
		return ClusterInfo{}, err
	}
	h, err := ctl.ParseClusterReply(line)
	if err != nil {
		return ClusterInfo{}, err
	}
	in := ClusterInfo{ID: h.Cluster, N: h.N, K: h.K, Creator: h.Creator, Signature: h.Signature}
	seen := make(map[peer.ID]bool, h.Members)
	for range h.Members {
		line, err := next()
		if err != nil {
			return ClusterInfo{}, err
		}
		p, err := ctl.ParseMemberLine(line)
		if err != nil {
			return ClusterInfo{}, err
		}
		if seen[p] {
			return ClusterInfo{}, ctl.Errorf(ctl.CodeMalformed, "member %s listed twice", p)
		}
		seen[p] = true
		a, err := ddtAddrOf(p)
		if err != nil {
			log.Debugf("cluster %s: dropping member %s: %v", h.Cluster, p, err)
			continue
		}
		in.Members = append(in.Members, Member{PeerID: p, DDTAddr: a})
	}
	pub, err := h.Creator.ExtractPublicKey()
	if err != nil {
		return ClusterInfo{}, ctl.Errorf(ctl.CodeForbidden, "creator %s: %w", h.Creator, err)
	}
	ok, err := pub.Verify(ctl.AppendCharter(nil, h.Cluster, h.N, h.K, h.Creator), h.Signature)
	if err != nil || !ok {
		return ClusterInfo{}, ctl.Errorf(ctl.CodeForbidden, "cluster %s: charter signature invalid", h.Cluster)
	}
	return in, nil
}

// requireMember checks that a cluster reply lists this node.
func (c *Client) requireMember(in ClusterInfo) error {
	for _, m := range in.Members {
		if m.PeerID == c.s.h.ID() {
			return nil
		}
	}
	return ctl.Errorf(ctl.CodeMalformed, "cluster %s: reply does not list us", in.ID)
}

// CreateCluster asks the peer to issue a cluster with itself as creator
// and this node as second member. It returns the verified reply; the
// caller decides whether to keep a copy (Service.CreateClusterAt does).
func (c *Client) CreateCluster(ctx context.Context, n, k int) (ClusterInfo, error) {
	var in ClusterInfo
	err := c.exchange(ctx, &ctl.CreateCluster{ClientID: c.s.self, N: n, K: k}, func(next func() (string, error)) error {
		var err error
		if in, err = readCluster(next); err != nil {
			return err
		}
		if in.Creator != c.Peer() || in.N != n || in.K != k {
			return ctl.Errorf(ctl.CodeMalformed, "created cluster does not match the request")
		}
		return c.requireMember(in)
	})
	return in, err
}

// JoinCluster asks the peer to add this node to cluster id and returns the
// peer's verified copy.
func (c *Client) JoinCluster(ctx context.Context, id ctl.ClusterID) (ClusterInfo, error) {
	var in ClusterInfo
	err := c.exchange(ctx, &ctl.JoinCluster{ClientID: c.s.self, Cluster: id}, func(next func() (string, error)) error {
		var err error
		if in, err = readCluster(next); err != nil {
			return err
		}
		if in.ID != id {
			return ctl.Errorf(ctl.CodeMalformed, "reply about cluster %s, asked for %s", in.ID, id)
		}
		return c.requireMember(in)
	})
	return in, err
}

// LeaveCluster tells the peer this node has left cluster id.
func (c *Client) LeaveCluster(ctx context.Context, id ctl.ClusterID) error {
	return c.exchange(ctx, &ctl.LeaveCluster{ClientID: c.s.self, Cluster: id}, func(next func() (string, error)) error {
		line, err := next()
		if err != nil {
			return err
		}
		return ctl.ParseOK(line)
	})
}

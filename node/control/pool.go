package control

import (
	"context"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// servePoolAdd hands a share to the SharePool. The grammar has already
// checked the fields, and the server that Src is the stream's peer.
func (s *Service) servePoolAdd(cmd *ctl.SharePoolAdd) ([]byte, error) {
	if s.cfg.SharePool == nil {
		return nil, ctl.Errorf(ctl.CodeNotImplemented, "no share pool")
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
	defer cancel()
	if err := s.cfg.SharePool.Add(ctx, cmd.PoolShare); err != nil {
		return nil, err
	}
	return ctl.AppendOK(nil), nil
}

// servePoolClaim returns up to ctl.MaxClaimShares shares held for the
// asker.
func (s *Service) servePoolClaim(cmd *ctl.SharePoolClaim) ([]byte, error) {
	if s.cfg.SharePool == nil {
		return nil, ctl.Errorf(ctl.CodeNotImplemented, "no share pool")
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
	defer cancel()
	var id *protocol.MessageID
	if !cmd.Any {
		id = &cmd.MessageID
	}
	shares, err := s.cfg.SharePool.Claim(ctx, cmd.ClientID, id, ctl.MaxClaimShares)
	if err != nil {
		return nil, err
	}
	if len(shares) > ctl.MaxClaimShares {
		return nil, ctl.Errorf(ctl.CodeInternal, "share pool returned %d shares", len(shares))
	}
	r := ctl.ClaimReply{Count: len(shares)}
	b, err := r.Append(nil)
	if err != nil {
		return nil, err
	}
	for i := range shares {
		if shares[i].Dst != cmd.ClientID || (id != nil && shares[i].MessageID != *id) {
			return nil, ctl.Errorf(ctl.CodeInternal, "share pool returned a share not asked for")
		}
		if b, err = ctl.AppendShareLine(b, &shares[i]); err != nil {
			return nil, ctl.Errorf(ctl.CodeInternal, "share pool returned a bad share: %w", err)
		}
	}
	return b, nil
}

// SharePoolAdd asks the peer to hold s for s.Dst. s.Src is set to this
// node.
func (c *Client) SharePoolAdd(ctx context.Context, s ctl.PoolShare) error {
	s.Src = c.s.self
	return c.exchange(ctx, &ctl.SharePoolAdd{PoolShare: s}, func(next func() (string, error)) error {
		line, err := next()
		if err != nil {
			return err
		}
		return ctl.ParseOK(line)
	})
}

// SharePoolClaim asks the peer for shares it holds for this node: those of
// message *id, or of any message if id is nil. At most ctl.MaxClaimShares
// come back per call.
func (c *Client) SharePoolClaim(ctx context.Context, id *protocol.MessageID) ([]ctl.PoolShare, error) {
	cmd := &ctl.SharePoolClaim{ClientID: c.s.self, Any: id == nil}
	if id != nil {
		cmd.MessageID = *id
	}
	var shares []ctl.PoolShare
	err := c.exchange(ctx, cmd, func(next func() (string, error)) error {
		line, err := next()
		if err != nil {
			return err
		}
		r, err := ctl.ParseClaimReply(line)
		if err != nil {
			return err
		}
		for range r.Count {
			line, err := next()
			if err != nil {
				return err
			}
			sh, err := ctl.ParseShareLine(line)
			if err != nil {
				return err
			}
			if sh.Dst != c.s.self || (id != nil && sh.MessageID != *id) {
				return ctl.Errorf(ctl.CodeMalformed, "claim returned a share not asked for")
			}
			shares = append(shares, sh)
		}
		return nil
	})
	return shares, err
}

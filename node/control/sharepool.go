package control

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// RelayModer is implemented by a Delivery that can answer RELAY_OPEN with
// a mode other than forward: ctl.RelayModePool when it will keep the share
// for an offline receiver. serveRelayOpen prefers it to Delivery.RelayOpen.
type RelayModer interface {
	RelayOpenMode(ctx context.Context, from peer.ID, cmd *ctl.RelayOpen) (mode string, err error)
}

// SharePool serves SHARE_POOL_ADD and SHARE_POOL_CLAIM: it is implemented
// by a Delivery that keeps shares for offline receivers (package
// node/delivery). Without one both are answered ERR|501. The server has
// checked that the command's client_id is from's DDT address.
type SharePool interface {
	// SharePoolAdd agrees to keep a share for cmd.Dst whose bytes follow
	// over RDT from the sender.
	SharePoolAdd(ctx context.Context, from peer.ID, cmd *ctl.SharePoolAdd) error
	// SharePoolClaim returns what it holds for cmd.ClientID (at most
	// ctl.MaxHeldShares, of cmd.MessageID unless cmd.Any) and then pushes
	// those shares to from over RDT.
	SharePoolClaim(ctx context.Context, from peer.ID, cmd *ctl.SharePoolClaim) ([]ctl.HeldShare, error)
}

func (s *Service) sharePool() (SharePool, context.Context, context.CancelFunc, error) {
	p, ok := s.delivery().(SharePool)
	if !ok {
		return nil, nil, nil, ctl.Errorf(ctl.CodeNotImplemented, "no share pool")
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
	return p, ctx, cancel, nil
}

func (s *Service) serveSharePoolAdd(c *servedStream, cmd *ctl.SharePoolAdd) ([]byte, error) {
	p, ctx, cancel, err := s.sharePool()
	if err != nil {
		return nil, err
	}
	defer cancel()
	if err := p.SharePoolAdd(ctx, c.peer, cmd); err != nil {
		return nil, err
	}
	return ctl.AppendOK(nil), nil
}

func (s *Service) serveSharePoolClaim(c *servedStream, cmd *ctl.SharePoolClaim) ([]byte, error) {
	p, ctx, cancel, err := s.sharePool()
	if err != nil {
		return nil, err
	}
	defer cancel()
	held, err := p.SharePoolClaim(ctx, c.peer, cmd)
	if err != nil {
		return nil, err
	}
	for i := range held {
		if !cmd.Any && held[i].MessageID != cmd.MessageID {
			return nil, ctl.Errorf(ctl.CodeInternal, "share pool listed a share not asked for")
		}
	}
	return ctl.AppendClaimReply(nil, held)
}

// RelayOpenMode asks relay to take a share, like RelayOpen, and returns
// the mode it answered: ctl.RelayModeForward or ctl.RelayModePool.
func (s *Service) RelayOpenMode(ctx context.Context, relay peer.ID, cmd ctl.RelayOpen) (string, error) {
	c, err := s.Dial(ctx, relay)
	if err != nil {
		return "", err
	}
	defer c.Close()
	cmd.ClientID = s.self
	var mode string
	err = c.exchange(ctx, &cmd, func(next func() (string, error)) error {
		line, err := next()
		if err != nil {
			return err
		}
		mode, err = ctl.ParseRelayReplyMode(line)
		return err
	})
	return mode, err
}

// SharePoolAdd deposits a share with relay for an offline receiver:
// SHARE_POOL_ADD, cmd.ClientID set to this node. After OK the share's
// bytes go to relay over RDT.
func (s *Service) SharePoolAdd(ctx context.Context, relay peer.ID, cmd ctl.SharePoolAdd) error {
	c, err := s.Dial(ctx, relay)
	if err != nil {
		return err
	}
	defer c.Close()
	cmd.ClientID = s.self
	return c.exchange(ctx, &cmd, func(next func() (string, error)) error {
		line, err := next()
		if err != nil {
			return err
		}
		return ctl.ParseOK(line)
	})
}

// SharePoolClaim asks p for the shares it holds for this node: those of
// message *id, or of any message if id is nil. p lists them and then
// pushes them over RDT.
func (s *Service) SharePoolClaim(ctx context.Context, p peer.ID, id *protocol.MessageID) ([]ctl.HeldShare, error) {
	c, err := s.Dial(ctx, p)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	cmd := &ctl.SharePoolClaim{ClientID: s.self, Any: id == nil}
	if id != nil {
		cmd.MessageID = *id
	}
	var held []ctl.HeldShare
	err = c.exchange(ctx, cmd, func(next func() (string, error)) error {
		line, err := next()
		if err != nil {
			return err
		}
		n, err := ctl.ParseClaimCount(line)
		if err != nil {
			return err
		}
		for range n {
			line, err := next()
			if err != nil {
				return err
			}
			h, err := ctl.ParseHeldLine(line)
			if err != nil {
				return err
			}
			if id != nil && h.MessageID != *id {
				return ctl.Errorf(ctl.CodeMalformed, "claim listed a share not asked for")
			}
			held = append(held, h)
		}
		return nil
	})
	return held, err
}

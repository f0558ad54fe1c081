package control

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol/ctl"
)

// RelayModer is implemented by a Delivery that can answer RELAY_OPEN with
// a mode other than forward: ctl.RelayModePool when it will keep the share
// for an offline receiver. serveRelayOpen prefers it to Delivery.RelayOpen.
type RelayModer interface {
	RelayOpenMode(ctx context.Context, from peer.ID, cmd *ctl.RelayOpen) (mode string, err error)
}

// PoolFetcher serves POOL_FETCH: it is implemented by a Delivery that keeps
// shares for offline receivers. It returns what it holds for
// cmd.ClientID (at most ctl.MaxHeldShares) and then pushes those shares to
// from over RDT. Without one POOL_FETCH is answered ERR|501.
type PoolFetcher interface {
	PoolFetch(ctx context.Context, from peer.ID, cmd *ctl.PoolFetch) ([]ctl.HeldShare, error)
}

func (s *Service) servePoolFetch(c *servedStream, cmd *ctl.PoolFetch) ([]byte, error) {
	f, ok := s.delivery().(PoolFetcher)
	if !ok {
		return nil, ctl.Errorf(ctl.CodeNotImplemented, "no share pool")
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
	defer cancel()
	held, err := f.PoolFetch(ctx, c.peer, cmd)
	if err != nil {
		return nil, err
	}
	return ctl.AppendPoolFetchReply(nil, held)
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

// PoolFetch asks p for the shares it holds for this node; p lists them
// and then pushes them over RDT.
func (s *Service) PoolFetch(ctx context.Context, p peer.ID) ([]ctl.HeldShare, error) {
	c, err := s.Dial(ctx, p)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var held []ctl.HeldShare
	err = c.exchange(ctx, &ctl.PoolFetch{ClientID: s.self}, func(next func() (string, error)) error {
		line, err := next()
		if err != nil {
			return err
		}
		n, err := ctl.ParsePoolFetchCount(line)
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
			held = append(held, h)
		}
		return nil
	})
	return held, err
}

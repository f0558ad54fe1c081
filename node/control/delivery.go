package control

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// Delivery serves RELAY_OPEN and DELIVERED: the multipath delivery engine
// (package node/delivery) provides it through SetDelivery. Without one
// both are answered ERR|501. The server has checked that the command's
// client_id is from's DDT address. Errors are mapped to ERR replies with
// ctl.CodeOf (a plain error becomes ERR|500).
type Delivery interface {
	// RelayOpen is asked to forward a share from cmd.ClientID to cmd.Dst.
	RelayOpen(ctx context.Context, from peer.ID, cmd *ctl.RelayOpen) error
	// Delivered is told that cmd.ClientID decoded message cmd.MessageID.
	Delivered(ctx context.Context, from peer.ID, cmd *ctl.Delivered) error
}

// deliveryHolder lets atomic.Pointer hold an interface.
type deliveryHolder struct{ d Delivery }

// SetDelivery installs d to serve RELAY_OPEN and DELIVERED; nil removes
// it. It may be called at any time.
func (s *Service) SetDelivery(d Delivery) {
	if d == nil {
		s.deliv.Store(nil)
		return
	}
	s.deliv.Store(&deliveryHolder{d: d})
}

func (s *Service) delivery() Delivery {
	if h := s.deliv.Load(); h != nil {
		return h.d
	}
	return nil
}

func (s *Service) serveRelayOpen(c *servedStream, cmd *ctl.RelayOpen) ([]byte, error) {
	d := s.delivery()
	if d == nil {
		return nil, ctl.Errorf(ctl.CodeNotImplemented, "no delivery engine")
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
	defer cancel()
	if m, ok := d.(RelayModer); ok {
		mode, err := m.RelayOpenMode(ctx, c.peer, cmd)
		if err != nil {
			return nil, err
		}
		return ctl.AppendRelayReplyMode(nil, mode), nil
	}
	if err := d.RelayOpen(ctx, c.peer, cmd); err != nil {
		return nil, err
	}
	return ctl.AppendRelayReply(nil), nil
}

func (s *Service) serveDelivered(c *servedStream, cmd *ctl.Delivered) ([]byte, error) {
	d := s.delivery()
	if d == nil {
		return nil, ctl.Errorf(ctl.CodeNotImplemented, "no delivery engine")
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
	defer cancel()
	if err := d.Delivered(ctx, c.peer, cmd); err != nil {
		return nil, err
	}
	return ctl.AppendOK(nil), nil
}

// RelayOpen asks relay to forward a share; cmd.ClientID is set to this
// node. It returns nil when the relay answered OK|forward or OK|pool (see
// RelayOpenMode).
func (s *Service) RelayOpen(ctx context.Context, relay peer.ID, cmd ctl.RelayOpen) error {
	_, err := s.RelayOpenMode(ctx, relay, cmd)
	return err
}

// Delivered tells p, the sender of message id, that this node decoded it
// from the shares used.
func (s *Service) Delivered(ctx context.Context, p peer.ID, id protocol.MessageID, used []int) error {
	c, err := s.Dial(ctx, p)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.exchange(ctx, &ctl.Delivered{ClientID: s.self, MessageID: id, Used: used}, func(next func() (string, error)) error {
		line, err := next()
		if err != nil {
			return err
		}
		return ctl.ParseOK(line)
	})
}

package sharepool

import (
	"context"
	"errors"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// ControlPool adapts a Pool to the control service's SharePool interface
// (package node/control): it converts ctl.PoolShare to Entry and maps
// errors to ctl codes. Claims take the shares out of the pool, because the
// control protocol has no command to confirm receipt: a claimant repeats
// SHARE_POOL_CLAIM until it gets none, which would otherwise return the
// same shares forever. A reply lost on the wire thus loses its shares; k of
// n suffice to rebuild a message.
type ControlPool struct {
	Pool *Pool
	// Admit, if set, is asked before a share is stored; an error refuses
	// the share with ERR|403 (unless it carries a ctl code). The node uses
	// it to require a friend token from the sender for the destination.
	Admit func(ctx context.Context, s *ctl.PoolShare) error
}

// Add stores s. s.Src is the authenticated sender.
func (c *ControlPool) Add(ctx context.Context, s ctl.PoolShare) error {
	if c.Admit != nil {
		if err := c.Admit(ctx, &s); err != nil {
			var ce *ctl.Error
			if errors.As(err, &ce) {
				return err
			}
			return ctl.Errorf(ctl.CodeForbidden, "share refused: %w", err)
		}
	}
	if s.Index < 1 || s.Index > 255 || s.N < 2 || s.N > 255 || s.K < 2 || s.K > 255 {
		return ctl.Errorf(ctl.CodeMalformed, "share index %d, n %d, k %d out of range", s.Index, s.N, s.K)
	}
	e := Entry{
		MsgID: s.MessageID, Src: s.Src, Dst: s.Dst,
		ShareIndex: uint8(s.Index), N: uint8(s.N), K: uint8(s.K),
		Data: s.Data,
	}
	return ctlError(c.Pool.Add(e))
}

// Claim takes at most max shares held for dst: those of message *id, or
// of any message when id is nil.
func (c *ControlPool) Claim(_ context.Context, dst protocol.DDTAddr, id *protocol.MessageID, max int) ([]ctl.PoolShare, error) {
	if max <= 0 {
		return nil, nil
	}
	es, err := c.Pool.Take(dst, id, max)
	if err != nil {
		return nil, ctlError(err)
	}
	out := make([]ctl.PoolShare, len(es))
	for i, e := range es {
		out[i] = ctl.PoolShare{
			MessageID: e.MsgID, Src: e.Src, Dst: e.Dst,
			Index: int(e.ShareIndex), N: int(e.N), K: int(e.K),
			Data: e.Data,
		}
	}
	return out, nil
}

// ctlError maps pool errors to ctl codes, keeping the cause for errors.Is.
func ctlError(err error) error {
	var code ctl.Code
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrFull):
		code = ctl.CodeTooLarge
	case errors.Is(err, ErrExists):
		code = ctl.CodeConflict
	case errors.Is(err, ErrInvalid):
		code = ctl.CodeMalformed
	case errors.Is(err, ErrClosed):
		code = ctl.CodeUnavailable
	default:
		return err // ctl maps it to 500
	}
	return ctl.Errorf(code, "%w", err)
}

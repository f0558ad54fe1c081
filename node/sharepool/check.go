package sharepool

import (
	"fmt"

	"github.com/vmdt/vmdt/protocol"
)

// Check reports whether a share of dataLen bytes from src for dst would
// fit now: nil, or the *LimitError (errors.Is ErrFull) or ErrInvalid that
// Add would return. It reserves nothing, so a later Add may still fail
// when others add meanwhile; it lets a relay refuse a share before the
// sender transfers it. Like Add, it drops expired shares when a limit is
// reached, and never evicts live ones.
func (p *Pool) Check(src, dst protocol.DDTAddr, dataLen int) error {
	if dataLen <= 0 || dataLen > p.lim.MaxShareLen {
		return fmt.Errorf("%w: share of %d bytes, limit %d", ErrInvalid, dataLen, p.lim.MaxShareLen)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	cost := EntryCost(dataLen)
	if err := p.fitLocked(src, dst, cost); err != nil {
		p.expireLocked(p.lim.Clock())
		return p.fitLocked(src, dst, cost)
	}
	return nil
}

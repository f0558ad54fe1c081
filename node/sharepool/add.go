package sharepool

import (
	"fmt"
	"time"
)

// Add stores e durably, for e.Dst to claim until it expires. e.Added is
// set to the pool's clock and e.Expires to Added+TTL, or kept when it is
// earlier than that and after Added.
//
// A share that does not fit is refused with a *LimitError (errors.Is
// ErrFull) naming the limit; Add never evicts other shares to make room,
// though it does drop expired ones. Adding a share already held (same
// message id, source, destination and index) with the same n, k and data
// does nothing and returns nil, so senders may retry; with different
// contents it returns ErrExists. Add returns when the entry file is
// synced to disk.
func (p *Pool) Add(e Entry) error {
	if err := e.checkShape(); err != nil {
		return err
	}
	if len(e.Data) > p.lim.MaxShareLen {
		return fmt.Errorf("%w: share of %d bytes, limit %d", ErrInvalid, len(e.Data), p.lim.MaxShareLen)
	}
	k := e.key()
	p.mu.Lock()
	for {
		if err := p.beginLocked(); err != nil {
			p.mu.Unlock()
			return err
		}
		m := p.entries[k]
		if m == nil || m.busy == nil {
			break
		}
		// Another call is writing or taking this key; wait and look again.
		busy := m.busy
		p.mu.Unlock()
		p.ops.Done()
		<-busy
		p.mu.Lock()
	}
	defer p.ops.Done()
	now := p.lim.Clock()
	if m := p.entries[k]; m != nil {
		if m.expires.After(now) {
			p.mu.Unlock()
			if m.sameShare(&e) {
				return nil
			}
			return fmt.Errorf("%w: message %s index %d", ErrExists, e.MsgID, e.ShareIndex)
		}
		p.dropLocked(m)
	}

	// Times go to disk in nanoseconds without a monotonic reading; strip it
	// now so that entries compare equal before and after a restart.
	e.Added = time.Unix(0, now.UnixNano())
	if exp := e.Added.Add(p.lim.TTL); e.Expires.IsZero() || !e.Expires.Before(exp) {
		e.Expires = exp
	} else if !e.Expires.After(e.Added) {
		p.mu.Unlock()
		return fmt.Errorf("%w: expires %v, before it is added", ErrInvalid, e.Expires)
	} else {
		e.Expires = time.Unix(0, e.Expires.UnixNano())
	}
	cost := EntryCost(len(e.Data))
	if err := p.fitLocked(e.Src, e.Dst, cost); err != nil {
		p.expireLocked(now)
		if err = p.fitLocked(e.Src, e.Dst, cost); err != nil {
			p.mu.Unlock()
			return err
		}
	}
	m := newMeta(&e)
	m.busy = make(chan struct{})
	p.insertLocked(m)
	p.mu.Unlock()

	err := writeFileAtomic(p.dir, k.fileName(), appendEntryFile(make([]byte, 0, fileLen(len(e.Data))), &e))

	p.mu.Lock()
	if err != nil {
		p.dropLocked(m) // the rename may have happened
	}
	close(m.busy)
	m.busy = nil
	p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("share pool: store share: %w", err)
	}
	return nil
}

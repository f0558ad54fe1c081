package sharepool

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

// Claim returns copies of the live shares held for dst: those of message
// *msgID, or of every message when msgID is nil, oldest first. It leaves
// them in the pool; Delete them once the receiver has them, or use Take.
// An entry whose file turns out corrupt is dropped and left out.
func (p *Pool) Claim(dst protocol.DDTAddr, msgID *protocol.MessageID) ([]Entry, error) {
	p.mu.Lock()
	if err := p.beginLocked(); err != nil {
		p.mu.Unlock()
		return nil, err
	}
	defer p.ops.Done()
	ms := p.selectLocked(dst, msgID, 0)
	p.mu.Unlock()

	out := make([]Entry, 0, len(ms))
	for _, m := range ms {
		e, err := p.read(m)
		if err != nil {
			if errors.Is(err, ErrCorrupt) {
				p.mu.Lock()
				if p.entries[m.key] == m && m.busy == nil {
					p.dropLocked(m)
				}
				p.mu.Unlock()
			}
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// Take returns up to max (all if max <= 0) live shares held for dst, of
// message *msgID or of any message when msgID is nil, oldest first, and
// removes them from the pool. A share is returned by at most one Take.
func (p *Pool) Take(dst protocol.DDTAddr, msgID *protocol.MessageID, max int) ([]Entry, error) {
	p.mu.Lock()
	if err := p.beginLocked(); err != nil {
		p.mu.Unlock()
		return nil, err
	}
	defer p.ops.Done()
	ms := p.selectLocked(dst, msgID, max)
	for _, m := range ms {
		m.busy = make(chan struct{})
	}
	p.mu.Unlock()

	out := make([]Entry, 0, len(ms))
	for _, m := range ms {
		if e, err := p.read(m); err == nil {
			out = append(out, e)
		}
	}

	p.mu.Lock()
	for _, m := range ms {
		p.dropLocked(m)
		close(m.busy)
		m.busy = nil
	}
	p.mu.Unlock()
	return out, nil
}

// Delete drops the shares held for dst of message msgID with the given
// index (from any source), typically after the receiver confirmed it has
// them. It returns ErrNotFound when there is none.
func (p *Pool) Delete(dst protocol.DDTAddr, msgID protocol.MessageID, index uint8) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	n := 0
	for k, m := range p.byDst[dst] {
		if k.msg == msgID && k.index == index && m.busy == nil {
			p.dropLocked(m)
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("%w: message %s index %d", ErrNotFound, msgID, index)
	}
	return nil
}

// Expire drops every share that has expired at now and returns how many
// it dropped.
func (p *Pool) Expire(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0
	}
	return p.expireLocked(now)
}

func (p *Pool) expireLocked(now time.Time) int {
	n := 0
	for _, m := range p.entries {
		if m.busy == nil && !m.expires.After(now) {
			p.dropLocked(m)
			n++
		}
	}
	return n
}

// selectLocked returns the live entries for dst (of msgID if not nil),
// oldest first, at most max of them if max > 0.
func (p *Pool) selectLocked(dst protocol.DDTAddr, msgID *protocol.MessageID, max int) []*meta {
	now := p.lim.Clock()
	var ms []*meta
	for k, m := range p.byDst[dst] {
		if (msgID == nil || k.msg == *msgID) && m.live(now) {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b *meta) int {
		if c := a.added.Compare(b.added); c != 0 {
			return c
		}
		if c := bytes.Compare(a.msg[:], b.msg[:]); c != 0 {
			return c
		}
		if c := bytes.Compare(a.src[:], b.src[:]); c != 0 {
			return c
		}
		return int(a.index) - int(b.index)
	})
	if max > 0 && len(ms) > max {
		ms = ms[:max]
	}
	return ms
}

// read loads m's file and checks that it still holds m. A missing file
// (deleted meanwhile) is ErrNotFound; anything else wrong is logged.
func (p *Pool) read(m *meta) (Entry, error) {
	e, err := readEntryFile(filepath.Join(p.dir, m.fileName()))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Entry{}, ErrNotFound
	case err == nil && !m.matches(&e):
		return Entry{}, ErrNotFound // replaced by a later entry of the same key
	case err != nil:
		log.Warnw("cannot read share file", "file", m.fileName(), "err", err)
		return Entry{}, err
	}
	return e, nil
}

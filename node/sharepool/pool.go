package sharepool

import (
	"fmt"
	"os"
	"sync"
	"time"

	logging "github.com/ipfs/go-log/v2"

	"github.com/vmdt/vmdt/protocol"
)

var log = logging.Logger("vmdt/sharepool")

// Pool is a persistent, bounded share pool. Its methods are safe for
// concurrent use.
type Pool struct {
	dir  string
	lim  Limits
	done chan struct{}  // closed by Close to stop the janitor
	bg   sync.WaitGroup // the janitor
	ops  sync.WaitGroup // calls in flight; Close waits for them

	mu      sync.Mutex
	closed  bool
	entries map[key]*meta
	byDst   map[protocol.DDTAddr]map[key]*meta
	total   Usage
	perDst  map[protocol.DDTAddr]Usage
	perSrc  map[protocol.DDTAddr]Usage
}

// meta is what the pool keeps in memory about an entry; the share itself
// stays on disk.
type meta struct {
	key
	n, k           uint8
	dataLen        int
	sum            uint32 // CRC-32C of the share
	cost           int64
	added, expires time.Time
	// busy is non-nil while the entry's file is being written or taken.
	// Such an entry counts against the limits but is invisible to Claim,
	// Delete and Expire; an Add of the same key waits for it.
	busy chan struct{}
}

// Usage is what a pool, a receiver or a sender holds.
type Usage struct {
	Entries int
	Bytes   int64 // charged bytes (EntryCost)
}

// Open opens the pool kept in dir, creating dir if needed. It reads every
// entry file, drops expired, corrupt and partial ones (logging each), and
// rebuilds the accounting. Entries found on disk are kept even if they
// exceed lowered limits; new shares are then refused until usage falls.
func Open(dir string, lim Limits) (*Pool, error) {
	lim, err := lim.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("share pool: %w", err)
	}
	p := &Pool{
		dir:     dir,
		lim:     lim,
		done:    make(chan struct{}),
		entries: make(map[key]*meta),
		byDst:   make(map[protocol.DDTAddr]map[key]*meta),
		perDst:  make(map[protocol.DDTAddr]Usage),
		perSrc:  make(map[protocol.DDTAddr]Usage),
	}
	now := lim.Clock()
	err = loadDir(dir, func(e *Entry) bool {
		if !e.Expires.After(now) {
			return false
		}
		p.insertLocked(newMeta(e))
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("share pool: %w", err)
	}
	if p.total.Bytes > lim.Total || p.total.Entries > lim.MaxEntries {
		log.Warnw("share pool holds more than its limits", "entries", p.total.Entries, "bytes", p.total.Bytes)
	}
	if lim.SweepInterval > 0 {
		p.bg.Add(1)
		go p.janitor(lim.SweepInterval)
	}
	return p, nil
}

// Close stops the janitor and waits for calls in flight. Later calls fail
// with ErrClosed. Close is idempotent.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	p.bg.Wait()
	p.ops.Wait()
	return nil
}

func (p *Pool) janitor(every time.Duration) {
	defer p.bg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			if n := p.Expire(p.lim.Clock()); n > 0 {
				log.Debugw("expired shares", "count", n)
			}
		}
	}
}

// beginLocked registers a call in flight, or reports ErrClosed.
func (p *Pool) beginLocked() error {
	if p.closed {
		return ErrClosed
	}
	p.ops.Add(1)
	return nil
}

// Usage returns what the pool holds in all.
func (p *Pool) Usage() Usage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// RecipientUsage returns what the pool holds for dst.
func (p *Pool) RecipientUsage(dst protocol.DDTAddr) Usage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.perDst[dst]
}

// SenderUsage returns what the pool holds from src.
func (p *Pool) SenderUsage(src protocol.DDTAddr) Usage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.perSrc[src]
}

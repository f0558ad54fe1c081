package sharepool

import (
	"fmt"
	"time"
)

// Defaults for the zero fields of Limits.
const (
	DefaultPerRecipient  = 64 << 20         // bytes held for one receiver
	DefaultPerSender     = 16 << 20         // bytes held from one sender, over all receivers
	DefaultTotal         = 1 << 30          // bytes held in all
	DefaultMaxShareLen   = DefaultPerSender // a longer share could never fit the default per-sender cap
	DefaultTTL           = 7 * 24 * time.Hour
	DefaultMaxEntries    = DefaultTotal / BlockSize // 262144 files
	DefaultSweepInterval = 10 * time.Minute
)

// Limits bounds a Pool. The zero value of every field means its default.
// Byte limits count each entry's charged size (EntryCost), not its share
// length.
type Limits struct {
	// PerRecipient caps the bytes held for one destination (default
	// 64 MiB, 16384 entries): what one receiver's friends together may
	// park here.
	PerRecipient int64
	// PerSender caps the bytes held from one source over all destinations
	// (default 16 MiB, 4096 entries). It is counted per sender overall,
	// not per sender and receiver, because a sender chooses destination
	// addresses freely: a per-pair cap would let one sender fill the pool
	// by naming many receivers.
	PerSender int64
	// Total caps the bytes held in all (default 1 GiB).
	Total int64
	// MaxEntries caps the number of entry files (default 262144, which
	// is Total/BlockSize).
	MaxEntries int
	// MaxShareLen caps the length of one share (default 16 MiB, the
	// default per-sender cap; at most MaxDataLen). Shares are sealed
	// envelopes taken over RDT, so they may be MiBs long.
	MaxShareLen int
	// TTL is how long a share is held (default 7 days, the hold of a
	// username: a receiver that keeps its name alive by coming online at
	// least weekly never misses a pooled share).
	TTL time.Duration
	// SweepInterval is how often a background janitor drops expired
	// shares (default 10 minutes; negative disables the janitor, leaving
	// expiry to Expire and to Add when a limit is reached). Expired shares
	// are never returned either way.
	SweepInterval time.Duration
	// Clock returns the current time (default time.Now). Tests set it.
	Clock func() time.Time
}

func (l Limits) withDefaults() (Limits, error) {
	if l.PerRecipient == 0 {
		l.PerRecipient = DefaultPerRecipient
	}
	if l.PerSender == 0 {
		l.PerSender = DefaultPerSender
	}
	if l.Total == 0 {
		l.Total = DefaultTotal
	}
	if l.MaxEntries == 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxShareLen == 0 {
		l.MaxShareLen = DefaultMaxShareLen
	}
	if l.TTL == 0 {
		l.TTL = DefaultTTL
	}
	if l.SweepInterval == 0 {
		l.SweepInterval = DefaultSweepInterval
	}
	if l.Clock == nil {
		l.Clock = time.Now
	}
	switch {
	case l.PerRecipient < 0, l.PerSender < 0, l.Total < 0, l.MaxEntries < 0, l.TTL < 0:
		return l, fmt.Errorf("%w: negative limit", ErrInvalid)
	case l.MaxShareLen < 0 || l.MaxShareLen > MaxDataLen:
		return l, fmt.Errorf("%w: MaxShareLen %d, want 1..%d", ErrInvalid, l.MaxShareLen, MaxDataLen)
	}
	return l, nil
}

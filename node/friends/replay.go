package friends

import (
	"fmt"
	"sync"
	"time"

	"github.com/vmdt/vmdt/protocol"
)

// DefaultReplayCapacity is the number of nonces a ReplayWindow holds when
// created with capacity 0.
const DefaultReplayCapacity = 4096

// ReplayWindow remembers the nonces of requests it admitted for as long
// as those requests pass the freshness check (MaxRequestAge after their
// time, plus MaxClockSkew), so that a captured request cannot be replayed:
// before the window ends its nonce is known, after it the request is
// stale. It is safe for concurrent use.
type ReplayWindow struct {
	mu   sync.Mutex
	max  int
	seen map[seenKey]time.Time // -> when it may be forgotten
}

// seenKey names a request by requester and nonce, so that one requester
// cannot spend another's nonce.
type seenKey struct {
	from  protocol.DDTAddr
	nonce Nonce
}

// NewReplayWindow returns a window that holds at most capacity nonces
// (DefaultReplayCapacity if capacity <= 0).
func NewReplayWindow(capacity int) *ReplayWindow {
	if capacity <= 0 {
		capacity = DefaultReplayCapacity
	}
	return &ReplayWindow{max: capacity, seen: make(map[seenKey]time.Time)}
}

// Admit records r's requester and nonce at time now. It returns ErrReplay if the nonce
// was admitted before and ErrBusy if the window is full of nonces that
// cannot be forgotten yet; it fails closed rather than forget a live one.
// Call it after r.Verify succeeded, so that forged requests take no room.
func (w *ReplayWindow) Admit(r *FriendRequest, now time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := seenKey{from: r.Addr(), nonce: r.Nonce}
	if _, ok := w.seen[k]; ok {
		return fmt.Errorf("%w: nonce %s", ErrReplay, r.Nonce)
	}
	if len(w.seen) >= w.max {
		for old, until := range w.seen {
			if !until.After(now) {
				delete(w.seen, old)
			}
		}
		if len(w.seen) >= w.max {
			return ErrBusy
		}
	}
	w.seen[k] = r.Time.Add(MaxRequestAge + MaxClockSkew)
	return nil
}

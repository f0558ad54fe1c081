package delivery

import (
	"bytes"
	"time"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/rdt"
)

// Early data: taking the announcement off the critical path.
//
// A share of at most EarlyShareLen bytes is sent over RDT at once, while
// its RELAY_OPEN (or SHARE_POOL_ADD) is still on its way to the relay, so
// a small message costs one relay round trip less. The relay keeps the
// segments of a share nobody has announced yet (or whose announcement it
// is still serving) for EarlyTTL, at most EarlyShareLen bytes of each
// share, EarlyPerSession bytes per RDT session and MaxEarlyBytes in all,
// and hands them on when the announcement is accepted (flushEarly). A
// refused announcement, an abandoned transfer or the TTL drops them.
//
// RDT acknowledges segments hop by hop, so a segment dropped here is lost
// to its share: the sender's RELAY_OPEN is then refused (and the share
// goes to a spare relay) or the share never completes, and the receiver
// decodes from the others. Only a sender that ignores EarlyShareLen, or
// an overloaded relay, gets there. Larger shares are announced first and
// sent after the relay accepted them, as before.

// earlyShare holds the segments of one share that came before its
// announcement was accepted.
type earlyShare struct {
	at    time.Time
	from  string // the RDT session of the first segment
	bytes int
	segs  []rdt.Segment // Payload copied
}

// canSendEarly reports whether a share of n bytes is sent while its
// announcement is on the way.
func (e *Engine) canSendEarly(n int) bool { return n <= e.cfg.EarlyShareLen }

// stashEarlyLocked keeps a copy of s, a segment of a share that is not
// (yet) announced, within the limits. The caller holds e.mu.
func (e *Engine) stashEarlyLocked(key relayKey, s rdt.Segment, from string) {
	now := e.cfg.Now()
	if now.Sub(e.earlySwept) >= e.cfg.EarlyTTL/4 {
		e.expireEarlyLocked(now) // not on every segment: it walks every kept share
		e.earlySwept = now
	}
	es := e.early[key]
	n := len(s.Payload)
	switch {
	case es != nil && es.from != from:
		return // the first session owns the share, as for forwarding
	case es != nil && es.bytes+n > e.cfg.EarlyShareLen,
		es == nil && n > e.cfg.EarlyShareLen,
		e.earlyBytes+n > e.cfg.MaxEarlyBytes,
		e.earlyPerSession[from]+n > e.cfg.EarlyPerSession:
		log.Debugw("early segment dropped: limit", "message", key.id, "share", key.index, "from", from)
		return
	}
	if es == nil {
		es = &earlyShare{at: now, from: from}
		e.early[key] = es
	}
	s.Payload = bytes.Clone(s.Payload)
	es.segs = append(es.segs, s)
	es.bytes += n
	e.earlyBytes += n
	e.earlyPerSession[from] += n
}

// takeEarlyLocked removes and returns the segments kept for key.
func (e *Engine) takeEarlyLocked(key relayKey) []rdt.Segment {
	es := e.early[key]
	if es == nil {
		return nil
	}
	e.dropEarlyLocked(key, es)
	return es.segs
}

func (e *Engine) dropEarlyLocked(key relayKey, es *earlyShare) {
	delete(e.early, key)
	e.earlyBytes -= es.bytes
	if e.earlyPerSession[es.from] -= es.bytes; e.earlyPerSession[es.from] <= 0 {
		delete(e.earlyPerSession, es.from)
	}
}

// expireEarlyLocked drops shares kept longer than EarlyTTL.
func (e *Engine) expireEarlyLocked(now time.Time) {
	for key, es := range e.early {
		if now.Sub(es.at) > e.cfg.EarlyTTL {
			e.dropEarlyLocked(key, es)
		}
	}
}

// flushEarly hands the segments that came before the announcement of key
// was accepted to the share's forward transfer or pool entry.
func (e *Engine) flushEarly(key relayKey) {
	e.mu.Lock()
	segs := e.takeEarlyLocked(key)
	e.mu.Unlock()
	log.Debugw("announcement accepted", "message", key.id, "share", key.index, "early", len(segs))
	for _, s := range segs {
		e.forwardSegment(s)
	}
}

// dropEarly forgets the segments kept for key (its announcement was
// refused, or its transfer ended).
func (e *Engine) dropEarly(key relayKey) {
	e.mu.Lock()
	e.takeEarlyLocked(key)
	e.mu.Unlock()
}

// headerKey is the relayKey of the share a VMDT header belongs to.
func headerKey(h protocol.VMDTHeader) relayKey {
	return relayKey{src: h.Src, id: h.MessageID, index: h.ShareIndex}
}

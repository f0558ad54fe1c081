package delivery

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/delivery/assemble"
	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
	"github.com/vmdt/vmdt/rdt"
)

// inKey names an inbound message. The parameters are part of it so that
// one relay's datagram with wrong ones cannot fix them for the others.
type inKey struct {
	src      protocol.DDTAddr
	id       protocol.MessageID
	n, k     uint8
	shareLen uint32
}

// inbound is a message being assembled.
type inbound struct {
	key     inKey
	from    string // username, or "" if the friend store has none
	started time.Time

	mu     sync.Mutex
	m      *assemble.Message
	last   time.Time // last segment with new bytes
	queued bool      // in decodeQ
	done   bool      // decoded; late segments must not decode (and confirm) it again
}

// receiveSegment feeds a segment of a message for this node to its
// assembler, creating one for a new message from a friend, and queues the
// message for decoding when it is ready.
func (e *Engine) receiveSegment(s rdt.Segment) {
	h := s.Header
	key := inKey{src: h.Src, id: h.MessageID, n: h.N, k: h.K, shareLen: h.ShareLen}
	now := e.cfg.Now()
	e.mu.Lock()
	if _, done := e.finished[key.doneKey()]; done {
		e.mu.Unlock()
		return
	}
	in := e.inbound[key]
	if in == nil {
		name, ok := e.cfg.Friends.Friend(h.Src)
		if !ok {
			e.finished[key.doneKey()] = now
			e.mu.Unlock()
			log.Infow("message from a non-friend dropped", "src", h.Src, "message", h.MessageID)
			return
		}
		if len(e.inbound) >= e.cfg.MaxInbound {
			e.mu.Unlock()
			log.Debugw("too many inbound messages", "src", h.Src, "message", h.MessageID)
			return
		}
		m, err := assemble.New(assemble.ParamsFromHeader(h, e.cfg.SealKey), assemble.Limits{MaxBytes: e.cfg.MaxMessageBytes})
		if err != nil {
			e.mu.Unlock()
			log.Debugw("inbound message refused", "src", h.Src, "message", h.MessageID, "err", err)
			return
		}
		in = &inbound{key: key, from: name, started: now, m: m, last: now}
		log.Debugw("message started", "src", key.src, "message", key.id)
		e.inbound[key] = in
	}
	e.mu.Unlock()

	in.mu.Lock()
	pr, err := in.m.AddVMDT(h, s.Payload)
	if pr.New > 0 {
		in.last = now
	}
	queue := in.m.Ready() && !in.queued && !in.done
	if queue {
		in.queued = true
		log.Debugw("message ready", "message", h.MessageID)
	}
	in.mu.Unlock()
	if err != nil {
		log.Debugw("segment rejected", "src", h.Src, "message", h.MessageID, "share", h.ShareIndex, "err", err)
	}
	if queue {
		e.enqueue(in)
	}
}

// doneKey is the key finished messages are remembered under: any
// parameters.
func (k inKey) doneKey() inKey { return inKey{src: k.src, id: k.id} }

func (e *Engine) enqueue(in *inbound) {
	e.mu.Lock()
	e.decodeQ = append(e.decodeQ, in)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// decodeLoop decodes ready messages off the read loop, frees stale ones
// and, hourly, deletes files whose transfer stopped.
func (e *Engine) decodeLoop() {
	defer e.wg.Done()
	tick := time.NewTicker(max(e.cfg.InboundTimeout/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-tick.C:
			e.expire()
			e.sweepFiles()
		case <-e.wake:
		}
		for {
			e.mu.Lock()
			if len(e.decodeQ) == 0 {
				e.mu.Unlock()
				break
			}
			in := e.decodeQ[0]
			e.decodeQ = e.decodeQ[1:]
			e.mu.Unlock()
			e.decode(in)
		}
	}
}

// decode tries to decode in; on success it stores the message, abandons
// its remaining transfers and confirms delivery to the sender.
func (e *Engine) decode(in *inbound) {
	in.mu.Lock()
	if in.done {
		// A segment that raced with the decode queued the message again.
		in.queued = false
		in.mu.Unlock()
		return
	}
	msg, rep, err := in.m.Result()
	in.queued = false
	in.done = err == nil
	var sender peer.ID
	var perr error
	var chunk envelope.Chunk
	if err == nil {
		if p := in.m.Manifest(); p != nil {
			sender, perr = peer.IDFromPublicKey(p.Sender)
			chunk = p.Chunk
		}
	} else if in.m.Ready() {
		in.queued = true // something changed that may help
	}
	requeue := in.queued
	in.mu.Unlock()
	if err != nil {
		if !errors.Is(err, assemble.ErrUnauthenticated) && !errors.Is(err, assemble.ErrNotReady) {
			log.Debugw("decode failed", "src", in.key.src, "message", in.key.id, "err", err)
		}
		if requeue {
			e.enqueue(in)
		}
		return
	}

	e.mu.Lock()
	delete(e.inbound, in.key)
	e.finished[in.key.doneKey()] = e.cfg.Now()
	e.mu.Unlock()
	e.cfg.Transport.AbandonMessage(in.key.src, in.key.id)
	log.Debugw("message decoded", "src", in.key.src, "message", in.key.id, "size", len(msg))

	used := make([]int, len(rep.Used))
	for i, u := range rep.Used {
		used[i] = int(u)
	}
	var bad []int
	for _, b := range rep.Bad {
		bad = append(bad, int(b.Index))
	}
	from := in.from
	if from == "" {
		from = in.key.src.String()
	}
	ent := Entry{ID: in.key.id.String(), From: from, Src: in.key.src.String(), Size: len(msg),
		Received: e.cfg.Now().UTC(), Used: used, Rejected: bad}
	if !chunk.IsZero() {
		if !e.receiveFilePart(ent, chunk, msg) {
			return // refused: no confirmation
		}
	} else if stored, err := e.inbox.Put(ent, msg); err != nil {
		log.Warnw("inbox", "message", ent.ID, "err", err)
		if !errors.Is(err, ErrExists) {
			return // not stored: no confirmation
		}
	} else if e.cfg.OnMessage != nil {
		e.cfg.OnMessage(stored)
	}
	if perr != nil || sender == "" {
		log.Warnw("cannot confirm delivery: sender peer id", "message", ent.ID, "err", perr)
		return
	}
	e.confirm(sender, in.key.id, used)
}

// confirm sends DELIVERED for message id to the sender's peer on an
// engine goroutine, retrying with backoff (250 ms doubling to 4 s) for up
// to Config.DeliveredRetry while it cannot be sent. It stops early when
// the sender answers that it is not waiting for the message (ERR|404) or
// refuses it (ERR|403), and when the engine closes.
func (e *Engine) confirm(sender peer.ID, id protocol.MessageID, used []int) {
	e.mu.Lock()
	if e.ctx.Err() != nil {
		e.mu.Unlock()
		return
	}
	e.wg.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.wg.Done()
		giveUp := time.Now().Add(e.cfg.DeliveredRetry)
		wait := 250 * time.Millisecond
		for attempt := 1; ; attempt++ {
			ctx, cancel := context.WithTimeout(e.ctx, e.cfg.RelayOpenTimeout)
			err := e.withFinder(ctx, sender, func() error {
				return e.cfg.Control.Delivered(ctx, sender, id, used)
			})
			cancel()
			if err == nil {
				log.Debugw("delivery confirmed", "message", id, "sender", sender)
				return
			}
			code := ctl.CodeOf(err)
			if code == ctl.CodeUnknown || code == ctl.CodeForbidden || e.ctx.Err() != nil ||
				time.Now().Add(wait).After(giveUp) {
				log.Infow("delivery confirmation not sent", "message", id, "sender", sender, "attempts", attempt, "err", err)
				return
			}
			log.Debugw("delivery confirmation failed; retrying", "message", id, "sender", sender, "in", wait, "err", err)
			t := time.NewTimer(wait)
			select {
			case <-e.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			wait = min(2*wait, 4*time.Second)
		}
	}()
}

// expire frees messages without progress for InboundTimeout and forgets
// finished ones after twice that.
func (e *Engine) expire() {
	now := e.cfg.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, in := range e.inbound {
		in.mu.Lock()
		stale := now.Sub(in.last) > e.cfg.InboundTimeout && !in.queued
		in.mu.Unlock()
		if stale {
			delete(e.inbound, k)
			log.Infow("inbound message expired", "src", k.src, "message", k.id)
		}
	}
	for p, until := range e.unresponsive {
		if now.After(until) {
			delete(e.unresponsive, p)
		}
	}
	for k, t := range e.finished {
		if now.Sub(t) > 2*e.cfg.InboundTimeout {
			delete(e.finished, k)
		}
	}
}

package delivery

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
	"github.com/vmdt/vmdt/rdt"
	"github.com/vmdt/vmdt/ssms"
)

// Report statuses.
const (
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// Share outcomes in a Report.
const (
	OutcomeUsed      = "used"      // the receiver decoded the message with this share
	OutcomeRelayed   = "relayed"   // the relay took every byte; the receiver did not need it
	OutcomeAbandoned = "abandoned" // stopped because the receiver had enough shares
	OutcomeCancelled = "cancelled" // stopped by the sender (delivered, failed or cancelled)
	OutcomeRefused   = "refused"   // the relay refused RELAY_OPEN; Detail says why
	OutcomeFailed    = "failed"    // the transfer to the relay failed; Detail says why
)

// Report says what became of one Send.
type Report struct {
	ID     protocol.MessageID
	Status string // StatusDelivered, StatusPooled or StatusFailed
	Shares []ShareReport
	// Used holds the share indexes the receiver decoded from, as it
	// reported them; empty unless delivered.
	Used []int
}

// ShareReport is the fate of one share.
type ShareReport struct {
	Index     int // 1..n
	RelayPeer peer.ID
	Outcome   string
	Detail    string // the error, for OutcomeRefused and OutcomeFailed
}

// pendingSend waits for the receiver's DELIVERED.
type pendingSend struct {
	dst       protocol.DDTAddr
	delivered chan []int // buffered, 1
}

// Send delivers msg to the user dstName through n relays, k of whose
// shares suffice: it resolves the receiver, checks that it holds the
// receiver's friend token (else ErrNotFriends), picks n responsive relays
// spread over network prefixes (else a *NotEnoughRelaysError), announces
// share i to relay i with RELAY_OPEN, sends the n sealed envelopes
// concurrently over RDT, and returns once the receiver confirms with
// DELIVERED, or, if the receiver is offline, once at least k shares were
// taken into relays' share pools (Report.Status StatusPooled, nil error).
// If the receiver goes offline mid-transfer, relays with a share pool keep
// its shares; when Config.DeliveryTimeout passes without DELIVERED, at
// least k relays took every byte and the receiver is unreachable, Send
// reports StatusPooled with those shares OutcomeHeld (fallback.go).
// A share whose relay fails is re-sent through a spare relay when more
// than n-k have failed. It fails with ErrUndeliverable when more than n-k
// shares fail and no spare relay is left, ErrNoConfirmation after Config.DeliveryTimeout, or ctx's error;
// the Report says what became of each share in every case.
func (e *Engine) Send(ctx context.Context, dstName string, msg []byte, n, k int) (Report, error) {
	return e.send(ctx, dstName, msg, n, k, nil)
}

// send is Send with envelope options (a file chunk's place in its file).
func (e *Engine) send(ctx context.Context, dstName string, msg []byte, n, k int, opts *envelope.Options) (_ Report, err error) {
	if k < 2 || n < k || n > 255 {
		return Report{}, fmt.Errorf("%w: need 2 <= k <= n <= 255, have n=%d k=%d", ErrInvalidParams, n, k)
	}
	if e.ctx.Err() != nil {
		return Report{}, ErrClosed
	}
	rec, err := e.resolve(ctx, dstName)
	if err != nil {
		return Report{}, fmt.Errorf("delivery: resolve %q: %w", dstName, err)
	}
	defer func() {
		// The record may be stale: resolve afresh next time.
		if err != nil || receiverOffline(ctx) {
			e.forgetName(dstName)
		}
	}()
	if rec.DDTAddr == e.self || rec.PeerID == e.selfPeer {
		return Report{}, fmt.Errorf("%w: %q is this node", ErrInvalidParams, dstName)
	}
	if owner, err := ddtOfPeer(rec.PeerID); err != nil || owner != rec.DDTAddr {
		return Report{}, fmt.Errorf("%w: record of %q names a peer that does not own its address", ErrInvalidParams, dstName)
	}
	tok, ok := e.cfg.Friends.TokenFor(rec.DDTAddr)
	if !ok {
		return Report{}, fmt.Errorf("%w: %q (%s)", ErrNotFriends, dstName, rec.DDTAddr)
	}
	tokBytes, err := tok.Marshal()
	if err != nil {
		return Report{}, fmt.Errorf("%w: token for %q: %v", ErrNotFriends, dstName, err)
	}
	sealPub, err := ecdh.X25519().NewPublicKey(rec.SealKey)
	if err != nil {
		return Report{}, fmt.Errorf("%w: seal key of %q: %v", ErrInvalidParams, dstName, err)
	}

	// The receiver check (offline: deposit with SHARE_POOL_ADD,
	// deposit.go) runs while the relays are probed.
	checked := make(chan context.Context, 1)
	go func() { checked <- e.checkReceiver(ctx, rec.PeerID) }()
	relays, err := e.pickRelays(ctx, n, rec.PeerID)
	ctx = <-checked
	if err != nil {
		return Report{}, err
	}
	shares, err := ssms.Split(msg, n, k)
	if err != nil {
		return Report{}, fmt.Errorf("delivery: split: %w", err)
	}
	id, ok := ctx.Value(messageIDKey{}).(protocol.MessageID)
	if !ok {
		if _, err := rand.Read(id[:]); err != nil {
			return Report{}, err
		}
	}
	envs, err := envelope.Seal(e.cfg.Identity, sealPub, rec.DDTAddr, id, shares, opts)
	if err != nil {
		return Report{}, fmt.Errorf("delivery: seal: %w", err)
	}
	log.Debugw("sending", "message", id, "dst", dstName, "bytes", len(msg), "n", n, "k", k)
	rep, err := e.sendShares(ctx, rec.DDTAddr, rec.PeerID, id, n, k, tokBytes, relays, envs)
	log.Debugw("send ended", "message", id, "status", rep.Status, "err", err)
	if f, ok := ctx.Value(reportObserverKey{}).(func(Report)); ok {
		f(rep)
	}
	return rep, err
}

// shareResult is the end of one share's transfer.
type shareResult struct {
	i       int // 0-based
	outcome string
	detail  string
}

func (e *Engine) sendShares(ctx context.Context, dst protocol.DDTAddr, dstPeer peer.ID, id protocol.MessageID,
	n, k int, tok []byte, relays []candidate, envs [][]byte) (Report, error) {
	rep := Report{ID: id, Status: StatusFailed, Shares: make([]ShareReport, n)}
	for i, r := range relays {
		rep.Shares[i] = ShareReport{Index: i + 1, RelayPeer: r.peer}
	}
	ps := &pendingSend{dst: dst, delivered: make(chan []int, 1)}
	e.mu.Lock()
	e.sends[id] = ps
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.sends, id)
		e.mu.Unlock()
	}()

	sendCtx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(e.ctx, cancel)
	defer stop()
	results := make(chan shareResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- e.sendShare(sendCtx, dst, dstPeer, id, i, n, k, tok, relays[i], envs[i])
		}()
	}
	finish := func() {
		cancel()
		wg.Wait()
		e.cfg.Transport.AbandonMessage(e.self, id)
		close(results)
		for r := range results {
			rep.Shares[r.i].Outcome, rep.Shares[r.i].Detail = r.outcome, r.detail
		}
	}

	deadline, cancelDeadline := context.WithTimeout(ctx, e.cfg.DeliveryTimeout)
	defer cancelDeadline()
	failed := 0
	sp := newSpares(e, dstPeer, relays) // relays for shares whose relay failed (spare.go)
	settled, pooled := 0, 0             // shares with a final outcome; those pooled
	var err error
loop:
	for {
		select {
		case used := <-ps.delivered:
			rep.Status, rep.Used = StatusDelivered, used
			break loop
		case r := <-results:
			rep.Shares[r.i].Outcome, rep.Shares[r.i].Detail = r.outcome, r.detail
			if r.outcome == OutcomeRefused || r.outcome == OutcomeFailed {
				if failed+1 > n-k {
					if c, ok := sp.next(sendCtx); ok {
						log.Infow("share resent through a spare relay", "message", id, "share", r.i+1, "relay", c.peer,
							"failed", rep.Shares[r.i].RelayPeer, "err", r.detail)
						rep.Shares[r.i] = ShareReport{Index: r.i + 1, RelayPeer: c.peer}
						wg.Add(1)
						go func() {
							defer wg.Done()
							results <- e.sendShare(sendCtx, dst, dstPeer, id, r.i, n, k, tok, c, envs[r.i])
						}()
						continue
					}
				}
				failed++
			}
			if settled++; r.outcome == OutcomePooled {
				pooled++
			}
			if failed > n-k {
				err = fmt.Errorf("%w: %d of %d shares failed, at most %d may (%d spare relays tried)",
					ErrUndeliverable, failed, n, n-k, sp.tried)
				break loop
			}
			if settled == n && pooled >= k {
				rep.Status = StatusPooled // the receiver is offline; relays keep the shares
				break loop
			}
		case <-deadline.Done():
			switch {
			case ctx.Err() != nil:
				err = ctx.Err()
			case e.ctx.Err() != nil:
				err = ErrClosed
			case e.heldByRelays(ctx, &rep, dstPeer, k): // the receiver went offline (fallback.go)
				rep.Status = StatusPooled
			default:
				// Relays with a share pool keep a share whose forward
				// fails (fallback.go); the sender is not told.
				err = fmt.Errorf("%w from the receiver within %v (%d of %d shares reached their relays whole, %d needed;"+
					" relays that could not forward them may keep them in their share pools)",
					ErrNoConfirmation, e.cfg.DeliveryTimeout, countOutcomes(rep, OutcomeRelayed), n, k)
			}
			break loop
		case <-e.ctx.Done():
			err = ErrClosed
			break loop
		}
	}
	finish()
	if rep.Status == StatusPooled {
		return rep, nil
	}
	if rep.Status == StatusDelivered {
		for _, u := range rep.Used {
			if u >= 1 && u <= n {
				rep.Shares[u-1].Outcome, rep.Shares[u-1].Detail = OutcomeUsed, ""
			}
		}
		return rep, nil
	}
	return rep, fmt.Errorf("delivery: message %s to %s: %w", id, dst, err)
}

// sendShare announces share i to its relay and sends it. A small share
// (canSendEarly) is sent while the announcement is on its way; a larger
// one once the relay accepted it (early.go).
func (e *Engine) sendShare(ctx context.Context, dst protocol.DDTAddr, dstPeer peer.ID, id protocol.MessageID,
	i, n, k int, tok []byte, r candidate, env []byte) shareResult {
	res := shareResult{i: i}
	h := protocol.VMDTHeader{Type: protocol.TypeShare, ShareIndex: uint8(i + 1), N: uint8(n), K: uint8(k),
		MessageID: id, Src: e.self, Dst: dst}
	var sent chan error // the early transfer's end
	sendCtx, cancelSend := context.WithCancel(ctx)
	defer cancelSend()
	if e.canSendEarly(len(env)) {
		sent = make(chan error, 1)
		go func() { sent <- e.cfg.Transport.Send(sendCtx, r.ep.UDPAddr, h, env) }()
	}
	octx, ocancel := context.WithTimeout(ctx, e.cfg.RelayOpenTimeout)
	mode, err := e.relayOpen(octx, r.peer, ctl.RelayOpen{
		MessageID: id, Dst: dst, DstPeer: dstPeer, Index: i + 1, N: n, K: k,
		ShareLen: uint32(len(env)), Token: tok,
	})
	ocancel()
	if err != nil {
		if sent != nil {
			cancelSend() // abandons the early transfer
			<-sent
		}
		if ctx.Err() != nil {
			res.outcome = OutcomeCancelled
			return res
		}
		res.outcome, res.detail = OutcomeRefused, err.Error()
		return res
	}
	if sent != nil {
		err = <-sent
	} else {
		err = e.cfg.Transport.Send(ctx, r.ep.UDPAddr, h, env)
	}
	switch {
	case err == nil && mode == ctl.RelayModePool:
		res.outcome = OutcomePooled
	case err == nil:
		res.outcome = OutcomeRelayed
	case errors.Is(err, rdt.ErrAbandoned):
		res.outcome = OutcomeAbandoned
	case ctx.Err() != nil:
		res.outcome = OutcomeCancelled
	default:
		e.forgetEndpoint(r.peer)
		res.outcome, res.detail = OutcomeFailed, err.Error()
	}
	return res
}

// pickRelays probes up to MaxCandidates peers other than this node and
// the receiver, concurrently, and picks n responsive ones spread over
// network prefixes.
func (e *Engine) pickRelays(ctx context.Context, n int, dstPeer peer.ID) ([]candidate, error) {
	var peers []peer.ID
	seen := map[peer.ID]bool{e.selfPeer: true, dstPeer: true}
	for _, p := range e.relayCandidates(ctx) {
		if !seen[p] {
			seen[p] = true
			peers = append(peers, p)
		}
	}
	mrand.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
	peers = peers[:min(len(peers), e.cfg.MaxCandidates)]

	cands := e.probeRelays(ctx, peers, n)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(cands) < n {
		return nil, &NotEnoughRelaysError{Found: len(cands), Need: n}
	}
	return cands, nil
}

// Delivered takes a receiver's DELIVERED (control.Delivery): it ends the
// Send of that message if from is its receiver.
func (e *Engine) Delivered(_ context.Context, _ peer.ID, cmd *ctl.Delivered) error {
	e.mu.Lock()
	ps := e.sends[cmd.MessageID]
	e.mu.Unlock()
	if ps == nil {
		return ctl.Errorf(ctl.CodeUnknown, "no message %s in flight", cmd.MessageID)
	}
	if ps.dst != cmd.ClientID {
		return ctl.Errorf(ctl.CodeForbidden, "message %s was not sent to %s", cmd.MessageID, cmd.ClientID)
	}
	select {
	case ps.delivered <- slices.Clone(cmd.Used):
	default: // already confirmed
	}
	return nil
}

// countOutcomes counts the shares of rep with the given outcome.
func countOutcomes(rep Report, outcome string) int {
	n := 0
	for _, s := range rep.Shares {
		if s.Outcome == outcome {
			n++
		}
	}
	return n
}

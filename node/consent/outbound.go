package consent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/friends"
	"github.com/vmdt/vmdt/protocol"
)

// Request asks the user to to be our friend: it resolves to's name,
// connects to its peer and sends a signed request, which the peer
// records as pending. It returns our record of to. It fails with
// ErrNoUsername if we have no username, an error wrapping
// dht.ErrNameNotFound for an unknown name, ErrUnreachable if to's node
// cannot be reached, and a *RefusedError if it refused (errors.Is
// friends.ErrDenied if to denied us before; then our record says so).
func (s *Service) Request(ctx context.Context, to string) (friends.Friend, error) {
	if err := s.alive(); err != nil {
		return friends.Friend{}, err
	}
	self := s.cfg.Username()
	if self == "" {
		return friends.Friend{}, ErrNoUsername
	}
	name, err := dht.NormalizeName(to)
	if err != nil {
		return friends.Friend{}, fmt.Errorf("consent: %w", err)
	}
	if name == self {
		return friends.Friend{}, fmt.Errorf("consent: %w: %s is our own name", friends.ErrState, name)
	}
	rec, err := s.cfg.Names.Resolve(ctx, name)
	if err != nil {
		return friends.Friend{}, fmt.Errorf("consent: resolve %q: %w", name, err)
	}
	key, err := recordKey(rec, name)
	if err != nil {
		return friends.Friend{}, err
	}
	if rec.DDTAddr == s.store.Self() {
		return friends.Friend{}, fmt.Errorf("consent: %w: %s is registered by this node", friends.ErrState, name)
	}
	if err := s.connect(ctx, rec.PeerID); err != nil {
		return friends.Friend{}, fmt.Errorf("consent: %s (peer %s): %w", name, rec.PeerID, err)
	}
	req, err := s.store.AddOutgoing(self, name, key)
	if err != nil {
		return friends.Friend{}, fmt.Errorf("consent: request to %s: %w", name, err)
	}
	msg, err := req.Marshal()
	if err != nil {
		return friends.Friend{}, err
	}
	if _, err := Exchange(ctx, s.h, rec.PeerID, msg, s.cfg.StreamTimeout); err != nil {
		if errors.Is(err, friends.ErrDenied) {
			if merr := s.store.MarkDenied(name); merr != nil {
				log.Warnw("cannot record denial", "user", name, "err", merr)
			}
		}
		return friends.Friend{}, fmt.Errorf("consent: request to %s: %w", name, err)
	}
	f, _ := s.store.Get(name)
	log.Infow("friend request sent", "to", name, "peer", rec.PeerID)
	return f, nil
}

// Delivery says what became of an answer.
type Delivery int

const (
	// NothingToDeliver: there was no request to answer.
	NothingToDeliver Delivery = iota
	// Delivered: the requester's node acknowledged the answer.
	Delivered
	// Queued: the requester's node was not reachable; the outbox keeps
	// trying.
	Queued
)

func (d Delivery) String() string {
	switch d {
	case Delivered:
		return "delivered"
	case Queued:
		return "queued"
	}
	return "none"
}

// Accept accepts username's request and delivers the acceptance, with
// our token for them; their answer carries their token for us. It
// returns our record of username and whether the acceptance was
// delivered or, their node being offline, queued in the outbox.
func (s *Service) Accept(ctx context.Context, username string) (friends.Friend, Delivery, error) {
	if err := s.alive(); err != nil {
		return friends.Friend{}, NothingToDeliver, err
	}
	name, err := dht.NormalizeName(username)
	if err != nil {
		return friends.Friend{}, NothingToDeliver, fmt.Errorf("consent: %w", err)
	}
	if _, err := s.store.Accept(name); err != nil {
		return friends.Friend{}, NothingToDeliver, fmt.Errorf("consent: accept %s: %w", name, err)
	}
	return s.answer(ctx, name)
}

// Deny denies username's request (or drops them as a friend, see
// friends.Store.Deny) and, if they had asked us, delivers the denial as
// Accept delivers an acceptance.
func (s *Service) Deny(ctx context.Context, username string) (friends.Friend, Delivery, error) {
	if err := s.alive(); err != nil {
		return friends.Friend{}, NothingToDeliver, err
	}
	name, err := dht.NormalizeName(username)
	if err != nil {
		return friends.Friend{}, NothingToDeliver, fmt.Errorf("consent: %w", err)
	}
	prior, ok := s.store.Get(name)
	if !ok {
		return friends.Friend{}, NothingToDeliver, fmt.Errorf("consent: deny %s: %w", name, friends.ErrUnknown)
	}
	if err := s.store.Deny(name); err != nil {
		return friends.Friend{}, NothingToDeliver, fmt.Errorf("consent: deny %s: %w", name, err)
	}
	if prior.Incoming == friends.InNone {
		// They never asked: there is no request to answer.
		f, _ := s.store.Get(name)
		return f, NothingToDeliver, nil
	}
	return s.answer(ctx, name)
}

// answer queues the response owed to name and tries to deliver it now.
func (s *Service) answer(ctx context.Context, name string) (friends.Friend, Delivery, error) {
	f, ok := s.store.Get(name)
	if !ok {
		return friends.Friend{}, NothingToDeliver, fmt.Errorf("consent: %s: %w", name, friends.ErrUnknown)
	}
	claimed, err := s.out.claim(name, f.PeerID)
	if err != nil {
		return f, NothingToDeliver, fmt.Errorf("consent: answer %s: %w", name, err)
	}
	d := Queued
	if claimed {
		err := s.deliver(ctx, name)
		s.out.finish(name, err, time.Now())
		if err == nil {
			d = Delivered
		}
	}
	f, _ = s.store.Get(name)
	return f, d, nil
}

// deliver sends user a freshly signed answer to their latest request.
func (s *Service) deliver(ctx context.Context, user string) error {
	f, ok := s.store.Get(user)
	if !ok {
		return fmt.Errorf("%w: %s forgotten", errFinal, user)
	}
	resp, err := s.store.Response(user)
	if err != nil {
		return fmt.Errorf("%w: %w", errFinal, err)
	}
	msg, err := resp.Marshal()
	if err != nil {
		return fmt.Errorf("%w: %w", errFinal, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DeliveryTimeout)
	defer cancel()
	if err := s.connect(ctx, f.PeerID); err != nil {
		return err
	}
	tok, err := Exchange(ctx, s.h, f.PeerID, msg, s.cfg.StreamTimeout)
	if err != nil {
		return err
	}
	log.Infow("friend response delivered", "to", user, "accepted", resp.Accepted)
	if resp.Accepted && tok != nil {
		t, err := friends.ParseToken(tok)
		if err == nil {
			err = s.store.AddToken(user, t)
		}
		if err != nil {
			log.Warnw("friend's token refused", "from", user, "err", err)
		}
	}
	return nil
}

// Exchange sends one message to p on a new stream and reads the ack,
// within timeout (and ctx). It returns the ack's attached token, if any;
// a refusal is a *RefusedError, a broken exchange wraps ErrUnreachable.
func Exchange(ctx context.Context, h host.Host, p peer.ID, msg []byte, timeout time.Duration) ([]byte, error) {
	frame, err := AppendFrame(nil, msg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, err := h.NewStream(ctx, p, ProtocolID)
	if err != nil {
		return nil, errors.Join(ErrUnreachable, err)
	}
	deadline, _ := ctx.Deadline()
	// A cancelled ctx interrupts the exchange, not only the deadline.
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	var ack Ack
	err = st.SetDeadline(deadline)
	if err == nil {
		_, err = st.Write(frame)
	}
	if err == nil {
		err = st.CloseWrite()
	}
	if err == nil {
		ack, err = ReadAck(st)
	}
	if err != nil {
		st.Reset()
		if errors.Is(err, friends.ErrMalformed) {
			return nil, fmt.Errorf("consent: bad ack from %s: %w", p, err)
		}
		return nil, errors.Join(ErrUnreachable, err)
	}
	st.Close()
	if ack.Code != CodeOK {
		return nil, &RefusedError{Code: ack.Code, Reason: ack.Reason}
	}
	return ack.Token, nil
}

// recordKey checks that rec is name's record and that its key, peer ID
// and DDT address belong together, and returns the marshaled key.
func recordKey(rec *dht.NameRecord, name string) ([]byte, error) {
	if rec == nil || rec.PubKey == nil || rec.Name != name {
		return nil, fmt.Errorf("%w: not a record of %q", ErrBadRecord, name)
	}
	if rec.PubKey.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("%w: %q has a %v key", ErrBadRecord, name, rec.PubKey.Type())
	}
	key, err := crypto.MarshalPublicKey(rec.PubKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRecord, err)
	}
	if !rec.PeerID.MatchesPublicKey(rec.PubKey) || rec.DDTAddr != protocol.DDTAddrFromPublicKey(key) {
		return nil, fmt.Errorf("%w: %q: peer ID or DDT address not of its key", ErrBadRecord, name)
	}
	return key, nil
}

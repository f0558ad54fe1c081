package consent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/friends"
)

// handle serves one inbound stream: one frame in, one ack out.
func (s *Service) handle(st network.Stream) {
	if !s.enter(st) {
		st.Reset()
		return
	}
	defer s.leave(st)
	start := time.Now()
	remote := st.Conn().RemotePeer()
	if err := st.SetDeadline(start.Add(s.cfg.StreamTimeout)); err != nil {
		st.Reset()
		return
	}
	var ack Ack
	if !s.rate.allow(remote, start) {
		ack = Ack{Code: CodeBusy, Reason: "too many friend messages from this peer"}
	} else {
		// Whatever the peer sends, it is online: deliver what we owe it.
		s.out.kick(remote)
		if err := st.SetReadDeadline(start.Add(s.cfg.FrameTimeout)); err != nil {
			st.Reset()
			return
		}
		msg, err := ReadFrame(st)
		switch {
		case errors.Is(err, friends.ErrMalformed):
			ack = Ack{Code: CodeMalformed, Reason: err.Error()}
		case err != nil:
			log.Debugw("friend stream: read", "peer", remote, "err", err)
			st.Reset()
			return
		default:
			ack = s.process(remote, msg)
		}
	}
	b, err := ack.Append(nil)
	if err != nil {
		log.Errorw("friend stream: encode ack", "err", err)
		st.Reset()
		return
	}
	if _, err := st.Write(b); err != nil {
		log.Debugw("friend stream: write ack", "peer", remote, "err", err)
		st.Reset()
		return
	}
	st.Close()
}

// process handles one message from remote and returns the ack.
func (s *Service) process(remote peer.ID, msg []byte) Ack {
	if len(msg) < 2 {
		return Ack{Code: CodeMalformed, Reason: "message too short"}
	}
	var (
		tok []byte
		err error
	)
	switch msg[1] {
	case friends.KindRequest:
		err = s.onRequest(remote, msg)
	case friends.KindResponse:
		tok, err = s.onResponse(remote, msg)
	case friends.KindToken:
		err = s.onToken(remote, msg)
	default:
		err = fmt.Errorf("%w: message kind %d", friends.ErrMalformed, msg[1])
	}
	if err != nil {
		log.Debugw("friend message refused", "peer", remote, "err", err)
		return Ack{Code: codeOf(err), Reason: err.Error()}
	}
	return Ack{Code: CodeOK, Token: tok}
}

// onRequest verifies and records a friend request: sent by its signer,
// meant for us, signed, fresh, its requester name owned by its key in the
// DHT, not replayed.
func (s *Service) onRequest(remote peer.ID, msg []byte) error {
	req, err := friends.ParseFriendRequest(msg)
	if err != nil {
		return err
	}
	if err := sentBySigner(remote, req.FromKey); err != nil {
		return err
	}
	if err := req.Verify(s.store.Self(), time.Now()); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.LookupTimeout)
	defer cancel()
	rec, err := s.cfg.Names.Resolve(ctx, req.From)
	switch {
	case errors.Is(err, dht.ErrNameNotFound):
		return fmt.Errorf("%w: %q is not a registered username", ErrNameNotOwned, req.From)
	case err != nil:
		return fmt.Errorf("%w: looking up %q: %w", ErrUnavailable, req.From, err)
	}
	key, err := recordKey(rec, req.From)
	if err != nil {
		return fmt.Errorf("%w: looking up %q: %w", ErrUnavailable, req.From, err)
	}
	if !bytes.Equal(key, req.FromKey) {
		return fmt.Errorf("%w: %q belongs to another key", ErrNameNotOwned, req.From)
	}
	f, err := s.store.AddIncoming(req)
	if err != nil {
		return err
	}
	log.Infow("friend request", "from", f.Username, "state", f.Incoming)
	if f.Incoming == friends.InAccepted {
		// Both asked, or they are a friend already: answer at once.
		if err := s.out.add(f.Username, f.PeerID); err != nil {
			log.Warnw("cannot queue friend response", "to", f.Username, "err", err)
		}
	}
	return nil
}

// onResponse applies an answer to our request. An acceptance is acked
// with our token for the responder.
func (s *Service) onResponse(remote peer.ID, msg []byte) ([]byte, error) {
	resp, err := friends.ParseFriendResponse(msg)
	if err != nil {
		return nil, err
	}
	if err := sentBySigner(remote, resp.ResponderKey); err != nil {
		return nil, err
	}
	f, err := s.store.ApplyResponse(resp)
	if err != nil {
		return nil, err
	}
	log.Infow("friend response", "from", f.Username, "state", f.Outgoing)
	if f.Outgoing != friends.OutAccepted {
		return nil, nil
	}
	t, err := s.store.IssueToken(f.Username)
	if err != nil {
		return nil, err
	}
	return t.Marshal()
}

// onToken keeps a token a friend sent us (a renewal).
func (s *Service) onToken(remote peer.ID, msg []byte) error {
	t, err := friends.ParseToken(msg)
	if err != nil {
		return err
	}
	if err := sentBySigner(remote, t.IssuerKey); err != nil {
		return err
	}
	f, ok := s.store.Lookup(t.Issuer())
	if !ok {
		return fmt.Errorf("%w: token from %s", friends.ErrUnknown, t.Issuer())
	}
	return s.store.AddToken(f.Username, t)
}

// sentBySigner checks that the stream's remote peer is the owner of the
// marshaled key that signed the message.
func sentBySigner(remote peer.ID, key []byte) error {
	pub, err := crypto.UnmarshalPublicKey(key)
	if err != nil {
		return fmt.Errorf("%w: %v", friends.ErrMalformed, err)
	}
	if !remote.MatchesPublicKey(pub) {
		return fmt.Errorf("%w: signed by another key than peer %s's", ErrNameNotOwned, remote)
	}
	return nil
}

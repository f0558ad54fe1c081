package friends

import (
	"bytes"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht/namerec"
	"github.com/vmdt/vmdt/protocol"
)

// AddOutgoing records that we (username from) ask the user to, whose
// public key toKey comes from its name record, to be friends, and returns
// the signed request to send. Calling it again before an answer makes a
// fresh request (new nonce and time) for a retry; only a response to the
// latest one is applied. Asking a user we denied reverses the denial. It
// fails with ErrState if we are friends already.
func (s *Store) AddOutgoing(from, to string, toKey []byte) (*FriendRequest, error) {
	if err := namerec.CheckName(to); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	pub, err := parseKey(toKey)
	if err != nil {
		return nil, err
	}
	pid, err := peer.IDFromPublicKey(pub)
	if err != nil {
		return nil, err
	}
	addr := protocol.DDTAddrFromPublicKey(toKey)
	if addr == s.self {
		return nil, fmt.Errorf("%w: request to ourselves", ErrState)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.recordLocked(to, toKey)
	if err != nil {
		return nil, err
	}
	if f == nil {
		if err := s.roomLocked(); err != nil {
			return nil, err
		}
		f = &Friend{Username: to, PublicKey: bytes.Clone(toKey), DDT: addr, PeerID: pid}
	}
	if f.IsFriend() {
		return nil, fmt.Errorf("%w: already friends with %s", ErrState, to)
	}
	now := s.now()
	req, err := NewFriendRequest(s.cfg.Identity, from, to, addr, now, nil)
	if err != nil {
		return nil, err
	}
	f.Outgoing, f.OutgoingAt, f.OutNonce = OutRequested, now, req.Nonce
	if f.Incoming == InDenied {
		f.Incoming = InNone // asking them reverses our denial
	}
	if err := s.putLocked(f, ""); err != nil {
		return nil, err
	}
	return req, nil
}

// ApplyResponse verifies a response to our latest request and records
// it: it must name that request's nonce, come from the user we asked,
// be signed and fresh, and an acceptance's token must let us deposit
// shares for them (FriendResponse.Verify). An acceptance makes them a
// friend and keeps their token; send them ours (IssueToken) so that they
// can deposit for us. A denial marks the request denied.
func (s *Store) ApplyResponse(resp *FriendResponse) (Friend, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f0 := s.byAddr[resp.Addr()]
	if f0 == nil {
		return Friend{}, fmt.Errorf("%w: response from %s", ErrUnknown, resp.Addr())
	}
	f := f0.clone()
	if f.Outgoing == OutNone {
		return Friend{}, fmt.Errorf("%w: we did not ask %s", ErrState, f.Username)
	}
	now := s.now()
	if err := resp.Verify(s.self, f.DDT, f.OutNonce, now); err != nil {
		return Friend{}, err
	}
	if resp.Accepted {
		f.Outgoing, f.Token = OutAccepted, resp.Token
	} else {
		f.Outgoing, f.Token = OutDenied, nil
	}
	f.OutgoingAt = now
	if err := s.putLocked(f, ""); err != nil {
		return Friend{}, err
	}
	return *f.clone(), nil
}

// MarkAccepted records that username accepted our request and keeps the
// token they sent, which must let us deposit shares for them
// (Token.Verify). Use it when the response was checked elsewhere;
// ApplyResponse does both.
func (s *Store) MarkAccepted(username string, t Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.getLocked(username)
	if err != nil {
		return err
	}
	if f.Outgoing == OutNone {
		return fmt.Errorf("%w: we did not ask %s", ErrState, username)
	}
	if err := t.Verify(s.self, f.DDT, s.now()); err != nil {
		return err
	}
	f.Outgoing, f.OutgoingAt, f.Token = OutAccepted, s.now(), &t
	return s.putLocked(f, "")
}

// MarkDenied records that username denied our request.
func (s *Store) MarkDenied(username string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.getLocked(username)
	if err != nil {
		return err
	}
	if f.Outgoing == OutNone {
		return fmt.Errorf("%w: we did not ask %s", ErrState, username)
	}
	f.Outgoing, f.OutgoingAt, f.Token = OutDenied, s.now(), nil
	return s.putLocked(f, "")
}

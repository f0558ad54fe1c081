package friends

import (
	"bytes"
	"fmt"
)

// AddIncoming verifies a request received from the network and records
// it: it must be meant for us, signed, fresh and not replayed
// (FriendRequest.Verify, ReplayWindow). It returns the record as it now
// stands:
//
//   - new or still undecided: Incoming is InPending; the user decides
//     with Accept or Deny;
//   - we had asked them too (OutRequested), or are friends already: both
//     consented, so Incoming is InAccepted; send them Response;
//   - we denied them before: ErrDenied, nothing changes.
//
// A known username presenting another key, or a known key under another
// username, is refused with ErrKeyMismatch (Remove the old record first).
func (s *Store) AddIncoming(req *FriendRequest) (Friend, error) {
	now := s.now()
	if err := req.Verify(s.self, now); err != nil {
		return Friend{}, err
	}
	pid, err := req.PeerID()
	if err != nil {
		return Friend{}, err
	}
	addr := req.Addr()
	if addr == s.self {
		return Friend{}, fmt.Errorf("%w: request from ourselves", ErrState)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.recordLocked(req.From, req.FromKey)
	if err != nil {
		return Friend{}, err
	}
	if f == nil {
		if err := s.roomLocked(); err != nil {
			return Friend{}, err
		}
		f = &Friend{Username: req.From, PublicKey: bytes.Clone(req.FromKey), DDT: addr, PeerID: pid}
	}
	if f.Incoming == InDenied && !f.IsFriend() {
		return Friend{}, fmt.Errorf("%w: %s", ErrDenied, f.Username)
	}
	if err := s.replay.Admit(req, now); err != nil {
		return Friend{}, err
	}
	switch {
	case f.IsFriend() || f.Outgoing == OutRequested:
		f.Incoming = InAccepted
	case f.Incoming != InPending:
		if err := s.pendingRoomLocked(); err != nil {
			return Friend{}, err
		}
		f.Incoming = InPending
	}
	f.InNonce, f.IncomingAt = req.Nonce, now
	if err := s.putLocked(f, ""); err != nil {
		return Friend{}, err
	}
	return *f.clone(), nil
}

// Accept accepts the request of username (pending, or denied earlier and
// now reconsidered): we consent to receive from them. It returns the
// response to send them, which carries a fresh token of ours.
func (s *Store) Accept(username string) (*FriendResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.getLocked(username)
	if err != nil {
		return nil, err
	}
	if f.Incoming == InNone {
		return nil, fmt.Errorf("%w: no request from %s", ErrState, username)
	}
	if f.Incoming != InAccepted {
		f.Incoming, f.IncomingAt = InAccepted, s.now()
		if err := s.putLocked(f, ""); err != nil {
			return nil, err
		}
	}
	return s.responseLocked(f)
}

// Deny withdraws our consent to username: a pending request is refused,
// an accepted friend dropped (in either direction), and further requests
// from them are refused with ErrDenied until we Accept or Remove them.
// Tokens we issued stay valid at relays until they expire
// (Config.TokenTTL); the node should stop accepting their traffic at
// once, as IsFriend reports false.
func (s *Store) Deny(username string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.getLocked(username)
	if err != nil {
		return err
	}
	f.Incoming, f.IncomingAt = InDenied, s.now()
	if f.Outgoing == OutRequested || f.Outgoing == OutAccepted {
		f.Outgoing, f.OutgoingAt = OutNone, f.IncomingAt
	}
	f.Token = nil
	return s.putLocked(f, "")
}

// Response returns a freshly signed answer to username's latest request:
// an acceptance with a fresh token if we accepted them, a denial if we
// denied them, ErrState if we have not decided. Use it to resend an
// answer that may have been lost.
func (s *Store) Response(username string) (*FriendResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.getLocked(username)
	if err != nil {
		return nil, err
	}
	return s.responseLocked(f)
}

func (s *Store) responseLocked(f *Friend) (*FriendResponse, error) {
	now := s.now()
	switch f.Incoming {
	case InAccepted:
		t, err := IssueToken(s.cfg.Identity, f.DDT, now, s.cfg.TokenTTL)
		if err != nil {
			return nil, err
		}
		return NewFriendResponse(s.cfg.Identity, f.DDT, f.InNonce, &t, now)
	case InDenied:
		return NewFriendResponse(s.cfg.Identity, f.DDT, f.InNonce, nil, now)
	}
	return nil, fmt.Errorf("%w: request of %s is %s", ErrState, f.Username, f.Incoming)
}

package friends

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/vmdt/vmdt/protocol"
)

// IsFriend reports whether the user at addr is a friend (Friend.IsFriend):
// whether we consented to receive their messages and let them deposit
// shares for us, and they consented to ours.
func (s *Store) IsFriend(addr protocol.DDTAddr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.byAddr[addr]
	return f != nil && f.IsFriend()
}

// Get returns a copy of username's record.
func (s *Store) Get(username string) (Friend, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.byName[username]; f != nil {
		return *f.clone(), true
	}
	return Friend{}, false
}

// Lookup returns a copy of the record of the user at addr.
func (s *Store) Lookup(addr protocol.DDTAddr) (Friend, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.byAddr[addr]; f != nil {
		return *f.clone(), true
	}
	return Friend{}, false
}

// List returns copies of all records, by username.
func (s *Store) List() []Friend {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Friend, 0, len(s.byName))
	for _, f := range s.byName {
		out = append(out, *f.clone())
	}
	slices.SortFunc(out, func(a, b Friend) int { return strings.Compare(a.Username, b.Username) })
	return out
}

// Remove forgets username entirely, as if we had never met.
func (s *Store) Remove(username string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byName[username] == nil {
		return fmt.Errorf("%w: %s", ErrUnknown, username)
	}
	return s.putLocked(nil, username)
}

// IssueToken returns a fresh token of ours for the friend username, valid
// for Config.TokenTTL: what lets them deposit shares for us. Send it when
// they became a friend by accepting our request, and again before it
// expires.
func (s *Store) IssueToken(username string) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.getLocked(username)
	if err != nil {
		return Token{}, err
	}
	if !f.IsFriend() {
		return Token{}, fmt.Errorf("%w: %s is not a friend", ErrState, username)
	}
	return IssueToken(s.cfg.Identity, f.DDT, s.now(), s.cfg.TokenTTL)
}

// AddToken keeps a token the friend username sent us (a first one or a
// renewal) after checking that it lets us deposit shares for them. The
// token that expires later is kept.
func (s *Store) AddToken(username string, t Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.getLocked(username)
	if err != nil {
		return err
	}
	if !f.IsFriend() {
		return fmt.Errorf("%w: %s is not a friend", ErrState, username)
	}
	if err := t.Verify(s.self, f.DDT, s.now()); err != nil {
		return err
	}
	if f.Token != nil && !t.ExpiresAt.After(f.Token.ExpiresAt) {
		return nil
	}
	f.Token = &t
	return s.putLocked(f, "")
}

// TokenFor returns the friend dst's token for us if it is valid now: what
// we show a relay to deposit a share for dst.
func (s *Store) TokenFor(dst protocol.DDTAddr) (Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.byAddr[dst]
	if f == nil || !f.IsFriend() || f.Token == nil || f.Token.Verify(s.self, dst, s.now()) != nil {
		return Token{}, false
	}
	return *f.clone().Token, true
}

// getLocked returns a copy of username's record to modify.
func (s *Store) getLocked(username string) (*Friend, error) {
	f := s.byName[username]
	if f == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknown, username)
	}
	return f.clone(), nil
}

// recordLocked returns a copy of the record of username with key, nil if
// neither is known, or ErrKeyMismatch if either is known with the other.
func (s *Store) recordLocked(username string, key []byte) (*Friend, error) {
	f := s.byName[username]
	if f != nil && !bytes.Equal(f.PublicKey, key) {
		return nil, fmt.Errorf("%w: %s has another key", ErrKeyMismatch, username)
	}
	if g := s.byAddr[protocol.DDTAddrFromPublicKey(key)]; g != nil && g.Username != username {
		return nil, fmt.Errorf("%w: key known as %s", ErrKeyMismatch, g.Username)
	}
	if f == nil {
		return nil, nil
	}
	return f.clone(), nil
}

// roomLocked reports ErrFull when no record may be added.
func (s *Store) roomLocked() error {
	if len(s.byName) >= s.cfg.MaxRecords {
		return fmt.Errorf("%w: %d records", ErrFull, len(s.byName))
	}
	return nil
}

// pendingRoomLocked reports ErrFull when no further request may wait for
// a decision.
func (s *Store) pendingRoomLocked() error {
	n := 0
	for _, f := range s.byName {
		if f.Incoming == InPending {
			n++
		}
	}
	if n >= s.cfg.MaxPending {
		return fmt.Errorf("%w: %d pending requests", ErrFull, n)
	}
	return nil
}

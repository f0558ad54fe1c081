package friends

import (
	"bytes"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht/namerec"
	"github.com/vmdt/vmdt/protocol"
)

// IncomingState is where a user's request to us stands.
type IncomingState uint8

// Incoming states.
const (
	InNone     IncomingState = iota // no request from them
	InPending                       // they asked; we have not decided
	InAccepted                      // we accepted: we consent to receive from them
	InDenied                        // we denied (or unfriended) them
)

// OutgoingState is where our request to a user stands.
type OutgoingState uint8

// Outgoing states.
const (
	OutNone      OutgoingState = iota // we did not ask
	OutRequested                      // we asked; no answer yet
	OutAccepted                       // they accepted our request
	OutDenied                         // they denied it
)

var (
	inNames  = []string{"none", "pending", "accepted", "denied"}
	outNames = []string{"none", "requested", "accepted", "denied"}
)

func (s IncomingState) String() string { return stateName(inNames, int(s)) }
func (s OutgoingState) String() string { return stateName(outNames, int(s)) }

func stateName(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("state(%d)", i)
}

func parseState(names []string, b []byte) (int, error) {
	for i, n := range names {
		if string(b) == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown state %q", ErrCorrupt, b)
}

// MarshalText and UnmarshalText give states their names in JSON.
func (s IncomingState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
func (s OutgoingState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *IncomingState) UnmarshalText(b []byte) error {
	i, err := parseState(inNames, b)
	*s = IncomingState(i)
	return err
}

func (s *OutgoingState) UnmarshalText(b []byte) error {
	i, err := parseState(outNames, b)
	*s = OutgoingState(i)
	return err
}

// Friend is everything the Store knows about one other user: both
// directions of the consent handshake. Usernames are unique in the Store,
// and so are addresses.
type Friend struct {
	Username  string           `json:"username"`
	PublicKey []byte           `json:"public_key"` // marshaled Ed25519 key
	DDT       protocol.DDTAddr `json:"ddt"`        // derived from PublicKey
	PeerID    peer.ID          `json:"peer_id"`    // derived from PublicKey

	// Their request to us. InNonce is its nonce, which our response names.
	Incoming   IncomingState `json:"incoming"`
	IncomingAt time.Time     `json:"incoming_at,omitzero"` // last change
	InNonce    Nonce         `json:"in_nonce,omitzero"`

	// Our request to them. OutNonce is the nonce of our latest request;
	// only a response naming it is applied.
	Outgoing   OutgoingState `json:"outgoing"`
	OutgoingAt time.Time     `json:"outgoing_at,omitzero"` // last change
	OutNonce   Nonce         `json:"out_nonce,omitzero"`

	// Token is their friend token for us: what lets us deposit shares for
	// them in relays' pools. Set by an acceptance or by AddToken.
	Token *Token `json:"token,omitempty"`
}

// IsFriend reports whether f is a friend: a request between us was
// accepted, theirs by us (InAccepted) or ours by them (OutAccepted).
// Either way both consented, the requester by asking and the other by
// accepting. Deny withdraws our consent in both directions.
func (f *Friend) IsFriend() bool { return f.Incoming == InAccepted || f.Outgoing == OutAccepted }

// check validates a record loaded from disk.
func (f *Friend) check() error {
	if err := namerec.CheckName(f.Username); err != nil {
		return err
	}
	pub, err := parseKey(f.PublicKey)
	if err != nil {
		return err
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		return err
	}
	if f.DDT != protocol.DDTAddrFromPublicKey(f.PublicKey) || f.PeerID != id {
		return fmt.Errorf("%w: address or peer ID of %s", ErrKeyMismatch, f.Username)
	}
	if f.Incoming > InDenied || f.Outgoing > OutDenied {
		return fmt.Errorf("state of %s out of range", f.Username)
	}
	if f.Token != nil && !bytes.Equal(f.Token.IssuerKey, f.PublicKey) {
		return fmt.Errorf("%w: token of %s issued by another key", ErrKeyMismatch, f.Username)
	}
	return nil
}

func (f *Friend) clone() *Friend {
	c := *f
	c.PublicKey = bytes.Clone(f.PublicKey)
	if f.Token != nil {
		t := *f.Token
		c.Token = &t
	}
	return &c
}

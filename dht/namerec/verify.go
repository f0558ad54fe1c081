package namerec

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	cryptopb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Errors of Verify and of the parsers; test with errors.Is.
var (
	ErrUnsupportedKey     = errors.New("unsupported key type (want Ed25519)")
	ErrPeerIDMismatch     = errors.New("peer ID does not match the record's key")
	ErrAddrMismatch       = errors.New("DDT address does not match the record's key")
	ErrBadSignature       = errors.New("bad owner signature")
	ErrExpired            = errors.New("name record expired")
	ErrDuplicateCounter   = errors.New("duplicate or unsorted countersignature")
	ErrUnknownAuthority   = errors.New("countersignature by a peer that is not an authority")
	ErrBadCountersig      = errors.New("bad countersignature")
	ErrNoQuorum           = errors.New("too few valid countersignatures")
	ErrNoAuthorities      = errors.New("no authorities configured")
	ErrTooManyAuthorities = errors.New("too many authorities")
)

// Authorities is a network's set of notaries: the bootstrap nodes whose
// countersignatures make a name claim valid. Every node of a network must
// use the same set; it is part of the network's definition.
type Authorities struct {
	keys map[peer.ID]crypto.PubKey
	ids  []peer.ID // sorted
}

// NewAuthorities builds the set from peer IDs, dropping duplicates. Every
// ID must embed an Ed25519 public key (as libp2p Ed25519 peer IDs do).
func NewAuthorities(ids []peer.ID) (*Authorities, error) {
	a := &Authorities{keys: make(map[peer.ID]crypto.PubKey)}
	for _, id := range ids {
		if _, dup := a.keys[id]; dup {
			continue
		}
		pub, err := id.ExtractPublicKey()
		if err != nil {
			return nil, fmt.Errorf("authority %s: %w", id, err)
		}
		if pub.Type() != cryptopb.KeyType_Ed25519 {
			return nil, fmt.Errorf("authority %s: %w", id, ErrUnsupportedKey)
		}
		a.keys[id] = pub
		a.ids = append(a.ids, id)
	}
	if len(a.ids) > MaxAuthorities {
		return nil, fmt.Errorf("%w: %d, at most %d", ErrTooManyAuthorities, len(a.ids), MaxAuthorities)
	}
	sort.Slice(a.ids, func(i, j int) bool { return a.ids[i] < a.ids[j] })
	return a, nil
}

// IDs returns the authorities, sorted.
func (a *Authorities) IDs() []peer.ID { return append([]peer.ID(nil), a.ids...) }

// Len returns the number of distinct authorities.
func (a *Authorities) Len() int { return len(a.ids) }

// Majority returns how many distinct authorities must countersign a claim:
// a strict majority, so that any two quorums share an authority.
func (a *Authorities) Majority() int { return len(a.ids)/2 + 1 }

// Contains reports whether id is an authority.
func (a *Authorities) Contains(id peer.ID) bool { _, ok := a.keys[id]; return ok }

// VerifyCounter checks one countersignature over (name, ownerKey).
func (a *Authorities) VerifyCounter(c Countersignature, name string, ownerKey []byte) error {
	pub, ok := a.keys[c.Authority]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownAuthority, c.Authority)
	}
	ok, err := pub.Verify(CounterPayload(name, ownerKey, c.ValidUntil), c.Sig)
	if err != nil || !ok {
		return fmt.Errorf("%w: by %s", ErrBadCountersig, c.Authority)
	}
	return nil
}

// Verify checks a parsed record at time now: the owner's signature, the
// owner's expiry, and that a majority of distinct authorities
// countersigned (name, owner key) with a valid-until after now. It returns
// the effective expiry: the earlier of the owner's expiry and the time the
// quorum lapses. Countersignatures from non-authorities, forged ones and
// repeated authorities make the whole record invalid; expired but
// genuine ones are merely not counted.
func (a *Authorities) Verify(r *Record, now time.Time) (time.Time, error) {
	if a.Len() == 0 {
		return time.Time{}, ErrNoAuthorities
	}
	msg, err := r.SigningBytes()
	if err != nil {
		return time.Time{}, err
	}
	if ok, err := r.PubKey.Verify(msg, r.Sig); err != nil || !ok {
		return time.Time{}, fmt.Errorf("%w: name %q", ErrBadSignature, r.Name)
	}
	if !now.Before(r.Expiry) {
		return time.Time{}, fmt.Errorf("%w: name %q expired at %s", ErrExpired, r.Name, r.Expiry.Format(time.RFC3339))
	}
	key, err := crypto.MarshalPublicKey(r.PubKey)
	if err != nil {
		return time.Time{}, err
	}
	var live []time.Time
	for i, c := range r.Counters {
		if i > 0 && c.Authority <= r.Counters[i-1].Authority {
			return time.Time{}, fmt.Errorf("%w: %s at position %d", ErrDuplicateCounter, c.Authority, i)
		}
		if err := a.VerifyCounter(c, r.Name, key); err != nil {
			return time.Time{}, err
		}
		if now.Before(c.ValidUntil) {
			live = append(live, c.ValidUntil)
		}
	}
	m := a.Majority()
	if len(live) < m {
		return time.Time{}, fmt.Errorf("%w: name %q has %d live of %d needed", ErrNoQuorum, r.Name, len(live), m)
	}
	// The quorum lapses when fewer than m countersignatures remain live:
	// at the m-th latest valid-until.
	sort.Slice(live, func(i, j int) bool { return live[i].After(live[j]) })
	until := live[m-1]
	if r.Expiry.Before(until) {
		until = r.Expiry
	}
	return until, nil
}

// Better reports whether record x should be preferred over y for the same
// name. For the same owner key the higher sequence number wins, then the
// later expiry. For different keys (possible only after a claim lapsed,
// within clock error) the later effective expiry wins, which is the newer
// claim. Remaining ties go to the lexicographically larger encoding, so
// the choice is deterministic on every node.
func Better(x, y *Record, xUntil, yUntil time.Time, xEnc, yEnc []byte) bool {
	if x.PubKey.Equals(y.PubKey) {
		if x.Seq != y.Seq {
			return x.Seq > y.Seq
		}
		if !x.Expiry.Equal(y.Expiry) {
			return x.Expiry.After(y.Expiry)
		}
	} else if !xUntil.Equal(yUntil) {
		return xUntil.After(yUntil)
	}
	return bytes.Compare(xEnc, yEnc) > 0
}

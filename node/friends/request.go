package friends

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht/namerec"
	"github.com/vmdt/vmdt/internal/wire"
	"github.com/vmdt/vmdt/protocol"
)

// RequestSigningDomain starts the bytes a requester signs.
const RequestSigningDomain = "vmdt/friend-request/v1\x00"

// MaxRequestAge is how old a request or response may be when it is
// verified. Senders make a fresh one for every attempt.
const MaxRequestAge = 10 * time.Minute

// MaxRequestLen is the length of the longest encoded request.
const MaxRequestLen = 2 + 1 + namerec.MaxNameLen + 1 + KeyLen + 1 + namerec.MaxNameLen +
	protocol.DDTAddrLen + 8 + NonceLen + 1 + SigLen

// FriendRequest asks the user To (at address ToAddr) to accept the user
// From as a friend. It is signed by From's key.
type FriendRequest struct {
	From    string           // requester's username
	FromKey []byte           // requester's public key, marshaled (Ed25519)
	To      string           // target's username
	ToAddr  protocol.DDTAddr // target's DDT address, from its name record
	Time    time.Time        // whole seconds
	Nonce   Nonce
	Sig     []byte
}

// NewFriendRequest makes and signs a request from priv's owner, known as
// from, to the user to at toAddr. The nonce is read from rand (nil means
// crypto/rand).
func NewFriendRequest(priv crypto.PrivKey, from, to string, toAddr protocol.DDTAddr, now time.Time, rand io.Reader) (*FriendRequest, error) {
	key, err := signer(priv)
	if err != nil {
		return nil, err
	}
	nonce, err := newNonce(rand)
	if err != nil {
		return nil, err
	}
	r := &FriendRequest{From: from, FromKey: key, To: to, ToAddr: toAddr, Time: wireTime(now), Nonce: nonce}
	body, err := r.appendUnsigned(nil)
	if err != nil {
		return nil, err
	}
	if r.Sig, err = sign(priv, RequestSigningDomain, body); err != nil {
		return nil, err
	}
	return r, nil
}

// Addr returns the requester's DDT address, derived from its key.
func (r *FriendRequest) Addr() protocol.DDTAddr { return protocol.DDTAddrFromPublicKey(r.FromKey) }

// PeerID returns the requester's peer ID, derived from its key.
func (r *FriendRequest) PeerID() (peer.ID, error) {
	pub, err := parseKey(r.FromKey)
	if err != nil {
		return "", err
	}
	return peer.IDFromPublicKey(pub)
}

func (r *FriendRequest) appendUnsigned(b []byte) ([]byte, error) {
	if err := namerec.CheckName(r.From); err != nil {
		return nil, fmt.Errorf("%w: requester: %w", ErrMalformed, err)
	}
	if err := namerec.CheckName(r.To); err != nil {
		return nil, fmt.Errorf("%w: target: %w", ErrMalformed, err)
	}
	if len(r.FromKey) != KeyLen || r.ToAddr.IsZero() || !validTime(r.Time) {
		return nil, fmt.Errorf("%w: request key, target address or time", ErrMalformed)
	}
	b = append(b, Version, KindRequest)
	b = wire.AppendVar(b, []byte(r.From))
	b = wire.AppendVar(b, r.FromKey)
	b = wire.AppendVar(b, []byte(r.To))
	b = append(b, r.ToAddr[:]...)
	b = appendTime(b, r.Time)
	return append(b, r.Nonce[:]...), nil
}

// Marshal returns the encoding of r.
func (r *FriendRequest) Marshal() ([]byte, error) {
	b, err := r.appendUnsigned(make([]byte, 0, MaxRequestLen))
	if err != nil {
		return nil, err
	}
	if len(r.Sig) != SigLen {
		return nil, fmt.Errorf("%w: signature of %d bytes", ErrMalformed, len(r.Sig))
	}
	return wire.AppendVar(b, r.Sig), nil
}

// ParseFriendRequest decodes a request. It checks the syntax, the
// usernames and the key; it does not check the signature or the time
// (see Verify).
func ParseFriendRequest(b []byte) (*FriendRequest, error) {
	rd := wire.NewReader(b, ErrMalformed)
	readHeader(rd, KindRequest)
	from := rd.VarBytes(1, namerec.MaxNameLen, "requester")
	key := rd.VarBytes(KeyLen, KeyLen, "requester key")
	to := rd.VarBytes(1, namerec.MaxNameLen, "target")
	toAddr := rd.Bytes(protocol.DDTAddrLen, "target address")
	r := &FriendRequest{Time: rd.Time("time")}
	nonce := rd.Bytes(NonceLen, "nonce")
	sig := rd.VarBytes(SigLen, SigLen, "signature")
	rd.End()
	if rd.Err != nil {
		return nil, rd.Err
	}
	if _, err := parseKey(key); err != nil {
		return nil, err
	}
	r.From, r.FromKey, r.To = string(from), bytes.Clone(key), string(to)
	copy(r.ToAddr[:], toAddr)
	copy(r.Nonce[:], nonce)
	r.Sig = bytes.Clone(sig)
	if _, err := r.appendUnsigned(nil); err != nil {
		return nil, err
	}
	return r, nil
}

// Verify checks that r is meant for self (ErrWrongDestination), is signed
// by its key (ErrBadSignature), and was made within MaxRequestAge before
// now and at most MaxClockSkew after it (ErrStale). Replays within the
// window are the caller's to catch (ReplayWindow; Store.AddIncoming does).
func (r *FriendRequest) Verify(self protocol.DDTAddr, now time.Time) error {
	body, err := r.appendUnsigned(nil)
	if err != nil {
		return err
	}
	if r.ToAddr != self {
		return fmt.Errorf("%w: request for %s", ErrWrongDestination, r.ToAddr)
	}
	if err := verifySig(r.FromKey, RequestSigningDomain, body, r.Sig); err != nil {
		return err
	}
	return checkFresh(r.Time, now)
}

// checkFresh reports ErrStale unless t lies in
// [now-MaxRequestAge, now+MaxClockSkew].
func checkFresh(t, now time.Time) error {
	if t.Before(now.Add(-MaxRequestAge)) || t.After(now.Add(MaxClockSkew)) {
		return fmt.Errorf("%w: made at %v, now %v", ErrStale, t, now.UTC())
	}
	return nil
}

package friends

import (
	"bytes"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/vmdt/vmdt/internal/wire"
	"github.com/vmdt/vmdt/protocol"
)

// ResponseSigningDomain starts the bytes a responder signs.
const ResponseSigningDomain = "vmdt/friend-response/v1\x00"

// MaxResponseLen is the length of the longest encoded response.
const MaxResponseLen = 3 + 1 + KeyLen + protocol.DDTAddrLen + NonceLen + 8 + 1 + TokenLen + 1 + SigLen

// Decisions a response carries.
const (
	decisionAccepted = 1
	decisionDenied   = 2
)

// FriendResponse answers a FriendRequest. An acceptance carries the
// responder's friend token for the requester.
type FriendResponse struct {
	Accepted      bool
	ResponderKey  []byte           // responder's public key, marshaled (Ed25519)
	RequesterAddr protocol.DDTAddr // whose request this answers
	RequestNonce  Nonce            // which request this answers
	Time          time.Time        // whole seconds
	Token         *Token           // set exactly when Accepted
	Sig           []byte
}

// NewFriendResponse makes and signs priv's owner's answer to the request
// with nonce from requester. token must be set when accepted and nil
// otherwise; it must be priv's token for requester.
func NewFriendResponse(priv crypto.PrivKey, requester protocol.DDTAddr, nonce Nonce, token *Token, now time.Time) (*FriendResponse, error) {
	key, err := signer(priv)
	if err != nil {
		return nil, err
	}
	r := &FriendResponse{Accepted: token != nil, ResponderKey: key, RequesterAddr: requester,
		RequestNonce: nonce, Time: wireTime(now), Token: token}
	body, err := r.appendUnsigned(nil)
	if err != nil {
		return nil, err
	}
	if r.Sig, err = sign(priv, ResponseSigningDomain, body); err != nil {
		return nil, err
	}
	return r, nil
}

// Addr returns the responder's DDT address, derived from its key.
func (r *FriendResponse) Addr() protocol.DDTAddr {
	return protocol.DDTAddrFromPublicKey(r.ResponderKey)
}

func (r *FriendResponse) appendUnsigned(b []byte) ([]byte, error) {
	if len(r.ResponderKey) != KeyLen || r.RequesterAddr.IsZero() || !validTime(r.Time) {
		return nil, fmt.Errorf("%w: response key, requester address or time", ErrMalformed)
	}
	var tok []byte
	decision := byte(decisionDenied)
	if r.Accepted {
		if r.Token == nil {
			return nil, fmt.Errorf("%w: acceptance without a token", ErrMalformed)
		}
		if !bytes.Equal(r.Token.IssuerKey, r.ResponderKey) || r.Token.Holder != r.RequesterAddr {
			return nil, fmt.Errorf("%w: token is not the responder's for the requester", ErrMalformed)
		}
		var err error
		if tok, err = r.Token.Marshal(); err != nil {
			return nil, err
		}
		decision = decisionAccepted
	} else if r.Token != nil {
		return nil, fmt.Errorf("%w: denial with a token", ErrMalformed)
	}
	b = append(b, Version, KindResponse, decision)
	b = wire.AppendVar(b, r.ResponderKey)
	b = append(b, r.RequesterAddr[:]...)
	b = append(b, r.RequestNonce[:]...)
	b = appendTime(b, r.Time)
	return wire.AppendVar(b, tok), nil
}

// Marshal returns the encoding of r.
func (r *FriendResponse) Marshal() ([]byte, error) {
	b, err := r.appendUnsigned(make([]byte, 0, MaxResponseLen))
	if err != nil {
		return nil, err
	}
	if len(r.Sig) != SigLen {
		return nil, fmt.Errorf("%w: signature of %d bytes", ErrMalformed, len(r.Sig))
	}
	return wire.AppendVar(b, r.Sig), nil
}

// ParseFriendResponse decodes a response. It checks the syntax, the key,
// and that an acceptance carries a token of the responder for the
// requester; it does not check signatures or times (see Verify).
func ParseFriendResponse(b []byte) (*FriendResponse, error) {
	rd := wire.NewReader(b, ErrMalformed)
	readHeader(rd, KindResponse)
	decision := rd.U8("decision")
	if rd.Err == nil && decision != decisionAccepted && decision != decisionDenied {
		rd.Fail("decision %d", decision)
	}
	key := rd.VarBytes(KeyLen, KeyLen, "responder key")
	requester := rd.Bytes(protocol.DDTAddrLen, "requester address")
	nonce := rd.Bytes(NonceLen, "request nonce")
	r := &FriendResponse{Accepted: decision == decisionAccepted, Time: rd.Time("time")}
	tok := rd.VarBytes(0, TokenLen, "token")
	sig := rd.VarBytes(SigLen, SigLen, "signature")
	rd.End()
	if rd.Err != nil {
		return nil, rd.Err
	}
	if _, err := parseKey(key); err != nil {
		return nil, err
	}
	r.ResponderKey = bytes.Clone(key)
	copy(r.RequesterAddr[:], requester)
	copy(r.RequestNonce[:], nonce)
	r.Sig = bytes.Clone(sig)
	if len(tok) > 0 {
		t, err := ParseToken(tok)
		if err != nil {
			return nil, fmt.Errorf("token: %w", err)
		}
		r.Token = &t
	}
	if _, err := r.appendUnsigned(nil); err != nil {
		return nil, err
	}
	return r, nil
}

// Verify checks that r answers self's request with the given nonce
// (ErrWrongSource), comes from the user at responder (ErrKeyMismatch), is
// signed by it (ErrBadSignature), is fresh (ErrStale, as for requests),
// and, for an acceptance, that the token lets self deposit shares for the
// responder now (Token.Verify).
func (r *FriendResponse) Verify(self, responder protocol.DDTAddr, nonce Nonce, now time.Time) error {
	body, err := r.appendUnsigned(nil)
	if err != nil {
		return err
	}
	if r.RequesterAddr != self || r.RequestNonce != nonce {
		return fmt.Errorf("%w: response to request %s of %s", ErrWrongSource, r.RequestNonce, r.RequesterAddr)
	}
	if got := r.Addr(); got != responder {
		return fmt.Errorf("%w: response signed by %s, asked %s", ErrKeyMismatch, got, responder)
	}
	if err := verifySig(r.ResponderKey, ResponseSigningDomain, body, r.Sig); err != nil {
		return err
	}
	if err := checkFresh(r.Time, now); err != nil {
		return err
	}
	if r.Accepted {
		return r.Token.Verify(self, responder, now)
	}
	return nil
}

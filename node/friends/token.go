package friends

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/vmdt/vmdt/internal/wire"
	"github.com/vmdt/vmdt/protocol"
)

// TokenSigningDomain starts the bytes a token's issuer signs.
const TokenSigningDomain = "vmdt/friend-token/v1\x00"

// Token limits.
const (
	// TokenLen is the length of an encoded token.
	TokenLen = 2 + 1 + KeyLen + protocol.DDTAddrLen + 8 + 8 + 1 + SigLen
	// MaxTokenLifetime caps ExpiresAt - IssuedAt.
	MaxTokenLifetime = 366 * 24 * time.Hour
	// MaxClockSkew is how far in the future a token's issue time or a
	// request's time may lie, to allow for clocks that differ.
	MaxClockSkew = 2 * time.Minute
)

// Token is a friend token: receiver R's signed statement that sender S
// (Holder) may deposit shares for R in relays' share pools until
// ExpiresAt. R issues it when it accepts S.
type Token struct {
	IssuerKey []byte           // R's public key, marshaled (Ed25519)
	Holder    protocol.DDTAddr // S
	IssuedAt  time.Time        // whole seconds
	ExpiresAt time.Time        // whole seconds, after IssuedAt
	Sig       []byte           // R's signature
}

// IssueToken makes the token by which priv's owner lets holder deposit
// shares for it from issuedAt for ttl. Times are truncated to seconds.
func IssueToken(priv crypto.PrivKey, holder protocol.DDTAddr, issuedAt time.Time, ttl time.Duration) (Token, error) {
	key, err := signer(priv)
	if err != nil {
		return Token{}, err
	}
	t := Token{IssuerKey: key, Holder: holder, IssuedAt: wireTime(issuedAt), ExpiresAt: wireTime(issuedAt.Add(ttl))}
	body, err := t.appendUnsigned(nil)
	if err != nil {
		return Token{}, err
	}
	if t.Sig, err = sign(priv, TokenSigningDomain, body); err != nil {
		return Token{}, err
	}
	return t, nil
}

// Issuer returns the DDT address of the token's issuer: the only
// destination it is good for.
func (t Token) Issuer() protocol.DDTAddr { return protocol.DDTAddrFromPublicKey(t.IssuerKey) }

func (t Token) appendUnsigned(b []byte) ([]byte, error) {
	life := t.ExpiresAt.Sub(t.IssuedAt)
	switch {
	case len(t.IssuerKey) != KeyLen:
		return nil, fmt.Errorf("%w: issuer key of %d bytes", ErrMalformed, len(t.IssuerKey))
	case t.Holder.IsZero():
		return nil, fmt.Errorf("%w: zero holder address", ErrMalformed)
	case !validTime(t.IssuedAt) || !validTime(t.ExpiresAt) || life <= 0 || life > MaxTokenLifetime:
		return nil, fmt.Errorf("%w: token valid from %v to %v", ErrMalformed, t.IssuedAt, t.ExpiresAt)
	}
	b = append(b, Version, KindToken)
	b = wire.AppendVar(b, t.IssuerKey)
	b = append(b, t.Holder[:]...)
	b = appendTime(b, t.IssuedAt)
	return appendTime(b, t.ExpiresAt), nil
}

// Marshal returns the encoding of t.
func (t Token) Marshal() ([]byte, error) {
	b, err := t.appendUnsigned(make([]byte, 0, TokenLen))
	if err != nil {
		return nil, err
	}
	if len(t.Sig) != SigLen {
		return nil, fmt.Errorf("%w: signature of %d bytes", ErrMalformed, len(t.Sig))
	}
	return wire.AppendVar(b, t.Sig), nil
}

// ParseToken decodes a token. It checks the syntax, the key type and the
// lifetime, not the signature or the time (see Verify).
func ParseToken(b []byte) (Token, error) {
	rd := wire.NewReader(b, ErrMalformed)
	readHeader(rd, KindToken)
	key := rd.VarBytes(KeyLen, KeyLen, "issuer key")
	holder := rd.Bytes(protocol.DDTAddrLen, "holder")
	t := Token{IssuedAt: rd.Time("issued-at"), ExpiresAt: rd.Time("expires-at")}
	sig := rd.VarBytes(SigLen, SigLen, "signature")
	rd.End()
	if rd.Err != nil {
		return Token{}, rd.Err
	}
	if _, err := parseKey(key); err != nil {
		return Token{}, err
	}
	t.IssuerKey, t.Sig = bytes.Clone(key), bytes.Clone(sig)
	copy(t.Holder[:], holder)
	if _, err := t.appendUnsigned(nil); err != nil {
		return Token{}, err
	}
	return t, nil
}

// Verify checks that t lets src deposit shares for dst at time now: the
// issuer's key is dst's (ErrWrongDestination), the signature is the
// issuer's (ErrBadSignature), the holder is src (ErrWrongSource), and now
// lies in [IssuedAt-MaxClockSkew, ExpiresAt) (ErrNotYetValid, ErrExpired).
// A relay asked to hold a share from src for dst calls it.
func (t Token) Verify(src, dst protocol.DDTAddr, now time.Time) error {
	body, err := t.appendUnsigned(nil)
	if err != nil {
		return err
	}
	if len(t.Sig) != SigLen {
		return fmt.Errorf("%w: signature of %d bytes", ErrMalformed, len(t.Sig))
	}
	if got := t.Issuer(); got != dst {
		return fmt.Errorf("%w: token issued by %s, share for %s", ErrWrongDestination, got, dst)
	}
	if err := verifySig(t.IssuerKey, TokenSigningDomain, body, t.Sig); err != nil {
		return err
	}
	if t.Holder != src {
		return fmt.Errorf("%w: token held by %s, share from %s", ErrWrongSource, t.Holder, src)
	}
	if now.Before(t.IssuedAt.Add(-MaxClockSkew)) {
		return fmt.Errorf("%w: issued at %v", ErrNotYetValid, t.IssuedAt)
	}
	if !now.Before(t.ExpiresAt) {
		return fmt.Errorf("%w: at %v", ErrExpired, t.ExpiresAt)
	}
	return nil
}

// MarshalText encodes t as unpadded base64url of its encoding (for JSON).
func (t Token) MarshalText() ([]byte, error) {
	b, err := t.Marshal()
	if err != nil {
		return nil, err
	}
	return []byte(base64.RawURLEncoding.EncodeToString(b)), nil
}

// UnmarshalText decodes the MarshalText form.
func (t *Token) UnmarshalText(s []byte) error {
	b, err := base64.RawURLEncoding.DecodeString(string(s))
	if err != nil {
		return fmt.Errorf("%w: token: %v", ErrMalformed, err)
	}
	p, err := ParseToken(b)
	if err != nil {
		return err
	}
	*t = p
	return nil
}

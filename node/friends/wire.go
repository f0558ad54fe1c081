package friends

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	cryptopb "github.com/libp2p/go-libp2p/core/crypto/pb"

	"github.com/vmdt/vmdt/internal/wire"
)

// Wire constants shared by the three formats.
const (
	// Version is the version byte of every format in this package.
	Version = 1
	// Kinds, the second byte: which format follows.
	KindRequest  = 1
	KindResponse = 2
	KindToken    = 3

	// KeyLen is the length of a marshaled Ed25519 libp2p public key.
	KeyLen = 36
	// SigLen is the length of an Ed25519 signature.
	SigLen = 64
	// NonceLen is the length of a request nonce.
	NonceLen = 16
)

// Nonce makes a request unique; the response names it.
type Nonce [NonceLen]byte

func (n Nonce) String() string { return hex.EncodeToString(n[:]) }

// MarshalText encodes n as hex (for JSON).
func (n Nonce) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

// UnmarshalText decodes the hex form.
func (n *Nonce) UnmarshalText(b []byte) error {
	if len(b) != 2*NonceLen {
		return fmt.Errorf("%w: nonce of %d hex characters", ErrMalformed, len(b))
	}
	if _, err := hex.Decode(n[:], b); err != nil {
		return fmt.Errorf("%w: nonce: %v", ErrMalformed, err)
	}
	return nil
}

func newNonce(r io.Reader) (Nonce, error) {
	if r == nil {
		r = rand.Reader
	}
	var n Nonce
	_, err := io.ReadFull(r, n[:])
	return n, err
}

// readHeader reads and checks the version and kind bytes.
func readHeader(r *wire.Reader, kind byte) {
	v, k := r.U8("version"), r.U8("kind")
	if r.Err == nil && (v != Version || k != kind) {
		r.Fail("version %d kind %d, want %d and %d", v, k, Version, kind)
	}
}

// wireTime truncates t to the whole seconds the wire carries, in UTC.
func wireTime(t time.Time) time.Time { return time.Unix(t.Unix(), 0).UTC() }

func appendTime(b []byte, t time.Time) []byte {
	s := t.Unix()
	if s < 0 || s >= wire.MaxTime {
		s = 0 // rejected by validTime before encoding
	}
	return binary.BigEndian.AppendUint64(b, uint64(s))
}

func validTime(t time.Time) bool { s := t.Unix(); return s >= 0 && s < wire.MaxTime }

// parseKey decodes a marshaled public key. Only canonically encoded
// Ed25519 keys are accepted, so a key has one encoding and one DDT
// address.
func parseKey(b []byte) (crypto.PubKey, error) {
	pub, err := crypto.UnmarshalPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: public key: %v", ErrMalformed, err)
	}
	if pub.Type() != cryptopb.KeyType_Ed25519 {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedKey, pub.Type())
	}
	if c, err := crypto.MarshalPublicKey(pub); err != nil || !bytes.Equal(c, b) {
		return nil, fmt.Errorf("%w: public key not canonically encoded", ErrMalformed)
	}
	return pub, nil
}

// signer returns priv's marshaled public key, checking it is Ed25519.
func signer(priv crypto.PrivKey) ([]byte, error) {
	if priv == nil || priv.Type() != cryptopb.KeyType_Ed25519 {
		return nil, ErrUnsupportedKey
	}
	return crypto.MarshalPublicKey(priv.GetPublic())
}

// verifySig checks sig by the marshaled key over domain || msg.
func verifySig(key []byte, domain string, msg, sig []byte) error {
	pub, err := parseKey(key)
	if err != nil {
		return err
	}
	ok, err := pub.Verify(append([]byte(domain), msg...), sig)
	if err != nil || !ok {
		return ErrBadSignature
	}
	return nil
}

func sign(priv crypto.PrivKey, domain string, msg []byte) ([]byte, error) {
	return priv.Sign(append([]byte(domain), msg...))
}

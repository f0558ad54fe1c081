package namerec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	cryptopb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/internal/wire"
	"github.com/vmdt/vmdt/protocol"
)

const (
	// RecordVersion is the version byte of the record encoding.
	RecordVersion = 1
	// MaxRecordSize caps an encoded record; larger values are rejected
	// before parsing.
	MaxRecordSize = 4096
	// MaxAuthorities caps the authorities of a network and so the
	// countersignatures of a record.
	MaxAuthorities = 21
	// SealKeyLen is the size of an X25519 seal public key.
	SealKeyLen = 32
	// SigLen is the size of an Ed25519 signature.
	SigLen = 64

	maxKeyLen    = 64
	maxPeerIDLen = 64
)

// ErrRecordTooLarge reports a record above MaxRecordSize.
var ErrRecordTooLarge = errors.New("name record too large")

// Countersignature is one authority's statement that it holds the claim
// (name, owner key) until ValidUntil, by the authority's own clock.
type Countersignature struct {
	Authority  peer.ID
	ValidUntil time.Time
	Sig        []byte
}

// Record binds a username to its owner's public key, and through it to the
// owner's peer ID, DDT address and seal key. See the package doc for the
// encoding and Verify for the rules that make it valid.
type Record struct {
	Name    string
	PeerID  peer.ID
	PubKey  crypto.PubKey
	DDTAddr protocol.DDTAddr
	SealKey []byte // X25519 public key, SealKeyLen bytes
	Seq     uint64
	Expiry  time.Time // the owner's own expiry; see Verify for the effective one

	// Counters are the authorities' countersignatures over (Name, PubKey),
	// sorted by authority peer ID bytes.
	Counters []Countersignature
	// Sig is the owner's signature over the encoding up to this field.
	Sig []byte
}

// appendUnsigned appends the encoding of r without the owner signature.
func (r *Record) appendUnsigned(b []byte) ([]byte, error) {
	if err := CheckName(r.Name); err != nil {
		return nil, err
	}
	if r.PubKey == nil {
		return nil, fmt.Errorf("%w: no public key", ErrMalformed)
	}
	key, err := crypto.MarshalPublicKey(r.PubKey)
	if err != nil {
		return nil, fmt.Errorf("%w: public key: %v", ErrMalformed, err)
	}
	switch {
	case len(key) > maxKeyLen:
		return nil, fmt.Errorf("%w: public key of %d bytes", ErrMalformed, len(key))
	case len(r.PeerID) == 0 || len(r.PeerID) > maxPeerIDLen:
		return nil, fmt.Errorf("%w: peer ID of %d bytes", ErrMalformed, len(r.PeerID))
	case len(r.SealKey) != SealKeyLen:
		return nil, fmt.Errorf("%w: seal key of %d bytes, want %d", ErrMalformed, len(r.SealKey), SealKeyLen)
	case len(r.Counters) == 0 || len(r.Counters) > MaxAuthorities:
		return nil, fmt.Errorf("%w: %d countersignatures, want 1..%d", ErrMalformed, len(r.Counters), MaxAuthorities)
	}
	b = append(b, RecordVersion)
	b = wire.AppendVar(b, []byte(r.Name))
	b = wire.AppendVar(b, key)
	b = wire.AppendVar(b, []byte(r.PeerID))
	b = append(b, r.DDTAddr[:]...)
	b = append(b, r.SealKey...)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = appendTime(b, r.Expiry)
	b = append(b, byte(len(r.Counters)))
	for i, c := range r.Counters {
		if len(c.Authority) == 0 || len(c.Authority) > maxPeerIDLen || len(c.Sig) != SigLen {
			return nil, fmt.Errorf("%w: countersignature %d: authority of %d bytes, signature of %d", ErrMalformed, i, len(c.Authority), len(c.Sig))
		}
		b = wire.AppendVar(b, []byte(c.Authority))
		b = appendTime(b, c.ValidUntil)
		b = wire.AppendVar(b, c.Sig)
	}
	return b, nil
}

// Marshal returns the encoding of r, owner signature included.
func (r *Record) Marshal() ([]byte, error) {
	b, err := r.appendUnsigned(make([]byte, 0, 512))
	if err != nil {
		return nil, err
	}
	if len(r.Sig) != SigLen {
		return nil, fmt.Errorf("%w: owner signature of %d bytes, want %d", ErrMalformed, len(r.Sig), SigLen)
	}
	b = wire.AppendVar(b, r.Sig)
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrRecordTooLarge, len(b), MaxRecordSize)
	}
	return b, nil
}

// ParseRecord decodes a record. It checks the syntax, the name, that the
// owner key is a canonically encoded Ed25519 key, and that the peer ID
// and DDT address are the owner key's; it does not check signatures or
// times (see Verify). Errors wrap ErrRecordTooLarge, ErrMalformed,
// ErrInvalidName, ErrUnsupportedKey, ErrPeerIDMismatch or ErrAddrMismatch.
func ParseRecord(b []byte) (*Record, error) {
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrRecordTooLarge, len(b), MaxRecordSize)
	}
	rd := wire.NewReader(b, ErrMalformed)
	if v := rd.U8("version"); rd.Err == nil && v != RecordVersion {
		return nil, fmt.Errorf("%w: record version %d, want %d", ErrMalformed, v, RecordVersion)
	}
	var r Record
	name := rd.VarBytes(1, MaxNameLen, "name")
	key := rd.VarBytes(1, maxKeyLen, "public key")
	pid := rd.VarBytes(1, maxPeerIDLen, "peer ID")
	addr := rd.Bytes(protocol.DDTAddrLen, "DDT address")
	r.SealKey = bytes.Clone(rd.Bytes(SealKeyLen, "seal key"))
	r.Seq = rd.U64("sequence number")
	r.Expiry = rd.Time("expiry")
	n := int(rd.U8("countersignature count"))
	if rd.Err == nil && (n == 0 || n > MaxAuthorities) {
		rd.Fail("%d countersignatures, want 1..%d", n, MaxAuthorities)
	}
	for i := 0; i < n && rd.Err == nil; i++ {
		a := rd.VarBytes(1, maxPeerIDLen, "authority")
		until := rd.Time("valid-until")
		sig := rd.VarBytes(SigLen, SigLen, "countersignature")
		if rd.Err != nil {
			break
		}
		id, err := peer.IDFromBytes(a)
		if err != nil {
			return nil, fmt.Errorf("%w: countersignature %d: authority: %v", ErrMalformed, i, err)
		}
		r.Counters = append(r.Counters, Countersignature{Authority: id, ValidUntil: until, Sig: bytes.Clone(sig)})
	}
	r.Sig = bytes.Clone(rd.VarBytes(SigLen, SigLen, "owner signature"))
	rd.End()
	if rd.Err != nil {
		return nil, rd.Err
	}
	r.Name = string(name)
	if err := CheckName(r.Name); err != nil {
		return nil, err
	}
	pub, err := ParsePublicKey(key)
	if err != nil {
		return nil, err
	}
	r.PubKey = pub
	id, err := peer.IDFromBytes(pid)
	if err != nil {
		return nil, fmt.Errorf("%w: peer ID: %v", ErrMalformed, err)
	}
	r.PeerID = id
	copy(r.DDTAddr[:], addr)
	if want, _ := peer.IDFromPublicKey(pub); id != want {
		return nil, fmt.Errorf("%w: record says %s, key is %s", ErrPeerIDMismatch, id, want)
	}
	if want := protocol.DDTAddrFromPublicKey(key); r.DDTAddr != want {
		return nil, fmt.Errorf("%w: record says %s, key is %s", ErrAddrMismatch, r.DDTAddr, want)
	}
	return &r, nil
}

// ParsePublicKey decodes a marshaled owner key. Only Ed25519 keys in their
// canonical encoding are accepted, so that a key has one encoding and one
// DDT address. Errors wrap ErrUnsupportedKey or ErrMalformed.
func ParsePublicKey(b []byte) (crypto.PubKey, error) {
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

// ClaimTTL is how long a notary holds a claim after the owner's last
// renewal: a name whose owner has been gone this long becomes free.
const ClaimTTL = 7 * 24 * time.Hour

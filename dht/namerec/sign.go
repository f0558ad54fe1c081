package namerec

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/internal/wire"
	"github.com/vmdt/vmdt/protocol"
)

// Signature domains. Each signed payload starts with one, so a signature
// made for one purpose is never valid for another.
const (
	RecordSigningDomain  = "vmdt/name-record/v1\x00"
	CounterSigningDomain = "vmdt/name-counter/v1\x00"
	ClaimSigningDomain   = "vmdt/notary-claim/v1\x00"
)

// CounterPayload is what an authority signs to hold name for the owner key
// (marshaled) until validUntil.
func CounterPayload(name string, ownerKey []byte, validUntil time.Time) []byte {
	b := make([]byte, 0, len(CounterSigningDomain)+2+len(name)+len(ownerKey)+8)
	b = append(b, CounterSigningDomain...)
	b = wire.AppendVar(b, []byte(name))
	b = wire.AppendVar(b, ownerKey)
	return appendTime(b, validUntil)
}

// ClaimPayload is what an owner signs to ask the notary to hold name for
// its key for d (whole seconds).
func ClaimPayload(notary peer.ID, name string, ownerKey []byte, d time.Duration) []byte {
	b := make([]byte, 0, 136)
	b = append(b, ClaimSigningDomain...)
	b = wire.AppendVar(b, []byte(notary))
	b = wire.AppendVar(b, []byte(name))
	b = wire.AppendVar(b, ownerKey)
	return binary.BigEndian.AppendUint32(b, uint32(d/time.Second))
}

// Countersign makes authority key priv's countersignature holding name for
// ownerKey (marshaled) until validUntil, truncated to whole seconds.
func Countersign(priv crypto.PrivKey, name string, ownerKey []byte, validUntil time.Time) (Countersignature, error) {
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return Countersignature{}, err
	}
	until := time.Unix(int64(unixTime(validUntil)), 0).UTC()
	sig, err := priv.Sign(CounterPayload(name, ownerKey, until))
	if err != nil {
		return Countersignature{}, err
	}
	return Countersignature{Authority: id, ValidUntil: until, Sig: sig}, nil
}

// NewRecord builds the record binding name to priv's key and sealKey. It
// sorts counters by authority and signs the record with priv. It does not
// verify the countersignatures; see Verify.
func NewRecord(priv crypto.PrivKey, name string, sealKey []byte, seq uint64, expiry time.Time, counters []Countersignature) (*Record, []byte, error) {
	pub := priv.GetPublic()
	key, err := crypto.MarshalPublicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	if _, err := ParsePublicKey(key); err != nil {
		return nil, nil, err
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	r := &Record{
		Name:     name,
		PeerID:   id,
		PubKey:   pub,
		DDTAddr:  protocol.DDTAddrFromPublicKey(key),
		SealKey:  append([]byte(nil), sealKey...),
		Seq:      seq,
		Expiry:   time.Unix(int64(unixTime(expiry)), 0).UTC(),
		Counters: SortCounters(counters),
	}
	if err := r.Sign(priv); err != nil {
		return nil, nil, err
	}
	b, err := r.Marshal()
	if err != nil {
		return nil, nil, err
	}
	return r, b, nil
}

// SortCounters returns a copy of cs sorted by authority peer ID bytes, the
// order the encoding requires.
func SortCounters(cs []Countersignature) []Countersignature {
	out := append([]Countersignature(nil), cs...)
	for i := 1; i < len(out); i++ { // insertion sort: at most MaxAuthorities
		for j := i; j > 0 && out[j].Authority < out[j-1].Authority; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// SigningBytes returns what the owner signs: RecordSigningDomain followed
// by the encoding of r without its signature.
func (r *Record) SigningBytes() ([]byte, error) {
	return r.appendUnsigned([]byte(RecordSigningDomain))
}

// Sign sets r.Sig to priv's signature over r.SigningBytes.
func (r *Record) Sign(priv crypto.PrivKey) error {
	msg, err := r.SigningBytes()
	if err != nil {
		return err
	}
	sig, err := priv.Sign(msg)
	if err != nil {
		return fmt.Errorf("sign name record: %w", err)
	}
	r.Sig = sig
	return nil
}

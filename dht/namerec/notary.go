package namerec

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/internal/wire"
)

const (
	// NotaryProtocol is the libp2p protocol ID of the notary service.
	NotaryProtocol = "/vmdt/notary/1.0.0"
	// NotaryVersion is the version byte of notary requests and responses.
	NotaryVersion = 1
	// MaxRequestSize caps an encoded notary request.
	MaxRequestSize = 256
	// MaxResponseSize caps an encoded notary response.
	MaxResponseSize = 256
	// MaxReasonLen caps the reason text of a refusal.
	MaxReasonLen = 120
)

// RequestType says what a notary request asks for.
type RequestType byte

// RequestClaim asks the notary to hold a name for the owner key for the
// requested duration, or to extend its hold if it already holds the name
// for that key. It is the only request type of version 1.
const RequestClaim RequestType = 1

// Request is a notary claim. PubKey is the marshaled owner key. Duration
// is how long the claimant wants the hold, in whole seconds; the notary
// grants at most its configured maximum (7 days by default). A claimant
// racing for a fresh name first asks for a short hold and asks for the
// full one only once a majority granted the short one, so that a split
// race blocks the name only briefly.
type Request struct {
	Type     RequestType
	Name     string
	PubKey   []byte
	Duration time.Duration
	Sig      []byte
}

// Status is the outcome a notary reports.
type Status byte

const (
	StatusGrantedNew     Status = 1 // new claim held for the key
	StatusGrantedRenewed Status = 2 // the key's existing claim extended
	StatusHeld           Status = 3 // held by another key until HeldUntil
	StatusRefused        Status = 4 // bad request
	StatusUnavailable    Status = 5 // notary full or failing
)

// Response is a notary response.
type Response struct {
	Status Status
	// Counter is the countersignature (StatusGranted*); its Authority is
	// not encoded and is set by the receiver to the notary's peer ID.
	Counter Countersignature
	// HeldUntil is when another key's claim lapses (StatusHeld).
	HeldUntil time.Time
	// Reason explains StatusRefused and StatusUnavailable.
	Reason string
}

// Granted reports whether the response carries a countersignature.
func (r *Response) Granted() bool {
	return r.Status == StatusGrantedNew || r.Status == StatusGrantedRenewed
}

// MaxDuration is the longest hold a request can encode (2^32-1 seconds).
const MaxDuration = time.Duration(1<<32-1) * time.Second

// NewClaimRequest builds the signed claim for name at notary, asking for a
// hold of d (whole seconds, 1 s .. MaxDuration).
func NewClaimRequest(priv crypto.PrivKey, notary peer.ID, name string, d time.Duration) (*Request, error) {
	key, err := crypto.MarshalPublicKey(priv.GetPublic())
	if err != nil {
		return nil, err
	}
	d = d.Truncate(time.Second)
	if d < time.Second || d > MaxDuration {
		return nil, fmt.Errorf("%w: hold of %s", ErrMalformed, d)
	}
	sig, err := priv.Sign(ClaimPayload(notary, name, key, d))
	if err != nil {
		return nil, err
	}
	return &Request{Type: RequestClaim, Name: name, PubKey: key, Duration: d, Sig: sig}, nil
}

// VerifySig checks the owner's signature for a request addressed to notary.
func (q *Request) VerifySig(notary peer.ID) error {
	pub, err := ParsePublicKey(q.PubKey)
	if err != nil {
		return err
	}
	msg := ClaimPayload(notary, q.Name, q.PubKey, q.Duration)
	if ok, err := pub.Verify(msg, q.Sig); err != nil || !ok {
		return fmt.Errorf("%w: notary request for %q", ErrBadSignature, q.Name)
	}
	return nil
}

// AppendRequest appends the encoding of q to b.
func AppendRequest(b []byte, q *Request) ([]byte, error) {
	if q.Type != RequestClaim {
		return nil, fmt.Errorf("%w: request type %d", ErrMalformed, q.Type)
	}
	if q.Duration < time.Second || q.Duration > MaxDuration || q.Duration%time.Second != 0 {
		return nil, fmt.Errorf("%w: hold of %s", ErrMalformed, q.Duration)
	}
	if err := CheckName(q.Name); err != nil {
		return nil, err
	}
	if len(q.PubKey) == 0 || len(q.PubKey) > maxKeyLen || len(q.Sig) != SigLen {
		return nil, fmt.Errorf("%w: key of %d bytes, signature of %d", ErrMalformed, len(q.PubKey), len(q.Sig))
	}
	b = append(b, NotaryVersion, byte(q.Type))
	b = wire.AppendVar(b, []byte(q.Name))
	b = wire.AppendVar(b, q.PubKey)
	b = binary.BigEndian.AppendUint32(b, uint32(q.Duration/time.Second))
	return wire.AppendVar(b, q.Sig), nil
}

// ParseRequest decodes a notary request and checks that its name is
// normalized and its key is a canonical Ed25519 key. It does not check the
// signature (see VerifySig).
func ParseRequest(b []byte) (*Request, error) {
	if len(b) > MaxRequestSize {
		return nil, fmt.Errorf("%w: request of %d bytes, at most %d", ErrMalformed, len(b), MaxRequestSize)
	}
	rd := wire.NewReader(b, ErrMalformed)
	if v := rd.U8("version"); rd.Err == nil && v != NotaryVersion {
		return nil, fmt.Errorf("%w: notary version %d, want %d", ErrMalformed, v, NotaryVersion)
	}
	q := &Request{Type: RequestType(rd.U8("type"))}
	if rd.Err == nil && q.Type != RequestClaim {
		return nil, fmt.Errorf("%w: request type %d", ErrMalformed, q.Type)
	}
	name := rd.VarBytes(1, MaxNameLen, "name")
	q.PubKey = append([]byte(nil), rd.VarBytes(1, maxKeyLen, "public key")...)
	secs := rd.U32("duration")
	if rd.Err == nil && secs == 0 {
		rd.Fail("zero hold duration")
	}
	q.Duration = time.Duration(secs) * time.Second
	q.Sig = append([]byte(nil), rd.VarBytes(SigLen, SigLen, "signature")...)
	rd.End()
	if rd.Err != nil {
		return nil, rd.Err
	}
	q.Name = string(name)
	if err := CheckName(q.Name); err != nil {
		return nil, err
	}
	if _, err := ParsePublicKey(q.PubKey); err != nil {
		return nil, err
	}
	return q, nil
}

// AppendResponse appends the encoding of r to b.
func AppendResponse(b []byte, r *Response) ([]byte, error) {
	b = append(b, NotaryVersion, byte(r.Status))
	switch r.Status {
	case StatusGrantedNew, StatusGrantedRenewed:
		if len(r.Counter.Sig) != SigLen {
			return nil, fmt.Errorf("%w: countersignature of %d bytes", ErrMalformed, len(r.Counter.Sig))
		}
		b = appendTime(b, r.Counter.ValidUntil)
		b = wire.AppendVar(b, r.Counter.Sig)
	case StatusHeld:
		b = appendTime(b, r.HeldUntil)
	case StatusRefused, StatusUnavailable:
		if err := checkReason(r.Reason); err != nil {
			return nil, err
		}
		b = wire.AppendVar(b, []byte(r.Reason))
	default:
		return nil, fmt.Errorf("%w: status %d", ErrMalformed, r.Status)
	}
	return b, nil
}

// ParseResponse decodes a notary response from notary, whose peer ID
// becomes the countersignature's Authority.
func ParseResponse(b []byte, notary peer.ID) (*Response, error) {
	if len(b) > MaxResponseSize {
		return nil, fmt.Errorf("%w: response of %d bytes, at most %d", ErrMalformed, len(b), MaxResponseSize)
	}
	rd := wire.NewReader(b, ErrMalformed)
	if v := rd.U8("version"); rd.Err == nil && v != NotaryVersion {
		return nil, fmt.Errorf("%w: notary version %d, want %d", ErrMalformed, v, NotaryVersion)
	}
	r := &Response{Status: Status(rd.U8("status"))}
	if rd.Err != nil {
		return nil, rd.Err
	}
	switch r.Status {
	case StatusGrantedNew, StatusGrantedRenewed:
		r.Counter.Authority = notary
		r.Counter.ValidUntil = rd.Time("valid-until")
		r.Counter.Sig = append([]byte(nil), rd.VarBytes(SigLen, SigLen, "countersignature")...)
	case StatusHeld:
		r.HeldUntil = rd.Time("held-until")
	case StatusRefused, StatusUnavailable:
		r.Reason = string(rd.VarBytes(0, MaxReasonLen, "reason"))
		if rd.Err == nil {
			if err := checkReason(r.Reason); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("%w: status %d", ErrMalformed, r.Status)
	}
	rd.End()
	if rd.Err != nil {
		return nil, rd.Err
	}
	return r, nil
}

func checkReason(s string) error {
	if len(s) > MaxReasonLen {
		return fmt.Errorf("%w: reason of %d bytes, at most %d", ErrMalformed, len(s), MaxReasonLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return fmt.Errorf("%w: reason byte %#x at %d is not printable ASCII", ErrMalformed, s[i], i)
		}
	}
	return nil
}

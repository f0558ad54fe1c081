package ssms

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Sizes of the version-1 wire form; see the package documentation.
const (
	Version      = 1  // the only version this package reads and writes
	HeaderSize   = 77 // bytes before the fragment
	IDSize       = 16 // message id
	KeyShareSize = 33 // key share: 32 y bytes, then the x-coordinate
	TagSize      = 16 // share tag

	keySize = 32 // AES-256 message key, the secret the key shares split
)

// Header field offsets.
const (
	offVersion  = 0
	offN        = 1
	offK        = 2
	offIndex    = 3
	offMsgLen   = 4
	offID       = 12
	offKeyShare = 28
	offTag      = 61
)

// Share is one of the n shares Split makes of a message. Shares with Index
// 1..K carry the ciphertext itself, Index K+1..N carry Reed-Solomon parity.
// Fields are exported so that other layers can, for example, seal KeyShare
// to a receiver and transport Fragment separately; Combine checks every
// field, so a hand-built or altered Share is rejected, never trusted.
type Share struct {
	Index  uint8 // 1..N: which fragment and key share this is
	N, K   uint8 // total shares and threshold, 2 <= K <= N
	MsgLen uint64
	// MsgID is the same in every share of one message and differs between
	// messages: it is derived from the message key and doubles as the key
	// check value that tells a correctly reconstructed key.
	MsgID [IDSize]byte
	// KeyShare is the hashicorp/vault/shamir share of the message key:
	// KeyShareSize bytes, 32 y bytes then the x-coordinate (1..255).
	KeyShare []byte
	// Tag authenticates everything else in the share under a key derived
	// from the message key.
	Tag [TagSize]byte
	// Fragment is erasure-code fragment Index-1 of the ciphertext,
	// FragmentSize(MsgLen, K) bytes.
	Fragment []byte
}

// FragmentSize returns the fragment length of every share of a message of
// msgLen bytes split with threshold k: ⌈msgLen/k⌉. k must be positive.
func FragmentSize(msgLen uint64, k int) uint64 {
	q := msgLen / uint64(k)
	if msgLen%uint64(k) != 0 {
		q++
	}
	return q
}

// validate checks everything about s that can be checked without other
// shares or the message key.
func (s *Share) validate() error {
	switch {
	case s.N < 2 || s.K < 2 || s.K > s.N:
		return fmt.Errorf("%w: %w: n=%d k=%d", ErrMalformed, ErrInvalidParams, s.N, s.K)
	case s.Index == 0 || s.Index > s.N:
		return fmt.Errorf("%w: index %d of %d", ErrMalformed, s.Index, s.N)
	case len(s.KeyShare) != KeyShareSize:
		return fmt.Errorf("%w: key share of %d bytes, want %d", ErrMalformed, len(s.KeyShare), KeyShareSize)
	case s.KeyShare[keySize] == 0:
		return fmt.Errorf("%w: key-share x-coordinate 0", ErrMalformed)
	case s.MsgLen > math.MaxInt:
		return fmt.Errorf("%w: message length %d", ErrMalformed, s.MsgLen)
	}
	if want := FragmentSize(s.MsgLen, int(s.K)); uint64(len(s.Fragment)) != want {
		return fmt.Errorf("%w: fragment of %d bytes, want %d for a %d-byte message and k=%d",
			ErrMalformed, len(s.Fragment), want, s.MsgLen, s.K)
	}
	return nil
}

// x returns the key-share x-coordinate of a validated share.
func (s *Share) x() byte { return s.KeyShare[keySize] }

// appendHeader appends the first offTag bytes of the wire form: everything
// the tag covers directly.
func (s *Share) appendHeader(b []byte) []byte {
	b = append(b, Version, s.N, s.K, s.Index)
	b = binary.BigEndian.AppendUint64(b, s.MsgLen)
	b = append(b, s.MsgID[:]...)
	return append(b, s.KeyShare...)
}

// AppendBinary appends the wire form of s to b (encoding.BinaryAppender).
func (s Share) AppendBinary(b []byte) ([]byte, error) {
	if err := s.validate(); err != nil {
		return b, err
	}
	b = s.appendHeader(b)
	b = append(b, s.Tag[:]...)
	return append(b, s.Fragment...), nil
}

// MarshalBinary returns the wire form of s: HeaderSize bytes of header, then
// the fragment. It fails, wrapping ErrMalformed, if s is not well formed.
func (s Share) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, HeaderSize+len(s.Fragment)))
}

// UnmarshalBinary parses the wire form of a share. It rejects unknown
// versions, out-of-range fields, key-share x-coordinate 0 and any length
// other than HeaderSize plus the fragment size the header implies, wrapping
// ErrMalformed. It copies KeyShare and Fragment out of b into one new
// allocation of len(b)−44 bytes, so b may be reused afterwards. On error s
// is left unchanged.
func (s *Share) UnmarshalBinary(b []byte) error {
	if len(b) < HeaderSize {
		return fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrMalformed, len(b), HeaderSize)
	}
	if b[offVersion] != Version {
		return fmt.Errorf("%w: unknown version %d", ErrMalformed, b[offVersion])
	}
	t := Share{
		N:        b[offN],
		K:        b[offK],
		Index:    b[offIndex],
		MsgLen:   binary.BigEndian.Uint64(b[offMsgLen:]),
		KeyShare: b[offKeyShare:offTag],
		Fragment: b[HeaderSize:],
	}
	copy(t.MsgID[:], b[offID:offKeyShare])
	copy(t.Tag[:], b[offTag:HeaderSize])
	if err := t.validate(); err != nil {
		return err
	}
	own := make([]byte, KeyShareSize+len(t.Fragment))
	copy(own, t.KeyShare)
	copy(own[KeyShareSize:], t.Fragment)
	t.KeyShare = own[:KeyShareSize:KeyShareSize]
	t.Fragment = own[KeyShareSize:]
	*s = t
	return nil
}

package envelope

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/ssms"
)

// Sizes of the version-1 layout; see the package documentation.
const (
	Version = 1 // the only version this package reads and writes

	SenderKeySize      = 36                     // libp2p-marshaled Ed25519 public key
	EphemeralSize      = 32                     // X25519 public key
	DigestSize         = sha256.Size            // one share digest
	SignatureSize      = 64                     // Ed25519
	SealedKeyShareSize = ssms.KeyShareSize + 16 // GCM ciphertext and tag
	FileIDSize         = 16

	manifestFixed = 164                                           // manifest bytes before the digests
	sharePartSize = 1 + ssms.TagSize + SealedKeyShareSize         // index, tag, sealed key share
	prefixFixed   = manifestFixed + SignatureSize + sharePartSize // PrefixLen(n) − 32n
)

// Manifest field offsets.
const (
	offVersion    = 0
	offN          = 1
	offK          = 2
	offReserved   = 3
	offMessageID  = 4
	offDst        = 12
	offSender     = 32
	offEphemeral  = 68
	offCreated    = 100
	offMsgLen     = 108
	offFragLen    = 116
	offSSMSID     = 124
	offFileID     = 140
	offChunkIndex = 156
	offChunkCount = 160
	offDigests    = manifestFixed
)

// ed25519KeyHeader starts every libp2p-marshaled Ed25519 public key:
// protobuf field 1 (type) = 1 (Ed25519), field 2 (data) of 32 bytes.
var ed25519KeyHeader = [4]byte{0x08, 0x01, 0x12, 0x20}

// Domain strings; see the package documentation.
const (
	signDomain   = "vmdt/envelope v1 manifest\x00"
	digestDomain = "vmdt/envelope v1 share\x00"
	sealDomain   = "vmdt/envelope v1 key share\x00"
)

// PrefixLen returns the length of the prefix of every envelope of a
// message split into n shares: 294 + 32n bytes. The fragment starts there.
func PrefixLen(n int) int { return prefixFixed + DigestSize*n }

// manifestLen returns the length of the signed part of the manifest.
func manifestLen(n int) int { return manifestFixed + DigestSize*n }

// Chunk places a message in a file: chunk Index of Count of the file named
// FileID. The zero Chunk means the message is not part of a file.
type Chunk struct {
	FileID       [FileIDSize]byte
	Index, Count uint32
}

// IsZero reports whether c is the zero Chunk (not a file chunk).
func (c Chunk) IsZero() bool { return c == Chunk{} }

func (c Chunk) valid() bool {
	if c.Count == 0 {
		return c.IsZero()
	}
	return c.Index < c.Count
}

// Manifest is what the sender signs: the same in every share of a message.
type Manifest struct {
	N, K      uint8
	MessageID protocol.MessageID
	Dst       protocol.DDTAddr
	Sender    crypto.PubKey // Ed25519; see Src
	Ephemeral [EphemeralSize]byte
	Created   time.Time
	MsgLen    uint64
	// FragmentLen is ssms.FragmentSize(MsgLen, K): the length of every
	// fragment, and of the transfer after the prefix.
	FragmentLen uint64
	SSMSID      [ssms.IDSize]byte
	Chunk       Chunk
	Digests     [][DigestSize]byte // D_1..D_n at Digests[0..n-1]
	Signature   [SignatureSize]byte

	sender []byte // marshaled Sender
	src    protocol.DDTAddr
}

// Src returns the DDT address of the sender's key.
func (m *Manifest) Src() protocol.DDTAddr { return m.src }

// TransferLen returns the length of every envelope of the message:
// PrefixLen(N) + FragmentLen.
func (m *Manifest) TransferLen() int { return PrefixLen(int(m.N)) + int(m.FragmentLen) }

// Prefix is a parsed envelope prefix: the manifest and one share's part.
type Prefix struct {
	Manifest
	Index          uint8 // 1..N
	Tag            [ssms.TagSize]byte
	SealedKeyShare [SealedKeyShareSize]byte

	signed []byte // the manifest bytes the signature covers, domain excluded
}

// ParsePrefix parses the prefix at the start of b, which may be a whole
// envelope or any longer slice; the bytes after PrefixLen(n) are ignored.
// It checks structure only (fields in range, lengths consistent, a
// canonical Ed25519 key) and wraps ErrMalformed otherwise. It does not
// verify the signature or digest: call Verify. The Prefix does not alias
// b.
func ParsePrefix(b []byte) (*Prefix, error) {
	if len(b) < offDigests {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte fixed manifest", ErrMalformed, len(b), offDigests)
	}
	if b[offVersion] != Version {
		return nil, fmt.Errorf("%w: unknown version %d", ErrMalformed, b[offVersion])
	}
	n, k := int(b[offN]), int(b[offK])
	switch {
	case n < 2 || k < 2 || k > n:
		return nil, fmt.Errorf("%w: n=%d k=%d", ErrMalformed, n, k)
	case b[offReserved] != 0:
		return nil, fmt.Errorf("%w: reserved byte %#02x", ErrMalformed, b[offReserved])
	case len(b) < PrefixLen(n):
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte prefix for n=%d", ErrMalformed, len(b), PrefixLen(n), n)
	}
	b = b[:PrefixLen(n)]
	ml := manifestLen(n)
	p := &Prefix{signed: bytes.Clone(b[:ml])}
	m := &p.Manifest
	m.N, m.K = uint8(n), uint8(k)
	copy(m.MessageID[:], b[offMessageID:])
	copy(m.Dst[:], b[offDst:])
	copy(m.Ephemeral[:], b[offEphemeral:])
	m.Created = time.Unix(0, int64(binary.BigEndian.Uint64(b[offCreated:])))
	m.MsgLen = binary.BigEndian.Uint64(b[offMsgLen:])
	m.FragmentLen = binary.BigEndian.Uint64(b[offFragLen:])
	copy(m.SSMSID[:], b[offSSMSID:])
	copy(m.Chunk.FileID[:], b[offFileID:])
	m.Chunk.Index = binary.BigEndian.Uint32(b[offChunkIndex:])
	m.Chunk.Count = binary.BigEndian.Uint32(b[offChunkCount:])
	if m.FragmentLen != ssms.FragmentSize(m.MsgLen, k) {
		return nil, fmt.Errorf("%w: fragment length %d, want %d for %d bytes and k=%d",
			ErrMalformed, m.FragmentLen, ssms.FragmentSize(m.MsgLen, k), m.MsgLen, k)
	}
	if m.FragmentLen > maxTransfer-uint64(PrefixLen(n)) {
		return nil, fmt.Errorf("%w: fragment length %d does not fit a VMDT transfer", ErrMalformed, m.FragmentLen)
	}
	if !m.Chunk.valid() {
		return nil, fmt.Errorf("%w: chunk %d of %d", ErrMalformed, m.Chunk.Index, m.Chunk.Count)
	}
	if err := m.setSender(p.signed[offSender : offSender+SenderKeySize]); err != nil {
		return nil, err
	}
	m.Digests = make([][DigestSize]byte, n)
	for i := range m.Digests {
		copy(m.Digests[i][:], b[offDigests+DigestSize*i:])
	}
	copy(m.Signature[:], b[ml:])
	s := b[ml+SignatureSize:]
	p.Index = s[0]
	if p.Index == 0 || int(p.Index) > n {
		return nil, fmt.Errorf("%w: share index %d of %d", ErrMalformed, p.Index, n)
	}
	copy(p.Tag[:], s[1:])
	copy(p.SealedKeyShare[:], s[1+ssms.TagSize:])
	return p, nil
}

// setSender parses a marshaled sender key, which must be a canonical
// libp2p Ed25519 public key, and sets Sender and the source address.
func (m *Manifest) setSender(key []byte) error {
	if len(key) != SenderKeySize || !bytes.Equal(key[:4], ed25519KeyHeader[:]) {
		return fmt.Errorf("%w: sender key is not a marshaled Ed25519 key", ErrMalformed)
	}
	pub, err := crypto.UnmarshalEd25519PublicKey(key[4:])
	if err != nil {
		return fmt.Errorf("%w: sender key: %v", ErrMalformed, err)
	}
	m.Sender = pub
	m.sender = key
	m.src = protocol.DDTAddrFromPublicKey(key)
	return nil
}

// AppendBinary appends the wire form of p, PrefixLen(p.N) bytes, to b.
func (p *Prefix) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, p.signed...)
	b = append(b, p.Signature[:]...)
	b = append(b, p.Index)
	b = append(b, p.Tag[:]...)
	return append(b, p.SealedKeyShare[:]...), nil
}

// shareDigest computes D_i of the share part.
func shareDigest(index uint8, tag *[ssms.TagSize]byte, sealed *[SealedKeyShareSize]byte) [DigestSize]byte {
	h := sha256.New()
	h.Write([]byte(digestDomain))
	h.Write([]byte{index})
	h.Write(tag[:])
	h.Write(sealed[:])
	var d [DigestSize]byte
	h.Sum(d[:0])
	return d
}

// checkShare checks the share part against the manifest's digest for its
// index.
func (p *Prefix) checkShare() error {
	d := shareDigest(p.Index, &p.Tag, &p.SealedKeyShare)
	if subtle.ConstantTimeCompare(d[:], p.Digests[p.Index-1][:]) != 1 {
		return fmt.Errorf("%w: share %d", ErrShareMismatch, p.Index)
	}
	return nil
}

// Verify checks that p comes from the sender whose DDT address is
// expectSrc, is meant for expectDst, and is intact: the sender key hashes
// to expectSrc (ErrWrongSender), the destination is expectDst
// (ErrWrongDestination), the share part matches the manifest's digest for
// its index (ErrShareMismatch), and the signature verifies
// (ErrBadSignature).
func (p *Prefix) Verify(expectSrc, expectDst protocol.DDTAddr) error {
	if p.src != expectSrc {
		return fmt.Errorf("%w: key of %s, want %s", ErrWrongSender, p.src, expectSrc)
	}
	if p.Dst != expectDst {
		return fmt.Errorf("%w: %s, want %s", ErrWrongDestination, p.Dst, expectDst)
	}
	if err := p.checkShare(); err != nil {
		return err
	}
	msg := make([]byte, 0, len(signDomain)+len(p.signed))
	msg = append(append(msg, signDomain...), p.signed...)
	ok, err := p.Sender.Verify(msg, p.Signature[:])
	if err != nil || !ok {
		return fmt.Errorf("%w: manifest of message %s", ErrBadSignature, p.MessageID)
	}
	return nil
}

// VerifyAgainst checks p against verified, a prefix of the same message
// that Verify accepted: p must carry the very same manifest and signature
// (ErrManifestMismatch), and its share part must match the manifest's
// digest (ErrShareMismatch). It saves the signature check for the second
// and later shares of a message.
func (p *Prefix) VerifyAgainst(verified *Prefix) error {
	if !bytes.Equal(p.signed, verified.signed) || p.Signature != verified.Signature {
		return fmt.Errorf("%w: share %d of message %s", ErrManifestMismatch, p.Index, p.MessageID)
	}
	return p.checkShare()
}

// Share returns ssms share p.Index of the message from p, the opened key
// share (see OpenKeyShare) and the fragment. It does not copy keyShare or
// fragment.
func (p *Prefix) Share(keyShare, fragment []byte) ssms.Share {
	return ssms.Share{
		Index:    p.Index,
		N:        p.N,
		K:        p.K,
		MsgLen:   p.MsgLen,
		MsgID:    p.SSMSID,
		KeyShare: keyShare,
		Tag:      p.Tag,
		Fragment: fragment,
	}
}

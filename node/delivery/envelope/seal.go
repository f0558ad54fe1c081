package envelope

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	pb "github.com/libp2p/go-libp2p/core/crypto/pb"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/ssms"
)

// Options are the optional manifest fields of Seal. The zero value (or
// nil) means: created now, not a file chunk.
type Options struct {
	Created time.Time // zero: time.Now()
	Chunk   Chunk     // zero: not a file chunk
}

// Seal wraps the n shares of one message, as ssms.Split returns them
// (shares[i].Index == i+1), into n envelopes, envs[i] for shares[i], to be
// sent as the transfers of message id to the receiver whose DDT address is
// dst and whose X25519 seal key is recvSealPub. sender must be an Ed25519
// key; its DDT address is the transfers' source. Each envelope is
// PrefixLen(n) + F bytes and has its own backing array. Seal fails with
// ErrInvalidInput if the shares are not the well-formed shares of one
// message.
func Seal(sender crypto.PrivKey, recvSealPub *ecdh.PublicKey, dst protocol.DDTAddr, id protocol.MessageID, shares []ssms.Share, opts *Options) ([][]byte, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := checkShares(shares); err != nil {
		return nil, err
	}
	if sender == nil || sender.Type() != pb.KeyType_Ed25519 {
		return nil, fmt.Errorf("%w: sender key is not Ed25519", ErrInvalidInput)
	}
	if recvSealPub == nil || recvSealPub.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("%w: receiver seal key is not X25519", ErrInvalidInput)
	}
	if !opts.Chunk.valid() {
		return nil, fmt.Errorf("%w: chunk %d of %d", ErrInvalidInput, opts.Chunk.Index, opts.Chunk.Count)
	}
	senderKey, err := crypto.MarshalPublicKey(sender.GetPublic())
	if err != nil {
		return nil, fmt.Errorf("%w: sender key: %v", ErrInvalidInput, err)
	}
	var m Manifest
	if err := m.setSender(senderKey); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	n, s0 := len(shares), &shares[0]
	m.N, m.K, m.MessageID, m.Dst = s0.N, s0.K, id, dst
	m.Created = opts.Created
	if m.Created.IsZero() {
		m.Created = time.Now()
	}
	m.MsgLen, m.FragmentLen, m.SSMSID, m.Chunk = s0.MsgLen, uint64(len(s0.Fragment)), s0.MsgID, opts.Chunk
	if !time.Unix(0, m.Created.UnixNano()).Equal(m.Created) {
		return nil, fmt.Errorf("%w: created time %v out of range", ErrInvalidInput, m.Created)
	}
	if m.FragmentLen > maxTransfer-uint64(PrefixLen(n)) {
		return nil, fmt.Errorf("%w: fragment of %d bytes does not fit a VMDT transfer", ErrInvalidInput, m.FragmentLen)
	}

	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("envelope: ephemeral key: %w", err)
	}
	copy(m.Ephemeral[:], eph.PublicKey().Bytes())
	shared, err := eph.ECDH(recvSealPub)
	if err != nil {
		return nil, fmt.Errorf("%w: receiver seal key: %v", ErrInvalidInput, err)
	}
	defer clear(shared)
	sl, err := newSealer(shared, id, m.src, dst, m.Ephemeral[:], recvSealPub.Bytes())
	if err != nil {
		return nil, fmt.Errorf("envelope: deriving keys: %w", err)
	}
	defer sl.clear()

	parts := make([]Prefix, n)
	m.Digests = make([][DigestSize]byte, n)
	for i := range shares {
		p := &parts[i]
		p.Index, p.Tag = shares[i].Index, shares[i].Tag
		if p.SealedKeyShare, err = sl.seal(p.Index, shares[i].KeyShare); err != nil {
			return nil, fmt.Errorf("envelope: sealing key share %d: %w", p.Index, err)
		}
		m.Digests[i] = shareDigest(p.Index, &p.Tag, &p.SealedKeyShare)
	}
	signed := m.appendSigned(make([]byte, 0, len(signDomain)+manifestLen(n)))
	sig, err := sender.Sign(signed)
	if err != nil {
		return nil, fmt.Errorf("envelope: signing manifest: %w", err)
	}
	if len(sig) != SignatureSize {
		return nil, fmt.Errorf("envelope: signature of %d bytes", len(sig))
	}
	copy(m.Signature[:], sig)
	signed = signed[len(signDomain):]

	envs := make([][]byte, n)
	for i := range parts {
		p := &parts[i]
		p.Manifest, p.signed = m, signed
		env := make([]byte, 0, PrefixLen(n)+len(shares[i].Fragment))
		env, _ = p.AppendBinary(env)
		envs[i] = append(env, shares[i].Fragment...)
	}
	return envs, nil
}

// maxTransfer is the largest VMDT share (transfer) length.
const maxTransfer uint64 = math.MaxUint32

// appendSigned appends signDomain and the signed manifest bytes.
func (m *Manifest) appendSigned(b []byte) []byte {
	b = append(b, signDomain...)
	b = append(b, Version, m.N, m.K, 0)
	b = append(b, m.MessageID[:]...)
	b = append(b, m.Dst[:]...)
	b = append(b, m.sender...)
	b = append(b, m.Ephemeral[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Created.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, m.MsgLen)
	b = binary.BigEndian.AppendUint64(b, m.FragmentLen)
	b = append(b, m.SSMSID[:]...)
	b = append(b, m.Chunk.FileID[:]...)
	b = binary.BigEndian.AppendUint32(b, m.Chunk.Index)
	b = binary.BigEndian.AppendUint32(b, m.Chunk.Count)
	for i := range m.Digests {
		b = append(b, m.Digests[i][:]...)
	}
	return b
}

// checkShares checks that shares are the n well-formed shares of one
// message in index order.
func checkShares(shares []ssms.Share) error {
	if len(shares) < 2 || len(shares) > 255 {
		return fmt.Errorf("%w: %d shares", ErrInvalidInput, len(shares))
	}
	s0 := &shares[0]
	if int(s0.N) != len(shares) || s0.K < 2 || s0.K > s0.N {
		return fmt.Errorf("%w: %d shares of n=%d k=%d", ErrInvalidInput, len(shares), s0.N, s0.K)
	}
	fragLen := ssms.FragmentSize(s0.MsgLen, int(s0.K))
	for i := range shares {
		s := &shares[i]
		switch {
		case int(s.Index) != i+1:
			return fmt.Errorf("%w: share %d at position %d", ErrInvalidInput, s.Index, i)
		case s.N != s0.N || s.K != s0.K || s.MsgLen != s0.MsgLen || s.MsgID != s0.MsgID:
			return fmt.Errorf("%w: share %d belongs to another message", ErrInvalidInput, s.Index)
		case len(s.KeyShare) != ssms.KeyShareSize:
			return fmt.Errorf("%w: key share %d of %d bytes", ErrInvalidInput, s.Index, len(s.KeyShare))
		case uint64(len(s.Fragment)) != fragLen:
			return fmt.Errorf("%w: fragment %d of %d bytes, want %d", ErrInvalidInput, s.Index, len(s.Fragment), fragLen)
		}
	}
	return nil
}

// Open parses and verifies a complete envelope (see Verify), opens its key
// share and returns the ssms share it carries, with the prefix. The share's
// Fragment aliases env.
func Open(env []byte, expectSrc, expectDst protocol.DDTAddr, recvSealPriv *ecdh.PrivateKey) (ssms.Share, *Prefix, error) {
	p, err := ParsePrefix(env)
	if err != nil {
		return ssms.Share{}, nil, err
	}
	if uint64(len(env)) != uint64(p.TransferLen()) {
		return ssms.Share{}, nil, fmt.Errorf("%w: envelope of %d bytes, want %d", ErrMalformed, len(env), p.TransferLen())
	}
	if err := p.Verify(expectSrc, expectDst); err != nil {
		return ssms.Share{}, nil, err
	}
	ks, err := p.OpenKeyShare(recvSealPriv)
	if err != nil {
		return ssms.Share{}, nil, err
	}
	return p.Share(ks, env[PrefixLen(int(p.N)):]), p, nil
}

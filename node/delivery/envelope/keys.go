package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/ssms"
)

// zeroNonce is the GCM nonce of every sealed key share: each key_i seals
// exactly one key share.
var zeroNonce [12]byte

// sealer derives the per-share key-share keys of one message from the
// X25519 shared secret; see the package documentation.
type sealer struct {
	prk  []byte // HKDF-Extract(Z)
	info []byte // sealDomain || message id || index || src || dst || ephemeral || receiver
	idx  int    // offset of the index byte in info
}

func newSealer(shared []byte, id protocol.MessageID, src, dst protocol.DDTAddr, eph, recv []byte) (*sealer, error) {
	prk, err := hkdf.Extract(sha256.New, shared, nil)
	if err != nil {
		return nil, err
	}
	info := make([]byte, 0, len(sealDomain)+len(id)+1+2*protocol.DDTAddrLen+2*EphemeralSize)
	info = append(info, sealDomain...)
	info = append(info, id[:]...)
	idx := len(info)
	info = append(info, 0)
	info = append(info, src[:]...)
	info = append(info, dst[:]...)
	info = append(info, eph...)
	info = append(info, recv...)
	return &sealer{prk: prk, info: info, idx: idx}, nil
}

// aead returns AES-256-GCM under key_i.
func (s *sealer) aead(index uint8) (cipher.AEAD, error) {
	s.info[s.idx] = index
	key, err := hkdf.Expand(sha256.New, s.prk, string(s.info), 32)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (s *sealer) clear() { clear(s.prk) }

// seal seals the 33-byte key share of share index.
func (s *sealer) seal(index uint8, keyShare []byte) (out [SealedKeyShareSize]byte, err error) {
	g, err := s.aead(index)
	if err != nil {
		return out, err
	}
	g.Seal(out[:0], zeroNonce[:], keyShare, nil)
	return out, nil
}

// OpenKeyShare opens the sealed key share of p with the receiver's X25519
// private key and returns the ssms key share (ssms.KeyShareSize bytes). It
// fails with ErrSeal if the key share was sealed to another key or for
// another message, index, sender or destination, or was altered. It does
// not check the signature: call Verify first. To open several shares of
// one message, KeyOpener saves an X25519 computation per share.
func (p *Prefix) OpenKeyShare(recvSealPriv *ecdh.PrivateKey) ([]byte, error) {
	o, err := p.KeyOpener(recvSealPriv)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	return o.Open(p)
}

// KeyOpener opens the sealed key shares of one message. It is not safe
// for concurrent use.
type KeyOpener struct {
	m *Manifest
	s *sealer
}

// KeyOpener computes the message's X25519 shared secret with the
// receiver's private key, once for all its shares.
func (m *Manifest) KeyOpener(recvSealPriv *ecdh.PrivateKey) (*KeyOpener, error) {
	if recvSealPriv == nil || recvSealPriv.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("%w: receiver key is not an X25519 key", ErrSeal)
	}
	eph, err := ecdh.X25519().NewPublicKey(m.Ephemeral[:])
	if err != nil {
		return nil, fmt.Errorf("%w: ephemeral key: %v", ErrSeal, err)
	}
	shared, err := recvSealPriv.ECDH(eph)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	defer clear(shared)
	s, err := newSealer(shared, m.MessageID, m.src, m.Dst, m.Ephemeral[:], recvSealPriv.PublicKey().Bytes())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	return &KeyOpener{m: m, s: s}, nil
}

// Open opens the sealed key share of p, which must belong to the message
// the opener was made for (same message id, sender, destination and
// ephemeral key); see OpenKeyShare.
func (o *KeyOpener) Open(p *Prefix) ([]byte, error) {
	if o.s.prk == nil {
		return nil, fmt.Errorf("%w: opener closed", ErrSeal)
	}
	if p.MessageID != o.m.MessageID || p.src != o.m.src || p.Dst != o.m.Dst || p.Ephemeral != o.m.Ephemeral {
		return nil, fmt.Errorf("%w: share %d belongs to another message than the opener's", ErrSeal, p.Index)
	}
	g, err := o.s.aead(p.Index)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	ks, err := g.Open(make([]byte, 0, ssms.KeyShareSize), zeroNonce[:], p.SealedKeyShare[:], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: share %d of message %s", ErrSeal, p.Index, p.MessageID)
	}
	return ks, nil
}

// Close erases the opener's key material; Open fails afterwards.
func (o *KeyOpener) Close() {
	o.s.clear()
	o.s.prk = nil
}

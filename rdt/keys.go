package rdt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vmdt/vmdt/protocol"
)

// tagLen is the size of the AES-GCM authentication tag that ends every
// datagram.
const tagLen = 16

// HKDF info labels for the two directions of a session. The key id is
// appended to the label, big-endian, so that every (session key, key id)
// pair yields its own directional keys.
const (
	labelInitiatorToResponder = "vmdt/rdt/v1 initiator->responder"
	labelResponderToInitiator = "vmdt/rdt/v1 responder->initiator"
)

var errOpen = errors.New("rdt: datagram failed authentication")

// directionKeys derives the two AES-256 keys of a session:
//
//	k_ir = HKDF-SHA256(secret = session key, salt = none,
//	                   info = "vmdt/rdt/v1 initiator->responder" || keyID, 32 bytes)
//	k_ri = HKDF-SHA256(secret = session key, salt = none,
//	                   info = "vmdt/rdt/v1 responder->initiator" || keyID, 32 bytes)
//
// The initiator seals with k_ir and opens with k_ri; the responder the
// other way round.
func directionKeys(sessionKey [32]byte, keyID uint32) (ir, ri [32]byte, err error) {
	var id [4]byte
	binary.BigEndian.PutUint32(id[:], keyID)
	a, err := hkdf.Key(sha256.New, sessionKey[:], nil, labelInitiatorToResponder+string(id[:]), 32)
	if err != nil {
		return ir, ri, err
	}
	b, err := hkdf.Key(sha256.New, sessionKey[:], nil, labelResponderToInitiator+string(id[:]), 32)
	if err != nil {
		return ir, ri, err
	}
	copy(ir[:], a)
	copy(ri[:], b)
	return ir, ri, nil
}

// sessionKeys seals outgoing and opens incoming datagrams of one session.
// It holds no mutable state, so the read loop and the send loop use it
// concurrently without a lock.
type sessionKeys struct {
	keyID uint32
	seal  cipher.AEAD
	open  cipher.AEAD
}

func newSessionKeys(sessionKey [32]byte, keyID uint32, initiator bool) (*sessionKeys, error) {
	ir, ri, err := directionKeys(sessionKey, keyID)
	if err != nil {
		return nil, fmt.Errorf("rdt: deriving keys: %w", err)
	}
	if !initiator {
		ir, ri = ri, ir
	}
	seal, err := newGCM(ir)
	if err != nil {
		return nil, err
	}
	open, err := newGCM(ri)
	if err != nil {
		return nil, err
	}
	return &sessionKeys{keyID: keyID, seal: seal, open: open}, nil
}

func newGCM(k [32]byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, fmt.Errorf("rdt: %w", err)
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("rdt: %w", err)
	}
	return g, nil
}

// nonce is the 12-byte AES-GCM nonce of a datagram: key id (4 bytes),
// four zero bytes, sequence number (4 bytes), all big-endian. Sequence
// numbers are never reused under one key and direction, and each
// direction has its own key, so no nonce repeats under a key.
//
// Callers keep it in long-lived scratch memory: a nonce passed through
// the cipher.AEAD interface escapes, and a local one would cost an
// allocation per datagram.
type nonce [12]byte

func (n *nonce) set(keyID, seq uint32) []byte {
	binary.BigEndian.PutUint32(n[0:], keyID)
	binary.BigEndian.PutUint32(n[4:], 0)
	binary.BigEndian.PutUint32(n[8:], seq)
	return n[:]
}

// sealDatagram encrypts in place the datagram d, which holds a 16-byte RDT
// header followed by the plaintext body, and appends the tag. d must have
// tagLen bytes of spare capacity.
func (k *sessionKeys) sealDatagram(n *nonce, d []byte) []byte {
	seq := binary.BigEndian.Uint32(d[8:12])
	body := d[protocol.RDTHeaderLen:]
	out := k.seal.Seal(body[:0], n.set(k.keyID, seq), body, d[:protocol.RDTHeaderLen])
	return d[:protocol.RDTHeaderLen+len(out)]
}

// openDatagram authenticates and decrypts in place the body of datagram d
// whose header h has already been parsed, and returns the plaintext body.
func (k *sessionKeys) openDatagram(n *nonce, h protocol.RDTHeader, d []byte) ([]byte, error) {
	if len(d) < protocol.RDTHeaderLen+tagLen {
		return nil, errOpen
	}
	body := d[protocol.RDTHeaderLen:]
	out, err := k.open.Open(body[:0], n.set(k.keyID, h.Seq), body, d[:protocol.RDTHeaderLen])
	if err != nil {
		return nil, errOpen
	}
	return out, nil
}

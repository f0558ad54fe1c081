package ssms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"hash"
)

// HKDF-SHA-256 info strings. The message key is the HKDF input key material
// (no salt); the message id and the three working keys come from separate
// Expand calls, so checking a candidate key costs one Extract and one short
// Expand.
const (
	infoID   = "vmdt/ssms v1 message id"
	infoKeys = "vmdt/ssms v1 keys" // 96 bytes: encryption, fragment MAC, share tag
)

// zeroIV is the AES-CTR initial counter block. A fixed IV is safe because
// every message key, and so every encryption key, is used for exactly one
// message.
var zeroIV [aes.BlockSize]byte

// messageID derives the message id (key check value) from a message key,
// and returns the HKDF pseudorandom key for deriveKeys.
func messageID(key []byte) (id [IDSize]byte, prk []byte, err error) {
	prk, err = hkdf.Extract(sha256.New, key, nil)
	if err != nil {
		return id, nil, err
	}
	b, err := hkdf.Expand(sha256.New, prk, infoID, IDSize)
	copy(id[:], b)
	return id, prk, err
}

// checkKey reports whether key derives id, comparing in constant time. On
// success it returns the HKDF pseudorandom key for keysFromPRK.
func checkKey(key []byte, id *[IDSize]byte) (prk []byte, ok bool) {
	got, prk, err := messageID(key)
	if err != nil || subtle.ConstantTimeCompare(got[:], id[:]) != 1 {
		clear(prk)
		return nil, false
	}
	return prk, true
}

// messageKeys holds what one message key derives: the id and the three
// working keys, ready to use. It is not safe for concurrent use.
type messageKeys struct {
	id   [IDSize]byte
	enc  cipher.Block // AES-256, CTR mode with zeroIV, for the message
	frag cipher.AEAD  // AES-256-GCM used as GMAC over each fragment
	bind hash.Hash    // HMAC-SHA-256 over header, key share and fragment MAC

	buf [HeaderSize + sha256.Size]byte // scratch for tag computation
}

func deriveKeys(key []byte) (*messageKeys, error) {
	id, prk, err := messageID(key)
	if err != nil {
		return nil, err
	}
	return keysFromPRK(id, prk)
}

// keysFromPRK derives the working keys from the HKDF pseudorandom key of
// the message key with id, and clears prk.
func keysFromPRK(id [IDSize]byte, prk []byte) (*messageKeys, error) {
	defer clear(prk)
	okm, err := hkdf.Expand(sha256.New, prk, infoKeys, 3*keySize)
	if err != nil {
		return nil, err
	}
	defer clear(okm)
	mk := &messageKeys{id: id}
	if mk.enc, err = aes.NewCipher(okm[:keySize]); err != nil {
		return nil, err
	}
	fragBlock, err := aes.NewCipher(okm[keySize : 2*keySize])
	if err != nil {
		return nil, err
	}
	if mk.frag, err = cipher.NewGCM(fragBlock); err != nil {
		return nil, err
	}
	mk.bind = hmac.New(sha256.New, okm[2*keySize:])
	return mk, nil
}

// fragMACSize is the length of a fragment MAC, the GCM tag size.
const fragMACSize = 16

// fragMAC computes the fragment MAC of the share with the given index:
//
//	AES-256-GCM(frag key, nonce = 11 zero bytes || index).Seal(plaintext = empty, additional data = fragment)
func (mk *messageKeys) fragMAC(index uint8, frag []byte) [fragMACSize]byte {
	var nonce [12]byte
	nonce[11] = index
	var m [fragMACSize]byte
	mk.frag.Seal(m[:0], nonce[:], nil, frag)
	return m
}

// tagWith computes the tag of s, given its fragment MAC:
//
//	tag = HMAC-SHA-256(bind key, header bytes 0..60 || fragment MAC)[:16]
//
// Header bytes 0..60 are version, n, k, index, message length, message id
// and key share, exactly as marshaled.
func (mk *messageKeys) tagWith(s *Share, fragMAC *[fragMACSize]byte) [TagSize]byte {
	b := s.appendHeader(mk.buf[:0])
	b = append(b, fragMAC[:]...)
	mk.bind.Reset()
	mk.bind.Write(b)
	var t [TagSize]byte
	copy(t[:], mk.bind.Sum(b[:0]))
	return t
}

// tag computes the tag of s.
func (mk *messageKeys) tag(s *Share) [TagSize]byte {
	m := mk.fragMAC(s.Index, s.Fragment)
	return mk.tagWith(s, &m)
}

// verify reports whether the tag of s is authentic, in constant time.
func (mk *messageKeys) verify(s *Share) bool {
	t := mk.tag(s)
	return hmac.Equal(t[:], s.Tag[:])
}

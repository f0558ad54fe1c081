package ssms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"testing/cryptotest"
)

// The known-answer vectors in testdata/kat.json pin the construction. Make
// them again with
//
//	go test ./ssms -run TestKnownAnswers -update
//
// which splits each message below with the fixed message key (through the
// unexported randReader seam, here splitWith) and with crypto/rand fixed by
// testing/cryptotest.SetGlobalRandom, which makes vault's polynomial
// coefficients deterministic. vault picks the key shares' x-coordinates with
// math/rand, which no test can fix, so the vectors hold the key polynomial
// instead of key shares, plus one recorded set of shares.
var update = flag.Bool("update", false, "rewrite testdata/kat.json")

const katFile = "testdata/kat.json"

type katVector struct {
	Name    string   `json:"name"`
	N       int      `json:"n"`
	K       int      `json:"k"`
	Key     string   `json:"key"`     // message key, hex
	Seed    uint64   `json:"seed"`    // for cryptotest.SetGlobalRandom
	Message string   `json:"message"` // hex
	MsgID   string   `json:"msg_id"`
	Cipher  string   `json:"ciphertext"`    // AES-256-CTR of the message, hex
	Frags   []string `json:"fragments"`     // n fragments, hex
	FragMAC []string `json:"fragment_macs"` // GMAC of each fragment, hex
	// KeyPoly[j] holds coefficient j (of X^j) of the 32 key-share
	// polynomials, one byte per key byte; KeyPoly[0] is the key.
	KeyPoly []string `json:"key_polynomial"`
	Shares  []string `json:"shares"` // one recorded marshaled set, hex
}

var katInputs = []struct {
	name    string
	n, k    int
	message string
}{
	{"empty message", 2, 2, ""},
	{"one byte", 3, 2, "2a"},
	{"five of three", 5, 3, hex.EncodeToString([]byte("attack at dawn"))},
	{"six of three", 6, 3, hex.EncodeToString(bytes.Repeat([]byte("VMDT secret sharing made short. "), 3))},
}

// specKeys derives what a message key derives, written out from the
// package documentation independently of keys.go.
func specKeys(t *testing.T, key []byte) (id, enc, frag, bind []byte) {
	t.Helper()
	prk, err := hkdf.Extract(sha256.New, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err = hkdf.Expand(sha256.New, prk, "vmdt/ssms v1 message id", 16)
	if err != nil {
		t.Fatal(err)
	}
	okm, err := hkdf.Expand(sha256.New, prk, "vmdt/ssms v1 keys", 96)
	if err != nil {
		t.Fatal(err)
	}
	return id, okm[:32], okm[32:64], okm[64:]
}

func specFragMAC(t *testing.T, fragKey []byte, index int, frag []byte) []byte {
	block, err := aes.NewCipher(fragKey)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, 12)
	nonce[11] = byte(index)
	return gcm.Seal(nil, nonce, nil, frag)
}

func specTag(bindKey, wire, fragMAC []byte) []byte {
	h := hmac.New(sha256.New, bindKey)
	h.Write(wire[:61])
	h.Write(fragMAC)
	return h.Sum(nil)[:16]
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKnownAnswers(t *testing.T) {
	if *update {
		writeKAT(t)
	}
	raw, err := os.ReadFile(katFile)
	if err != nil {
		t.Fatal(err)
	}
	var vectors []katVector
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) != len(katInputs) {
		t.Fatalf("%d vectors, want %d", len(vectors), len(katInputs))
	}
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) { checkVector(t, v) })
	}
}

func checkVector(t *testing.T, v katVector) {
	key, msg := unhex(t, v.Key), unhex(t, v.Message)
	id, encKey, fragKey, bindKey := specKeys(t, key)
	if hex.EncodeToString(id) != v.MsgID {
		t.Fatalf("message id %x, vector %s", id, v.MsgID)
	}
	block, _ := aes.NewCipher(encKey)
	ct := make([]byte, len(msg))
	cipher.NewCTR(block, make([]byte, 16)).XORKeyStream(ct, msg)
	if hex.EncodeToString(ct) != v.Cipher {
		t.Fatalf("ciphertext %x, vector %s", ct, v.Cipher)
	}

	// A fresh split with the vector's key and seed.
	cryptotest.SetGlobalRandom(t, v.Seed)
	shares, err := splitWith(msg, v.N, v.K, bytes.NewReader(key))
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	for i, s := range shares {
		wire, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		header := []byte{1, byte(v.N), byte(v.K), byte(i + 1)}
		header = binary.BigEndian.AppendUint64(header, uint64(len(msg)))
		header = append(header, id...)
		if !bytes.Equal(wire[:28], header) {
			t.Fatalf("share %d header %x, want %x", i+1, wire[:28], header)
		}
		if hex.EncodeToString(s.Fragment) != v.Frags[i] || !bytes.Equal(wire[77:], s.Fragment) {
			t.Fatalf("share %d fragment %x, vector %s", i+1, s.Fragment, v.Frags[i])
		}
		mac := specFragMAC(t, fragKey, i+1, s.Fragment)
		if hex.EncodeToString(mac) != v.FragMAC[i] {
			t.Fatalf("share %d fragment MAC %x, vector %s", i+1, mac, v.FragMAC[i])
		}
		if tag := specTag(bindKey, wire, mac); !bytes.Equal(wire[61:77], tag) {
			t.Fatalf("share %d tag %x, want %x", i+1, wire[61:77], tag)
		}
		// The key share is the key polynomial at the share's x.
		x := s.KeyShare[32]
		for b := range keySize {
			coef := make([]byte, v.K)
			for j := range coef {
				coef[j] = unhex(t, v.KeyPoly[j])[b]
			}
			if got := evalPoly(coef, x); s.KeyShare[b] != got {
				t.Fatalf("share %d key byte %d: %#x, polynomial gives %#x at x=%d", i+1, b, s.KeyShare[b], got, x)
			}
		}
		if i < v.K {
			data = append(data, s.Fragment...)
		}
	}
	if !bytes.Equal(data[:len(msg)], ct) {
		t.Fatal("data fragments are not the ciphertext")
	}

	// The recorded shares: each re-marshals identically, verifies, and
	// every k-subset combines to the message.
	recorded := make([]Share, len(v.Shares))
	for i, h := range v.Shares {
		wire := unhex(t, h)
		if err := recorded[i].UnmarshalBinary(wire); err != nil {
			t.Fatalf("recorded share %d: %v", i+1, err)
		}
		if again, _ := recorded[i].MarshalBinary(); !bytes.Equal(again, wire) {
			t.Fatalf("recorded share %d re-marshals differently", i+1)
		}
		mac := specFragMAC(t, fragKey, i+1, recorded[i].Fragment)
		if !bytes.Equal(wire[61:77], specTag(bindKey, wire, mac)) {
			t.Fatalf("recorded share %d: tag does not verify", i+1)
		}
	}
	for mask := uint(0); mask < 1<<v.N; mask++ {
		var subset []Share
		for i := range recorded {
			if mask&(1<<i) != 0 {
				subset = append(subset, recorded[i])
			}
		}
		if len(subset) != v.K {
			continue
		}
		got, err := Combine(subset)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("recorded subset %b: %v", mask, err)
		}
	}
}

func writeKAT(t *testing.T) {
	var vectors []katVector
	for vi, in := range katInputs {
		key := sha256.Sum256([]byte("vmdt/ssms kat key " + in.name))
		msg := unhex(t, in.message)
		seed := uint64(1000 + vi)
		var shares []Share
		t.Run("generate "+in.name, func(t *testing.T) {
			cryptotest.SetGlobalRandom(t, seed)
			var err error
			if shares, err = splitWith(msg, in.n, in.k, bytes.NewReader(key[:])); err != nil {
				t.Fatal(err)
			}
		})
		_, encKey, fragKey, _ := specKeys(t, key[:])
		block, _ := aes.NewCipher(encKey)
		ct := make([]byte, len(msg))
		cipher.NewCTR(block, make([]byte, 16)).XORKeyStream(ct, msg)
		v := katVector{
			Name: in.name, N: in.n, K: in.k, Key: hex.EncodeToString(key[:]), Seed: seed,
			Message: in.message, MsgID: hex.EncodeToString(shares[0].MsgID[:]), Cipher: hex.EncodeToString(ct),
		}
		for i, s := range shares {
			wire, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			v.Frags = append(v.Frags, hex.EncodeToString(s.Fragment))
			v.FragMAC = append(v.FragMAC, hex.EncodeToString(specFragMAC(t, fragKey, i+1, s.Fragment)))
			v.Shares = append(v.Shares, hex.EncodeToString(wire))
		}
		// Coefficients of the key polynomial from the first k key shares.
		xs := make([]byte, in.k)
		for i := range xs {
			xs[i] = shares[i].KeyShare[keySize]
		}
		dec := newGaoDecoder(xs, in.k)
		coefs := make([][]byte, in.k)
		for j := range coefs {
			coefs[j] = make([]byte, keySize)
		}
		for b := range keySize {
			for i := range xs {
				for j, c := range dec.basis[i] {
					coefs[j][b] ^= gfMul(shares[i].KeyShare[b], c)
				}
			}
		}
		if !bytes.Equal(coefs[0], key[:]) {
			t.Fatal("key polynomial does not pass through the key")
		}
		for _, c := range coefs {
			v.KeyPoly = append(v.KeyPoly, hex.EncodeToString(c))
		}
		vectors = append(vectors, v)
	}
	out, err := json.MarshalIndent(vectors, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.FromSlash(katFile), append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

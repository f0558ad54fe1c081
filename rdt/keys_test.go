package rdt

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/vmdt/vmdt/protocol"
)

// keyVector is a known-answer vector in testdata/keys.json.
type keyVector struct {
	SessionKey string `json:"session_key"`
	KeyID      uint32 `json:"key_id"`
	KeyIR      string `json:"key_initiator_to_responder"`
	KeyRI      string `json:"key_responder_to_initiator"`
	Datagram   string `json:"plain_datagram"` // RDT header + plaintext body
	Sealed     string `json:"sealed_by_initiator"`
}

func loadKeyVectors(t *testing.T) []keyVector {
	t.Helper()
	b, err := os.ReadFile("testdata/keys.json")
	if err != nil {
		t.Fatal(err)
	}
	var v []keyVector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hkdfByHand computes HKDF-SHA256 with an empty salt for a 32-byte output
// straight from RFC 5869, independently of crypto/hkdf.
func hkdfByHand(secret []byte, info string) []byte {
	ext := hmac.New(sha256.New, make([]byte, sha256.Size))
	ext.Write(secret)
	prk := ext.Sum(nil)
	exp := hmac.New(sha256.New, prk)
	exp.Write([]byte(info))
	exp.Write([]byte{1})
	return exp.Sum(nil)
}

func TestKeyVectors(t *testing.T) {
	for _, v := range loadKeyVectors(t) {
		var sk [32]byte
		copy(sk[:], unhex(t, v.SessionKey))
		ir, ri, err := directionKeys(sk, v.KeyID)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(ir[:]) != v.KeyIR || hex.EncodeToString(ri[:]) != v.KeyRI {
			t.Fatalf("key id %d: derived %x / %x, want %s / %s", v.KeyID, ir, ri, v.KeyIR, v.KeyRI)
		}
		var id [4]byte
		binary.BigEndian.PutUint32(id[:], v.KeyID)
		if !bytes.Equal(hkdfByHand(sk[:], labelInitiatorToResponder+string(id[:])), ir[:]) ||
			!bytes.Equal(hkdfByHand(sk[:], labelResponderToInitiator+string(id[:])), ri[:]) {
			t.Fatal("derivation disagrees with RFC 5869 computed by hand")
		}
		ini, err := newSessionKeys(sk, v.KeyID, true)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := newSessionKeys(sk, v.KeyID, false)
		if err != nil {
			t.Fatal(err)
		}
		plain := unhex(t, v.Datagram)
		d := append(make([]byte, 0, len(plain)+tagLen), plain...)
		sealed := ini.sealDatagram(new(nonce), d)
		if hex.EncodeToString(sealed) != v.Sealed {
			t.Fatalf("sealed %x, want %s", sealed, v.Sealed)
		}
		h, _, err := protocol.ParseRDTHeader(sealed)
		if err != nil {
			t.Fatal(err)
		}
		body, err := resp.openDatagram(new(nonce), h, append([]byte(nil), sealed...))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, plain[protocol.RDTHeaderLen:]) {
			t.Fatal("opened body differs")
		}
		// The initiator cannot open its own direction: the keys differ.
		if _, err := ini.openDatagram(new(nonce), h, append([]byte(nil), sealed...)); err == nil {
			t.Fatal("a datagram opened under the wrong direction's key")
		}
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	var sk [32]byte
	sk[0] = 1
	a, _ := newSessionKeys(sk, 9, true)
	b, _ := newSessionKeys(sk, 9, false)
	plain := protocol.AppendRDTHeader(nil, protocol.RDTHeader{Flags: protocol.FlagPing, KeyID: 9, Seq: 5})
	sealed := a.sealDatagram(new(nonce), append(make([]byte, 0, 64), plain...))
	for i := range sealed {
		for bit := 0; bit < 8; bit++ {
			d := append([]byte(nil), sealed...)
			d[i] ^= 1 << bit
			h, _, err := protocol.ParseRDTHeader(d)
			if err != nil {
				continue
			}
			if _, err := b.openDatagram(new(nonce), h, d); err == nil {
				t.Fatalf("flipping bit %d of byte %d went unnoticed", bit, i)
			}
		}
	}
	if _, err := b.openDatagram(new(nonce), protocol.RDTHeader{}, sealed[:20]); err == nil {
		t.Fatal("a truncated datagram opened")
	}
}

// TestWriteKeyVectors regenerates testdata/keys.json when run with
// RDT_WRITE_VECTORS=1; it documents how the vectors were made.
func TestWriteKeyVectors(t *testing.T) {
	if os.Getenv("RDT_WRITE_VECTORS") == "" {
		t.Skip("set RDT_WRITE_VECTORS=1 to regenerate testdata/keys.json")
	}
	var out []keyVector
	for _, id := range []uint32{0, 0x01020304} {
		var sk [32]byte
		for i := range sk {
			sk[i] = byte(i) + byte(id)
		}
		ir, ri, _ := directionKeys(sk, id)
		h := protocol.VMDTHeader{Type: protocol.TypeShare, ShareIndex: 1, N: 3, K: 2, Offset: 0, ShareLen: 5}
		plain := protocol.AppendRDTHeader(nil, protocol.RDTHeader{Flags: protocol.FlagData, Window: 100, KeyID: id, Seq: 1})
		plain = protocol.AppendVMDTHeader(plain, h)
		plain = append(plain, "hello"...)
		k, _ := newSessionKeys(sk, id, true)
		sealed := k.sealDatagram(new(nonce), append(make([]byte, 0, len(plain)+tagLen), plain...))
		out = append(out, keyVector{
			SessionKey: hex.EncodeToString(sk[:]), KeyID: id,
			KeyIR: hex.EncodeToString(ir[:]), KeyRI: hex.EncodeToString(ri[:]),
			Datagram: hex.EncodeToString(plain), Sealed: hex.EncodeToString(sealed),
		})
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := os.WriteFile("testdata/keys.json", append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

package envelope

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"os"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/ssms"
)

// The golden envelopes in testdata/golden_v1.hex pin the version-1 layout
// and the sealing construction. Make them again with
//
//	go test ./node/delivery/envelope -run TestGolden -update
//
// Seal's only randomness, the ephemeral X25519 key, is fixed with
// testing/cryptotest.SetGlobalRandom; Ed25519 signatures are
// deterministic. The shares are made by hand: Seal checks their shape,
// not their tags.
var update = flag.Bool("update", false, "rewrite testdata/golden_v1.hex")

const goldenFile = "testdata/golden_v1.hex"

var (
	goldenID      = protocol.MessageID{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7}
	goldenCreated = time.Unix(1_750_000_000, 5)
	goldenChunk   = Chunk{FileID: [16]byte{0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff}, Index: 2, Count: 3}
)

// goldenShares returns three hand-made shares of a 5-byte message, k = 2.
func goldenShares() []ssms.Share {
	shares := make([]ssms.Share, 3)
	for i := range shares {
		s := &shares[i]
		*s = ssms.Share{Index: uint8(i + 1), N: 3, K: 2, MsgLen: 5, KeyShare: make([]byte, ssms.KeyShareSize),
			Fragment: []byte{byte(0x10*i + 1), byte(0x10*i + 2), byte(0x10*i + 3)}}
		for j := range s.MsgID {
			s.MsgID[j] = byte(0xc0 + j)
		}
		for j := range s.KeyShare {
			s.KeyShare[j] = byte(0x40*i + j)
		}
		s.KeyShare[ssms.KeyShareSize-1] = byte(7 * (i + 1))
		for j := range s.Tag {
			s.Tag[j] = byte(0x70 + 0x10*i + j)
		}
	}
	return shares
}

func TestGolden(t *testing.T) {
	s, r := newParty(t, 0x11), newParty(t, 0x22)
	cryptotest.SetGlobalRandom(t, 42)
	shares := goldenShares()
	envs, err := Seal(s.id, r.seal.PublicKey(), r.addr, goldenID, shares, &Options{Created: goldenCreated, Chunk: goldenChunk})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, env := range envs {
		text.WriteString(hex.EncodeToString(env))
		text.WriteByte('\n')
	}
	if *update {
		if err := os.WriteFile(goldenFile, []byte(text.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	if text.String() != string(want) {
		t.Errorf("Seal no longer makes the golden envelopes:\n got %s\nwant %s", text.String(), want)
	}
	lines := strings.Fields(string(want))
	if len(lines) != len(shares) {
		t.Fatalf("%d golden envelopes, want %d", len(lines), len(shares))
	}
	for i, line := range lines {
		env, err := hex.DecodeString(line)
		if err != nil {
			t.Fatal(err)
		}
		checkSpec(t, env, &shares[i], s, r)
	}
}

// checkSpec reads a golden envelope by the offsets of the package
// documentation, independently of the parser, and opens its key share by
// the documented construction.
func checkSpec(t *testing.T, env []byte, sh *ssms.Share, s, r party) {
	t.Helper()
	const n = 3
	m := 164 + 32*n
	if len(env) != 294+32*n+len(sh.Fragment) {
		t.Fatalf("envelope of %d bytes", len(env))
	}
	senderKey, _ := crypto.MarshalPublicKey(s.id.GetPublic())
	u64 := func(off int) uint64 { return binary.BigEndian.Uint64(env[off:]) }
	u32 := func(off int) uint32 { return binary.BigEndian.Uint32(env[off:]) }
	switch {
	case !bytes.Equal(env[:4], []byte{1, n, 2, 0}):
		t.Errorf("version, n, k, reserved = %x", env[:4])
	case !bytes.Equal(env[4:12], goldenID[:]):
		t.Errorf("message id %x", env[4:12])
	case !bytes.Equal(env[12:32], r.addr[:]):
		t.Errorf("destination %x", env[12:32])
	case !bytes.Equal(env[32:68], senderKey) || !bytes.Equal(env[32:36], []byte{8, 1, 0x12, 0x20}):
		t.Errorf("sender key %x", env[32:68])
	case int64(u64(100)) != goldenCreated.UnixNano():
		t.Errorf("created %d", u64(100))
	case u64(108) != 5 || u64(116) != 3:
		t.Errorf("lengths %d, %d", u64(108), u64(116))
	case !bytes.Equal(env[124:140], sh.MsgID[:]):
		t.Errorf("ssms id %x", env[124:140])
	case !bytes.Equal(env[140:156], goldenChunk.FileID[:]) || u32(156) != 2 || u32(160) != 3:
		t.Errorf("chunk fields %x", env[140:164])
	case env[m+64] != sh.Index || !bytes.Equal(env[m+65:m+81], sh.Tag[:]):
		t.Errorf("index %d, tag %x", env[m+64], env[m+65:m+81])
	case !bytes.Equal(env[m+130:], sh.Fragment):
		t.Errorf("fragment %x", env[m+130:])
	}
	d := sha256.Sum256(append(append([]byte("vmdt/envelope v1 share\x00"), sh.Index), env[m+65:m+130]...))
	if got := env[164+32*int(sh.Index-1):][:32]; !bytes.Equal(got, d[:]) {
		t.Errorf("digest %d: %x, want %x", sh.Index, got, d)
	}
	rawPub, _ := s.id.GetPublic().Raw()
	if !ed25519.Verify(rawPub, append([]byte("vmdt/envelope v1 manifest\x00"), env[:m]...), env[m:m+64]) {
		t.Error("signature does not verify")
	}

	eph, err := ecdh.X25519().NewPublicKey(env[68:100])
	if err != nil {
		t.Fatal(err)
	}
	z, err := r.seal.ECDH(eph)
	if err != nil {
		t.Fatal(err)
	}
	info := []byte("vmdt/envelope v1 key share\x00")
	info = append(info, goldenID[:]...)
	info = append(info, sh.Index)
	info = append(info, s.addr[:]...)
	info = append(info, r.addr[:]...)
	info = append(info, env[68:100]...)
	info = append(info, r.seal.PublicKey().Bytes()...)
	key, err := hkdf.Key(sha256.New, z, nil, string(info), 32)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	ks, err := gcm.Open(nil, make([]byte, 12), env[m+81:m+130], nil)
	if err != nil || !bytes.Equal(ks, sh.KeyShare) {
		t.Errorf("sealed key share opens to %x, %v; want %x", ks, err, sh.KeyShare)
	}
}

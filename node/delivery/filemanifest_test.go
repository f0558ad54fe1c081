package delivery

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
)

func testKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// testManifest signs a manifest for data in chunks of chunkSize.
func testManifest(t testing.TB, priv crypto.PrivKey, data []byte, chunkSize int, name string) (*FileManifest, []byte) {
	t.Helper()
	m := &FileManifest{Name: name, Size: int64(len(data)), ChunkSize: chunkSize, Created: time.Unix(1700000000, 5)}
	for off := 0; off < len(data); off += chunkSize {
		m.Hashes = append(m.Hashes, sha256.Sum256(data[off:min(off+chunkSize, len(data))]))
	}
	raw, err := signFileManifest(priv, m)
	if err != nil {
		t.Fatal(err)
	}
	return m, raw
}

func TestFileManifest(t *testing.T) {
	priv := testKey(t)
	data := bytes.Repeat([]byte("0123456789"), 500) // 5000 bytes: 5 chunks of 1 KiB, the last 904
	m, raw := testManifest(t, priv, data, MinChunkSize, "report.pdf")
	if len(raw) != fileManifestFixed+len("report.pdf")+32*5+fileSigLen {
		t.Fatalf("manifest of %d bytes", len(raw))
	}
	got, err := ParseFileManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.FileID != m.FileID || got.Name != "report.pdf" || got.Size != 5000 || got.Count() != 5 ||
		got.chunkLen(4) != 904 || got.Src() != m.Src() || !got.Created.Equal(m.Created) || got.Hashes[2] != m.Hashes[2] {
		t.Fatalf("parsed %+v", got)
	}
	// The id depends on the contents and the sender, not on the time.
	m2, _ := testManifest(t, priv, data, MinChunkSize, "report.pdf")
	m2.Created = time.Now()
	if _, err := signFileManifest(priv, m2); err != nil || m2.FileID != m.FileID {
		t.Fatalf("same file again: id %s, want %s (%v)", m2.FileID, m.FileID, err)
	}
	other := testKey(t)
	m3, _ := testManifest(t, other, data, MinChunkSize, "report.pdf")
	if m3.FileID == m.FileID {
		t.Fatal("two senders, one file id")
	}

	// Signed by another key: the signature does not verify.
	forged := bytes.Clone(raw)
	otherPub, _ := crypto.MarshalPublicKey(other.GetPublic())
	copy(forged[42:78], otherPub)
	if _, err := ParseFileManifest(forged); !errors.Is(err, ErrBadFileManifest) {
		t.Fatalf("manifest with another sender key: %v", err)
	}
	// Every single-byte change is caught.
	for i := range raw {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		if _, err := ParseFileManifest(b); !errors.Is(err, ErrBadFileManifest) {
			t.Fatalf("byte %d altered: %v", i, err)
		}
	}
	if _, err := ParseFileManifest(raw[:len(raw)-1]); !errors.Is(err, ErrBadFileManifest) {
		t.Fatalf("truncated: %v", err)
	}
	// Unsanitized names are not signed.
	bad := &FileManifest{Name: "../etc/passwd", Size: 10, ChunkSize: MinChunkSize, Hashes: make([][32]byte, 1)}
	if _, err := signFileManifest(priv, bad); !errors.Is(err, ErrBadFileManifest) {
		t.Fatalf("unsanitized name: %v", err)
	}
}

func TestSanitizeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"report.pdf":             "report.pdf",
		"../../etc/passwd":       "passwd",
		`C:\Users\x\a b.txt`:     "a b.txt",
		"a\x00b\nc|d":            "a_b_c_d",
		"..":                     "file",
		"dir/":                   "file",
		"  ":                     "file",
		"caf\xe9":                "caf_",
		"ünïcødé ✓":              "ünïcødé ✓",
		strings.Repeat("é", 200): strings.Repeat("é", 127),
	} {
		got := sanitizeFileName(in)
		if got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
		if sanitizeFileName(got) != got {
			t.Errorf("sanitize(%q) not idempotent", in)
		}
	}
}

// FuzzParseFileManifest: no input panics, and an accepted manifest is
// re-signed by nobody: its id and signature check out against its bytes.
func FuzzParseFileManifest(f *testing.F) {
	priv := testKey(f)
	_, raw := testManifest(f, priv, bytes.Repeat([]byte{7}, 3000), MinChunkSize, "a.bin")
	f.Add(raw)
	_, raw1 := testManifest(f, priv, []byte("x"), MinChunkSize, "x")
	f.Add(raw1)
	f.Add(raw[:80])
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseFileManifest(b)
		if err != nil {
			if m != nil || !errors.Is(err, ErrBadFileManifest) {
				t.Fatalf("error %v with manifest %v", err, m)
			}
			return
		}
		if err := checkFileShape(m.Size, m.ChunkSize, m.Count(), m.Name); err != nil {
			t.Fatalf("accepted a manifest of bad shape: %v", err)
		}
		if m.chunkLen(m.Count()-1) < 1 || m.chunkLen(m.Count()-1) > m.ChunkSize {
			t.Fatalf("last chunk of %d bytes", m.chunkLen(m.Count()-1))
		}
	})
}

package sharepool

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

func goldenEntry() Entry {
	e := share(0x11, 0xaa, 0xdd, 2, "golden share")
	e.Added = time.Unix(1700000000, 123456789)
	e.Expires = e.Added.Add(DefaultTTL)
	return e
}

func TestEntryFileGolden(t *testing.T) {
	e := goldenEntry()
	b := appendEntryFile(nil, &e)
	if len(b) != fileLen(len(e.Data)) {
		t.Fatalf("encoded %d bytes, want %d", len(b), fileLen(len(e.Data)))
	}
	path := filepath.Join("testdata", "entry_v1.hex")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := hex.DecodeString(strings.TrimSpace(string(h)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("encoding changed:\n got %x\nwant %x", b, want)
	}
	got, err := parseEntryFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("parsed %+v, want %+v", got, e)
	}
}

func TestEntryFileDetectsDamage(t *testing.T) {
	e := goldenEntry()
	good := appendEntryFile(nil, &e)
	for i := range good {
		for bit := range 8 {
			b := bytes.Clone(good)
			b[i] ^= 1 << bit
			if _, err := parseEntryFile(b); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("flipping bit %d of byte %d: err = %v", bit, i, err)
			}
		}
	}
	for n := range len(good) {
		if _, err := parseEntryFile(good[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%d of %d bytes: err = %v", n, len(good), err)
		}
	}
	if _, err := parseEntryFile(append(bytes.Clone(good), 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte: err = %v", err)
	}
}

// A valid checksum does not make invalid fields valid.
func TestEntryFileRejectsBadFields(t *testing.T) {
	for name, edit := range map[string]func(*Entry){
		"k 1":       func(e *Entry) { e.K = 1 },
		"index 0":   func(e *Entry) { e.ShareIndex = 0 },
		"zero dst":  func(e *Entry) { e.Dst = addr(0) },
		"added 0":   func(e *Entry) { e.Added = time.Unix(0, 0) },
		"expires":   func(e *Entry) { e.Expires = e.Added },
		"too long":  func(e *Entry) { e.Data = make([]byte, MaxDataLen+1) },
		"no data":   func(e *Entry) { e.Data = nil },
		"index > n": func(e *Entry) { e.ShareIndex = 4 },
	} {
		e := goldenEntry()
		edit(&e)
		if _, err := parseEntryFile(appendEntryFile(nil, &e)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

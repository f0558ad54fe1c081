package ctl

import (
	"bytes"
	"testing"
)

const fileHex = "00112233445566778899aabbccddeeff"

func fileSeeds() []string {
	return []string{
		"FILE_STATUS|" + addrA + "|" + fileHex + "|0",
		"FILE_STATUS|" + addrA + "|" + fileHex + "|16384",
		"OK|0|0|-",
		"OK|3|0|oA",
		"OK|16|0|__8",
		"OK|20000|16384|" + string(bytes.Repeat([]byte("A"), 603)),
		"OK|9|8|gA",
		"FILE_STATUS|" + addrA + "|" + fileHex + "|3",
		"OK|3|0|ow",
	}
}

func TestFileStatusGolden(t *testing.T) {
	a := mustAddr(t, addrA)
	c := &FileStatus{ClientID: a, First: 16384}
	copy(c.FileID[:], []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff})
	line, err := AppendCommand(nil, c)
	if err != nil {
		t.Fatal(err)
	}
	want := "FILE_STATUS|" + addrA + "|" + fileHex + "|16384\n"
	if string(line) != want {
		t.Fatalf("got %q, want %q", line, want)
	}
	got, err := ParseCommand(want[:len(want)-1])
	if err != nil {
		t.Fatal(err)
	}
	if fs, ok := got.(*FileStatus); !ok || *fs != *c {
		t.Fatalf("parsed %+v, want %+v", got, c)
	}

	r := FileStatusReply{Count: 3, First: 0, Bitmap: []byte{0xa0}}
	out, err := r.Append(nil)
	if err != nil || string(out) != "OK|3|0|oA\n" {
		t.Fatalf("reply %q, %v", out, err)
	}
	p, err := ParseFileStatusReply("OK|3|0|oA")
	if err != nil || !p.Has(0) || p.Has(1) || !p.Has(2) || p.Has(3) {
		t.Fatalf("parsed %+v, %v", p, err)
	}
	// A full page of a large file.
	big := FileStatusReply{Count: MaxFileChunks, First: 8 * MaxStatusBitmapLen, Bitmap: bytes.Repeat([]byte{0xff}, MaxStatusBitmapLen)}
	out, err = big.Append(nil)
	if err != nil || len(out) > MaxLineLen {
		t.Fatalf("full page: %d bytes, %v", len(out), err)
	}
	if p, err := ParseFileStatusReply(string(out[:len(out)-1])); err != nil || !p.Has(8*MaxStatusBitmapLen) || p.Has(0) {
		t.Fatalf("full page parsed %v", err)
	}
}

func TestFileStatusRejects(t *testing.T) {
	for _, l := range []string{
		"FILE_STATUS|" + addrA + "|" + fileHex + "|3",                  // not a multiple of 8
		"FILE_STATUS|" + addrA + "|" + fileHex + "|1048576",            // past the cap
		"FILE_STATUS|" + addrA + "|" + fileHex[:30] + "|0",             // short id
		"FILE_STATUS|" + addrA + "|00112233445566778899AABBCCDDEEFF|0", // upper case
		"FILE_STATUS|" + addrA + "|" + fileHex,
	} {
		if _, err := ParseCommand(l); err == nil || CodeOf(err) != CodeMalformed {
			t.Errorf("%q: %v, want malformed", l, err)
		}
	}
	for _, l := range []string{
		"OK|3|0|ow",   // a bit past the last chunk
		"OK|3|0|oAA",  // too long a bitmap
		"OK|0|0|oA",   // bitmap for an unknown file
		"OK|9|0|-",    // missing bitmap
		"OK|9|3|gA",   // first not a multiple of 8
		"OK|3|0",      // missing field
		"OK|03|0|oA",  // leading zero
		"OK|3|0|oA==", // padding
	} {
		if _, err := ParseFileStatusReply(l); err == nil {
			t.Errorf("%q accepted", l)
		}
	}
	if _, err := ParseFileStatusReply("ERR|404|no such file"); CodeOf(err) != 404 {
		t.Errorf("ERR reply: %v", err)
	}
}

// FuzzFileStatus parses the input as a command and as a reply; whatever
// is accepted must format back to the same line.
func FuzzFileStatus(f *testing.F) {
	for _, l := range fileSeeds() {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if cmd, err := ParseCommand(line); err == nil {
			out, err := AppendCommand(nil, cmd)
			if err != nil || string(out) != line+"\n" {
				t.Fatalf("command %q not canonical: %q, %v", line, out, err)
			}
		}
		if r, err := ParseFileStatusReply(line); err == nil {
			out, err := r.Append(nil)
			if err != nil || string(out) != line+"\n" {
				t.Fatalf("reply %q not canonical: %q, %v", line, out, err)
			}
			for i := r.First; i < r.First+8*len(r.Bitmap); i++ {
				if i >= r.Count && r.Has(i) {
					t.Fatalf("chunk %d of %d marked", i, r.Count)
				}
			}
		}
	})
}

package sharepool

import (
	"bytes"
	"testing"
)

// FuzzParseEntryFile checks that the entry file parser never panics and
// that whatever it accepts encodes back to the same bytes.
func FuzzParseEntryFile(f *testing.F) {
	e := goldenEntry()
	f.Add(appendEntryFile(nil, &e))
	e.Data = bytes.Repeat([]byte{0xff}, 2048)
	e.N, e.K, e.ShareIndex = 255, 255, 255
	f.Add(appendEntryFile(nil, &e))
	f.Add([]byte(fileMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := parseEntryFile(b)
		if err != nil {
			return
		}
		if got := appendEntryFile(nil, &e); !bytes.Equal(got, b) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", got, b)
		}
		if EntryCost(len(e.Data)) < int64(len(b)) {
			t.Fatalf("cost %d below file length %d", EntryCost(len(e.Data)), len(b))
		}
	})
}

package ssms

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"testing"
)

func marshalAll(t testing.TB, shares []Share) [][]byte {
	t.Helper()
	out := make([][]byte, len(shares))
	for i, s := range shares {
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("share %d: MarshalBinary: %v", i, err)
		}
		out[i] = b
	}
	return out
}

func TestMarshalLayout(t *testing.T) {
	msg := testMessage(10)
	shares := mustSplit(t, msg, 5, 3)
	for i, b := range marshalAll(t, shares) {
		s := shares[i]
		if len(b) != HeaderSize+4 {
			t.Fatalf("share %d: %d bytes, want %d", i, len(b), HeaderSize+4)
		}
		want := []byte{Version, 5, 3, byte(i + 1)}
		want = binary.BigEndian.AppendUint64(want, 10)
		want = append(want, s.MsgID[:]...)
		want = append(want, s.KeyShare...)
		want = append(want, s.Tag[:]...)
		want = append(want, s.Fragment...)
		if !bytes.Equal(b, want) {
			t.Fatalf("share %d:\n got %x\nwant %x", i, b, want)
		}
		var u Share
		if err := u.UnmarshalBinary(b); err != nil {
			t.Fatalf("share %d: UnmarshalBinary: %v", i, err)
		}
		b2, err := u.MarshalBinary()
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("share %d: re-marshal differs: %v", i, err)
		}
		// The parsed share owns its bytes.
		clear(b)
		if !bytes.Equal(u.KeyShare, s.KeyShare) || !bytes.Equal(u.Fragment, s.Fragment) {
			t.Fatalf("share %d: parsed share aliases its input", i)
		}
		app, err := s.AppendBinary([]byte("prefix"))
		if err != nil || !bytes.Equal(app, append([]byte("prefix"), b2...)) {
			t.Fatalf("share %d: AppendBinary: %v", i, err)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	shares := mustSplit(t, testMessage(10), 5, 3)
	good, err := shares[1].MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := map[string][]byte{
		"empty":            {},
		"version 0":        edit(func(b []byte) []byte { b[0] = 0; return b }),
		"version 2":        edit(func(b []byte) []byte { b[0] = 2; return b }),
		"n 1":              edit(func(b []byte) []byte { b[offN] = 1; return b }),
		"k 1":              edit(func(b []byte) []byte { b[offK] = 1; return b }),
		"k > n":            edit(func(b []byte) []byte { b[offK] = 6; return b }),
		"index 0":          edit(func(b []byte) []byte { b[offIndex] = 0; return b }),
		"index > n":        edit(func(b []byte) []byte { b[offIndex] = 6; return b }),
		"x 0":              edit(func(b []byte) []byte { b[offTag-1] = 0; return b }),
		"length too big":   edit(func(b []byte) []byte { b[offMsgLen+7] = 13; return b }),
		"length too small": edit(func(b []byte) []byte { b[offMsgLen+7] = 9; return b }),
		"length huge":      edit(func(b []byte) []byte { b[offMsgLen] = 0xff; return b }),
		"trailing byte":    edit(func(b []byte) []byte { return append(b, 0) }),
	}
	for n := 0; n < len(good); n++ {
		cases[fmt.Sprintf("truncated to %d", n)] = good[:n]
	}
	for name, b := range cases {
		var s Share
		err := s.UnmarshalBinary(b)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
		if s.KeyShare != nil || s.Fragment != nil || s.N != 0 {
			t.Errorf("%s: share modified on error", name)
		}
	}
	// Still-valid lengths: 11 and 12 bytes also need 4-byte fragments.
	for _, l := range []byte{11, 12} {
		var s Share
		b := edit(func(b []byte) []byte { b[offMsgLen+7] = l; return b })
		if err := s.UnmarshalBinary(b); err != nil {
			t.Errorf("length %d: %v", l, err)
		}
	}
}

func TestMarshalRejects(t *testing.T) {
	shares := mustSplit(t, testMessage(10), 5, 3)
	for name, mutate := range map[string]func(s *Share){
		"index 0":        func(s *Share) { s.Index = 0 },
		"x 0":            func(s *Share) { s.KeyShare = append([]byte(nil), s.KeyShare...); s.KeyShare[32] = 0 },
		"short key":      func(s *Share) { s.KeyShare = s.KeyShare[:32] },
		"nil key":        func(s *Share) { s.KeyShare = nil },
		"short fragment": func(s *Share) { s.Fragment = s.Fragment[:3] },
		"k 0":            func(s *Share) { s.K = 0 },
	} {
		s := shares[0]
		mutate(&s)
		if _, err := s.MarshalBinary(); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

// TestUnmarshalAllocation checks UnmarshalBinary makes one allocation no
// larger than its input (the runtime counts it rounded up to whole 8 KiB
// pages), and for a header that claims more than the input carries, only
// the small error value.
func TestUnmarshalAllocation(t *testing.T) {
	shares := mustSplit(t, testMessage(100000), 3, 2)
	good, err := shares[2].MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	lying := bytes.Clone(good[:HeaderSize+10])
	binary.BigEndian.PutUint64(lying[offMsgLen:], 1<<40)
	const runs = 50
	for _, tc := range []struct {
		name   string
		b      []byte
		allocs float64
		limit  uint64
	}{
		{"valid", good, 1, uint64(len(good)) + 8192},
		{"lying header", lying, -1, 1024}, // the error value; more under -race
	} {
		var s Share
		if got := testing.AllocsPerRun(runs, func() { _ = s.UnmarshalBinary(tc.b) }); tc.allocs >= 0 && got != tc.allocs {
			t.Errorf("%s: %v allocations, want %v", tc.name, got, tc.allocs)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			_ = s.UnmarshalBinary(tc.b)
		}
		runtime.ReadMemStats(&after)
		if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun > tc.limit {
			t.Errorf("%s: %d bytes allocated per UnmarshalBinary of %d bytes", tc.name, perRun, len(tc.b))
		}
	}
}

package ssms

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// recordedSet returns the recorded "five of three" KAT shares, marshaled,
// and their message.
func recordedSet(f *testing.F) (wire [][]byte, msg []byte, k int) {
	raw, err := os.ReadFile(katFile)
	if err != nil {
		f.Fatal(err)
	}
	var vectors []katVector
	if err := json.Unmarshal(raw, &vectors); err != nil {
		f.Fatal(err)
	}
	for _, v := range vectors {
		if v.Name != "five of three" {
			continue
		}
		for _, h := range v.Shares {
			b, _ := hex.DecodeString(h)
			wire = append(wire, b)
		}
		msg, _ = hex.DecodeString(v.Message)
		return wire, msg, v.K
	}
	f.Fatal("no five-of-three vector")
	return
}

func FuzzUnmarshalBinary(f *testing.F) {
	wire, _, _ := recordedSet(f)
	for _, b := range wire {
		f.Add(b)
		f.Add(b[:HeaderSize])
	}
	for _, size := range []int{0, 1, 100} {
		shares, err := Split(testMessage(size), 4, 3)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range shares {
			b, _ := s.MarshalBinary()
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Share
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("unmarshaled share does not marshal: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-marshal differs:\n in %x\nout %x", b, out)
		}
	})
}

// FuzzCombine feeds Combine two kinds of input, chosen by the first byte:
//
//   - even: the rest is cut into up to six pieces, each parsed as a share;
//   - odd: the recorded five-of-three set, with shares included, repeated
//     and altered as the rest of the input says (byte 1: which shares,
//     byte 2: which twice, then (share, offset, xor) triples).
//
// Combine must never panic, and a set derived from the valid one must give
// either the original message or an error; with k untouched shares in it,
// the message.
func FuzzCombine(f *testing.F) {
	wire, msg, k := recordedSet(f)
	f.Add([]byte{0x00})
	f.Add(append([]byte{0x04}, bytes.Join(wire, nil)...))
	f.Add([]byte{0x01, 0x1f, 0x00})
	f.Add([]byte{0x01, 0x1f, 0x01, 0, 5, 1, 1, 40, 0x80})
	f.Add([]byte{0x01, 0x07, 0x00, 0, 80, 0xff})
	f.Add([]byte{0x01, 0x1f, 0x00, 0, 30, 1, 1, 31, 1, 2, 32, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		if in[0]%2 == 0 {
			rest := in[1:]
			count := int(in[0]/2)%6 + 1
			size := len(rest) / count
			var shares []Share
			for i := range count {
				var s Share
				if s.UnmarshalBinary(rest[i*size:(i+1)*size]) == nil {
					shares = append(shares, s)
				}
			}
			_, _ = CombineReport(shares)
			_, _ = Combine(shares)
			return
		}
		if len(in) < 3 {
			return
		}
		include, twice, edits := in[1], in[2], in[3:]
		altered := make([][]byte, len(wire))
		for i, b := range wire {
			altered[i] = bytes.Clone(b)
		}
		for ; len(edits) >= 3; edits = edits[3:] {
			b := altered[int(edits[0])%len(wire)]
			b[int(edits[1])%len(b)] ^= edits[2]
		}
		var shares []Share
		untouched := 0
		for i, b := range altered {
			if include&(1<<i) == 0 {
				continue
			}
			var s Share
			if s.UnmarshalBinary(b) != nil {
				continue
			}
			shares = append(shares, s)
			if twice&(1<<i) != 0 {
				shares = append(shares, s)
			}
			if bytes.Equal(b, wire[i]) {
				untouched++
			}
		}
		res, err := CombineReport(shares)
		if err == nil && !bytes.Equal(res.Message, msg) {
			t.Fatalf("wrong message %x", res.Message)
		}
		if untouched >= k && err != nil {
			t.Fatalf("%d untouched shares, yet: %v", untouched, err)
		}
		got, err2 := Combine(shares)
		if (err2 == nil) != (err == nil) || err2 == nil && !bytes.Equal(got, msg) {
			t.Fatalf("Combine and CombineReport disagree: %v / %v", err2, err)
		}
	})
}

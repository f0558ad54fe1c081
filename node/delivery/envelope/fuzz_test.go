package envelope

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParsePrefix feeds arbitrary bytes to ParsePrefix. Whatever it
// accepts must re-encode to the same bytes, and Verify and OpenKeyShare
// must not panic on it.
func FuzzParsePrefix(f *testing.F) {
	golden, err := os.ReadFile(goldenFile)
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Fields(string(golden)) {
		env, err := hex.DecodeString(line)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(env)
		f.Add(env[:PrefixLen(3)])
		f.Add(env[:PrefixLen(3)-1])
	}
	f.Add([]byte{})
	f.Add([]byte{1, 2, 2, 0})
	r := newParty(f, 0x22)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePrefix(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || p != nil {
				t.Fatalf("ParsePrefix error %v (prefix %v) does not wrap ErrMalformed", err, p)
			}
			return
		}
		pl := PrefixLen(int(p.N))
		enc, err := p.AppendBinary(nil)
		if err != nil || !bytes.Equal(enc, b[:pl]) {
			t.Fatalf("re-encoding %x differs from input %x", enc, b[:pl])
		}
		if p.Index == 0 || p.Index > p.N || p.K < 2 || p.K > p.N || len(p.Digests) != int(p.N) {
			t.Fatalf("accepted inconsistent prefix: index %d, n %d, k %d", p.Index, p.N, p.K)
		}
		if p.TransferLen() < pl || uint64(p.TransferLen()) > maxTransfer {
			t.Fatalf("transfer length %d", p.TransferLen())
		}
		_ = p.Verify(p.Src(), p.Dst)
		_ = p.VerifyAgainst(p)
		_, _ = p.OpenKeyShare(r.seal)
	})
}

package protocol

import (
	"bytes"
	"testing"
)

func FuzzParseRDTHeader(f *testing.F) {
	f.Add(mustHex(f, goldenRDT))
	f.Add(append(mustHex(f, goldenRDT), 1, 2, 3))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, rest, err := ParseRDTHeader(b)
		if err != nil {
			return
		}
		enc := AppendRDTHeader(nil, h)
		if !bytes.Equal(enc, b[:RDTHeaderLen]) || !bytes.Equal(rest, b[RDTHeaderLen:]) {
			t.Fatalf("re-encoding %x differs from input %x", enc, b)
		}
	})
}

func FuzzParseVMDTHeader(f *testing.F) {
	f.Add(mustHex(f, goldenVMDT))
	g := mustHex(f, goldenVMDT)
	copy(g[56:64], []byte{0, 0, 0, 0, 0, 0, 0, 4})
	f.Add(append(g, 1, 2, 3, 4))
	f.Add([]byte{1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, payload, err := ParseVMDTHeader(b)
		if err != nil {
			return
		}
		if uint64(h.Offset)+uint64(len(payload)) > uint64(h.ShareLen) || h.ShareIndex == 0 || h.ShareIndex > h.N || h.K < 2 || h.K > h.N {
			t.Fatalf("accepted inconsistent header %+v with %d payload bytes", h, len(payload))
		}
		enc := AppendVMDTHeader(nil, h)
		if !bytes.Equal(enc, b[:VMDTHeaderLen]) || !bytes.Equal(payload, b[VMDTHeaderLen:]) {
			t.Fatalf("re-encoding %x differs from input %x", enc, b)
		}
	})
}

func FuzzParseAckBody(f *testing.F) {
	f.Add(mustHex(f, goldenAck), uint32(5))
	f.Add([]byte{0, 0, 0, 0, 0}, uint32(0))
	f.Fuzz(func(t *testing.T, b []byte, cumAck uint32) {
		a, err := ParseAckBody(nil, b, cumAck)
		if err != nil {
			return
		}
		next := uint64(cumAck)
		for _, r := range a.Ranges {
			if uint64(r.First) < next || r.First > r.Last {
				t.Fatalf("accepted bad range %+v after %d", r, next)
			}
			next = uint64(r.Last) + 1
		}
		if enc := AppendAckBody(nil, a); !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding %x differs from input %x", enc, b)
		}
	})
}

package protocol

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sampleVMDT() VMDTHeader {
	h := VMDTHeader{Type: TypeShare, Flags: FlagPool, ShareIndex: 4, N: 6, K: 3, Offset: 0x01020304, ShareLen: 0x0a0b0c0d}
	for i := range h.MessageID {
		h.MessageID[i] = byte(0xa0 + i)
	}
	for i := range h.Src {
		h.Src[i] = byte(i + 1)
		h.Dst[i] = byte(0xff - i)
	}
	return h
}

// Golden encodings: any change to these bytes is a wire-format change and
// needs a new version number.
const (
	goldenRDT = "01 03 0100 deadbeef 00000007 00000005"

	goldenVMDT = "01 01 01 04 06 03 0000" +
		" a0a1a2a3a4a5a6a7" +
		" 0102030405060708090a0b0c0d0e0f1011121314" +
		" fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedec" +
		" 01020304 0a0b0c0d"

	goldenAck = "000003e8 02 00000007 00000009 0000000c 0000000c"
)

func TestRDTHeaderGolden(t *testing.T) {
	h := RDTHeader{Flags: FlagData | FlagAck, Window: 256, KeyID: 0xdeadbeef, Seq: 7, Ack: 5}
	got := AppendRDTHeader(nil, h)
	want := mustHex(t, goldenRDT)
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding\n got %x\nwant %x", got, want)
	}
	if len(got) != RDTHeaderLen {
		t.Fatalf("length %d, want %d", len(got), RDTHeaderLen)
	}
	back, rest, err := ParseRDTHeader(append(want, 0xee))
	if err != nil {
		t.Fatal(err)
	}
	if back != h || !bytes.Equal(rest, []byte{0xee}) {
		t.Fatalf("parse = %+v rest %x", back, rest)
	}
}

func TestVMDTHeaderGolden(t *testing.T) {
	h := sampleVMDT()
	got := AppendVMDTHeader(nil, h)
	want := mustHex(t, goldenVMDT)
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding\n got %x\nwant %x", got, want)
	}
	if len(got) != VMDTHeaderLen {
		t.Fatalf("length %d, want %d", len(got), VMDTHeaderLen)
	}
	payload := []byte("payload")
	back, rest, err := ParseVMDTHeader(append(want, payload...))
	if err != nil {
		t.Fatal(err)
	}
	if back != h || !bytes.Equal(rest, payload) {
		t.Fatalf("parse = %+v rest %q", back, rest)
	}
}

func TestAckBodyGolden(t *testing.T) {
	a := AckBody{DelayMicros: 1000, Ranges: []AckRange{{7, 9}, {12, 12}}}
	got := AppendAckBody(nil, a)
	want := mustHex(t, goldenAck)
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding\n got %x\nwant %x", got, want)
	}
	back, err := ParseAckBody(nil, want, 5)
	if err != nil {
		t.Fatal(err)
	}
	if back.DelayMicros != 1000 || len(back.Ranges) != 2 || back.Ranges[0] != a.Ranges[0] || back.Ranges[1] != a.Ranges[1] {
		t.Fatalf("parse = %+v", back)
	}
}

func TestRDTHeaderRejects(t *testing.T) {
	good := mustHex(t, goldenRDT)
	cases := []struct {
		name string
		mut  func([]byte) []byte
		want error
	}{
		{"short", func(b []byte) []byte { return b[:15] }, ErrShort},
		{"empty", func(b []byte) []byte { return nil }, ErrShort},
		{"version 0", func(b []byte) []byte { b[0] = 0; return b }, ErrVersion},
		{"version 2", func(b []byte) []byte { b[0] = 2; return b }, ErrVersion},
		{"unknown flag", func(b []byte) []byte { b[1] |= 0x80; return b }, ErrInvalid},
		{"no flags", func(b []byte) []byte { b[1] = 0; return b }, ErrInvalid},
		{"seq 0", func(b []byte) []byte { copy(b[8:12], []byte{0, 0, 0, 0}); return b }, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.mut(bytes.Clone(good))
			if _, _, err := ParseRDTHeader(b); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestVMDTHeaderRejects(t *testing.T) {
	good := mustHex(t, goldenVMDT)
	cases := []struct {
		name string
		mut  func([]byte) []byte
		want error
	}{
		{"short", func(b []byte) []byte { return b[:63] }, ErrShort},
		{"version", func(b []byte) []byte { b[0] = 9; return b }, ErrVersion},
		{"type 0", func(b []byte) []byte { b[1] = 0; return b }, ErrInvalid},
		{"unknown type", func(b []byte) []byte { b[1] = 0x7f; return b }, ErrInvalid},
		{"unknown flag", func(b []byte) []byte { b[2] = 0x02; return b }, ErrInvalid},
		{"share index 0", func(b []byte) []byte { b[3] = 0; return b }, ErrInvalid},
		{"share index > n", func(b []byte) []byte { b[3] = 7; return b }, ErrInvalid},
		{"k < 2", func(b []byte) []byte { b[5] = 1; return b }, ErrInvalid},
		{"k > n", func(b []byte) []byte { b[5] = 7; return b }, ErrInvalid},
		{"reserved", func(b []byte) []byte { b[7] = 1; return b }, ErrInvalid},
		{"payload past share end", func(b []byte) []byte {
			copy(b[56:64], []byte{0, 0, 0, 10, 0, 0, 0, 12})
			return append(b, 1, 2, 3)
		}, ErrInvalid},
		{"offset overflow", func(b []byte) []byte {
			copy(b[56:64], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
			return append(b, 1)
		}, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.mut(bytes.Clone(good))
			if _, _, err := ParseVMDTHeader(b); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestVMDTHeaderPayloadAtShareEnd(t *testing.T) {
	h := sampleVMDT()
	h.Offset, h.ShareLen = 10, 13
	b := AppendVMDTHeader(nil, h)
	if _, p, err := ParseVMDTHeader(append(b, 1, 2, 3)); err != nil || len(p) != 3 {
		t.Fatalf("payload ending exactly at share end: %v, %d bytes", err, len(p))
	}
}

func TestAckBodyRejects(t *testing.T) {
	cases := []struct {
		name   string
		body   []byte
		cumAck uint32
	}{
		{"short", []byte{0, 0, 0}, 0},
		{"count too large", AppendAckBody(nil, AckBody{})[:4:4], 0},
		{"length mismatch", append(AppendAckBody(nil, AckBody{Ranges: []AckRange{{3, 4}}}), 0), 0},
		{"below cumulative ack", AppendAckBody(nil, AckBody{Ranges: []AckRange{{3, 4}}}), 4},
		{"inverted", AppendAckBody(nil, AckBody{Ranges: []AckRange{{5, 4}}}), 0},
		{"overlapping", AppendAckBody(nil, AckBody{Ranges: []AckRange{{3, 6}, {6, 9}}}), 0},
		{"descending", AppendAckBody(nil, AckBody{Ranges: []AckRange{{10, 12}, {3, 4}}}), 0},
		{"after max", AppendAckBody(nil, AckBody{Ranges: []AckRange{{1, 0xffffffff}, {0, 0}}}), 0},
	}
	over := []byte{0, 0, 0, 0, MaxAckRanges + 1}
	over = append(over, make([]byte, 8*(MaxAckRanges+1))...)
	cases = append(cases, struct {
		name   string
		body   []byte
		cumAck uint32
	}{"too many ranges", over, 0})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseAckBody(nil, c.body, c.cumAck); err == nil {
				t.Fatalf("accepted %x", c.body)
			}
		})
	}
}

func TestAckBodyTruncatesRanges(t *testing.T) {
	var rs []AckRange
	for i := uint32(0); i < MaxAckRanges+5; i++ {
		rs = append(rs, AckRange{10 * i, 10*i + 1})
	}
	b := AppendAckBody(nil, AckBody{Ranges: rs})
	a, err := ParseAckBody(nil, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Ranges) != MaxAckRanges || a.Ranges[MaxAckRanges-1] != rs[MaxAckRanges-1] {
		t.Fatalf("got %d ranges", len(a.Ranges))
	}
}

func TestParsersDoNotAllocate(t *testing.T) {
	rdt := mustHex(t, goldenRDT)
	vmdt := append(mustHex(t, goldenVMDT), make([]byte, 100)...)
	copy(vmdt[56:64], []byte{0, 0, 0, 0, 0, 0, 1, 0})
	ack := mustHex(t, goldenAck)
	dst := make([]AckRange, 0, MaxAckRanges)
	n := testing.AllocsPerRun(100, func() {
		if _, _, err := ParseRDTHeader(rdt); err != nil {
			panic(err)
		}
		if _, _, err := ParseVMDTHeader(vmdt); err != nil {
			panic(err)
		}
		if _, err := ParseAckBody(dst, ack, 0); err != nil {
			panic(err)
		}
	})
	if n != 0 {
		t.Fatalf("parsers allocated %.1f times per run", n)
	}
}

func TestDDTAddr(t *testing.T) {
	a := DDTAddrFromPublicKey([]byte("some public key"))
	b := DDTAddrFromPublicKey([]byte("some public keY"))
	if a == b || a.IsZero() {
		t.Fatal("distinct keys gave equal or zero addresses")
	}
	s := a.String()
	if len(s) != 40 || strings.ToLower(s) != s {
		t.Fatalf("String() = %q", s)
	}
	back, err := ParseDDTAddr(strings.ToUpper(s))
	if err != nil || back != a {
		t.Fatalf("ParseDDTAddr(upper) = %v, %v", back, err)
	}
	for _, bad := range []string{"", s[:39], s + "0", "zz" + s[2:]} {
		if _, err := ParseDDTAddr(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDDTAddr(%q) err = %v", bad, err)
		}
	}
	txt, _ := a.MarshalText()
	var c DDTAddr
	if err := c.UnmarshalText(txt); err != nil || c != a {
		t.Fatalf("text round trip: %v %v", c, err)
	}
	// Known answer: pins the derivation (domain string and hash).
	const want = "e0eecb1de351397d69b807dd812d6a11eca56a55"
	if got := DDTAddrFromPublicKey(nil).String(); got != want {
		t.Fatalf("derivation changed: got %s, want %s", got, want)
	}
}

func TestMessageID(t *testing.T) {
	id := sampleVMDT().MessageID
	back, err := ParseMessageID(id.String())
	if err != nil || back != id {
		t.Fatalf("round trip: %v %v", back, err)
	}
	for _, bad := range []string{"", "a0a1", "g0a1a2a3a4a5a6a7"} {
		if _, err := ParseMessageID(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseMessageID(%q) err = %v", bad, err)
		}
	}
}

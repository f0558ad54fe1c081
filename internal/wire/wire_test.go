package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

var errBad = errors.New("bad encoding")

func TestReaderRoundTrip(t *testing.T) {
	b := []byte{7}
	b = binary.BigEndian.AppendUint32(b, 0xdeadbeef)
	b = binary.BigEndian.AppendUint64(b, 1<<40)
	b = AppendVar(b, []byte("name"))
	b = binary.BigEndian.AppendUint64(b, 1700000000)
	r := NewReader(b, errBad)
	if v := r.U8("a"); v != 7 {
		t.Errorf("U8 = %d", v)
	}
	if v := r.U32("b"); v != 0xdeadbeef {
		t.Errorf("U32 = %#x", v)
	}
	if v := r.U64("c"); v != 1<<40 {
		t.Errorf("U64 = %d", v)
	}
	if v := r.VarBytes(1, 16, "d"); !bytes.Equal(v, []byte("name")) || cap(v) != len(v) {
		t.Errorf("VarBytes = %q (cap %d)", v, cap(v))
	}
	if v := r.Time("e"); !v.Equal(time.Unix(1700000000, 0)) || v.Location() != time.UTC {
		t.Errorf("Time = %v", v)
	}
	r.End()
	if r.Err != nil {
		t.Fatal(r.Err)
	}
}

func TestReaderFailures(t *testing.T) {
	cases := map[string]func(r *Reader){
		"short":            func(r *Reader) { r.U32("x") },
		"length too big":   func(r *Reader) { r.VarBytes(0, 2, "x") },
		"length too small": func(r *Reader) { r.VarBytes(5, 9, "x") },
		"trailing":         func(r *Reader) { r.U8("x"); r.End() },
		"time range": func(r *Reader) {
			*r = *NewReader(binary.BigEndian.AppendUint64(nil, MaxTime), errBad)
			r.Time("x")
		},
	}
	for name, read := range cases {
		t.Run(name, func(t *testing.T) {
			r := NewReader([]byte{3, 1, 2}, errBad)
			read(r)
			if !errors.Is(r.Err, errBad) {
				t.Fatalf("Err = %v, want errBad", r.Err)
			}
			first := r.Err
			if v := r.U8("after"); v != 0 || r.Err != first {
				t.Fatalf("read after failure gave %d, Err %v; want 0 and the first error", v, r.Err)
			}
		})
	}
}

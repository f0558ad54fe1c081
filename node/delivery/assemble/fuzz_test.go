package assemble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzAdd feeds a Message arbitrary segments of one real message: any
// index, offset and length, the true bytes or altered ones, with Ready,
// Result and Missing called in between. Nothing may panic; a released
// message must be the true one; only shares that were sent altered bytes
// may be named bad; and if at least k shares were never altered, sending
// every true byte afterwards must decode the message.
//
// Each op is 6 bytes: index, offset (2), length (2), flags: bit 0 alter
// (XOR with the flags byte), bit 1 try Result, bit 2 call Missing.
func FuzzAdd(f *testing.F) {
	tm := newTestMsg(f, 700, 4, 2, 1)
	tl := tm.transferLn
	op := func(index uint8, off, length int, flags byte) []byte {
		b := []byte{index, 0, 0, 0, 0, flags}
		binary.BigEndian.PutUint16(b[1:], uint16(off))
		binary.BigEndian.PutUint16(b[3:], uint16(length))
		return b
	}
	f.Add([]byte{})
	f.Add(bytes.Join([][]byte{op(1, 0, tl, 2), op(3, 0, tl, 2)}, nil))
	f.Add(bytes.Join([][]byte{op(1, 0, 500, 0), op(2, 400, 372, 0), op(3, 0, 600, 2), op(4, 300, 472, 6)}, nil))
	f.Add(bytes.Join([][]byte{op(1, 0, tl, 0x81), op(2, 0, tl, 2), op(3, 500, 100, 0x11), op(3, 0, tl, 6), op(4, 0, tl, 2)}, nil))
	f.Add(bytes.Join([][]byte{op(2, 100, 5, 0xff), op(0, 0, 1, 0), op(5, 0, 1, 0), op(1, 770, 50, 4)}, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := tm.newMessage(t, Limits{MaxPieces: 200})
		altered := make([]bool, tm.n)
		check := func() {
			if m.Ready() {
				msg, rep, err := m.Result()
				if err == nil && !bytes.Equal(msg, tm.msg) {
					t.Fatal("released a wrong message")
				}
				if err != nil && (msg != nil || !errors.Is(err, ErrUnauthenticated)) {
					t.Fatalf("Result when ready: %d bytes, %v", len(msg), err)
				}
				for _, e := range rep.Bad {
					if !altered[e.Index-1] {
						t.Fatalf("share %d named bad but never altered: %v", e.Index, e.Err)
					}
				}
			}
		}
		for ; len(data) >= 6; data = data[6:] {
			index := data[0] % uint8(tm.n+2)
			off := int(binary.BigEndian.Uint16(data[1:])) % (tl + 8)
			length := int(binary.BigEndian.Uint16(data[3:])) % (tl + 8)
			flags := data[5]
			var b []byte
			if index >= 1 && int(index) <= tm.n && off+length <= tl {
				b = bytes.Clone(tm.envs[index-1][off : off+length])
			} else {
				b = make([]byte, length)
			}
			if flags&1 != 0 {
				for x := range b {
					b[x] ^= flags
				}
				if index >= 1 && int(index) <= tm.n && length > 0 {
					altered[index-1] = true
				}
			}
			_, err := m.Add(index, off, b)
			if err != nil && !errors.Is(err, ErrSegment) && !errors.Is(err, ErrLimit) {
				var se *ShareError
				if !errors.As(err, &se) || !altered[se.Index-1] {
					t.Fatalf("Add(%d, %d, %d): %v", index, off, length, err)
				}
			}
			if flags&2 != 0 {
				check()
			}
			if flags&4 != 0 {
				for _, r := range m.Missing() {
					if r.Off < 0 || r.End > tl || r.Off >= r.End || r.Have >= tm.k {
						t.Fatalf("Missing range %+v", r)
					}
				}
			}
		}
		honest := 0
		for _, a := range altered {
			if !a {
				honest++
			}
		}
		for i, env := range tm.envs {
			if _, err := m.Add(uint8(i+1), 0, env); err != nil && !altered[i] {
				t.Fatalf("whole share %d: %v", i+1, err)
			}
		}
		check()
		if honest >= tm.k {
			msg, _, err := m.Result()
			if err != nil || !bytes.Equal(msg, tm.msg) {
				t.Fatalf("%d honest shares delivered whole, Result: %v", honest, err)
			}
		}
	})
}

package assemble

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/protocol"
)

// TestPrefixRejected: a share whose prefix does not verify is rejected
// with the reason, its bytes are ignored, and the others decode.
func TestPrefixRejected(t *testing.T) {
	tm := newTestMsg(t, 5_000, 4, 2, 1)
	other := newTestMsg(t, 5_000, 4, 2, 2) // another message, same parties
	pl := tm.prefixLen
	sigOff := pl - 66 - envelope.SignatureSize
	for _, tc := range []struct {
		name   string
		first  bool // delivered before any other prefix
		mangle func(env []byte) []byte
		want   error
	}{
		{"forged signature, first", true, func(b []byte) []byte { b[sigOff] ^= 1; return b }, envelope.ErrBadSignature},
		{"forged signature, later", false, func(b []byte) []byte { b[sigOff] ^= 1; return b }, envelope.ErrManifestMismatch},
		{"altered manifest, first", true, func(b []byte) []byte { b[105] ^= 1; return b }, envelope.ErrBadSignature},
		{"key share of another share", false, func(b []byte) []byte { copy(b[pl-49:pl], tm.envs[0][pl-49:pl]); return b }, envelope.ErrShareMismatch},
		{"prefix of another share", true, func(b []byte) []byte { copy(b[pl-66:pl], tm.envs[0][pl-66:pl]); return b }, ErrPrefixMismatch},
		{"prefix of another message", true, func(b []byte) []byte { copy(b, other.envs[2][:pl]); return b }, ErrPrefixMismatch},
		{"malformed", true, func(b []byte) []byte { b[0] = 2; return b }, envelope.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tm.newMessage(t, Limits{})
			if !tc.first {
				add(t, m, segment{1, 0, tm.envs[0][:pl]})
			}
			bad := tc.mangle(slices.Clone(tm.envs[2]))
			_, err := m.Add(3, 0, bad[:pl-10])
			if err != nil {
				t.Fatalf("incomplete prefix: %v", err)
			}
			p, err := m.Add(3, pl-10, bad[pl-10:])
			var se *ShareError
			if !errors.As(err, &se) || se.Index != 3 || !errors.Is(err, tc.want) || p.PrefixVerified {
				t.Fatalf("Add = %+v, %v; want a ShareError for share 3 wrapping %v", p, err, tc.want)
			}
			// The rejected share's bytes no longer count or arrive.
			if p, err := m.Add(3, 0, tm.envs[2]); err != nil || p.New != 0 {
				t.Fatalf("bytes of a rejected share: %+v, %v", p, err)
			}
			add(t, m, segment{2, 0, tm.envs[1]})
			if m.Ready() {
				t.Fatal("ready with one good share")
			}
			add(t, m, segment{1, 0, tm.envs[0]})
			msg, rep, err := m.Result()
			if err != nil || !bytes.Equal(msg, tm.msg) {
				t.Fatalf("Result: %v", err)
			}
			if len(rep.Bad) != 1 || rep.Bad[0].Index != 3 || !errors.Is(rep.Bad[0], tc.want) {
				t.Fatalf("report bad %v", rep.Bad)
			}
		})
	}
}

// TestWrongParties: prefixes from another sender, or for another
// receiver, never verify, so nothing is ever ready.
func TestWrongParties(t *testing.T) {
	tm := newTestMsg(t, 2_000, 3, 2, 1)
	mallory := newParty(t, 9)
	for _, tc := range []struct {
		name string
		edit func(p *Params)
		want error
	}{
		{"source", func(p *Params) { p.Src = mallory.addr }, envelope.ErrWrongSender},
		{"destination", func(p *Params) { p.Dst = mallory.addr }, envelope.ErrWrongDestination},
		{"seal key", func(p *Params) { p.SealKey = mallory.seal }, envelope.ErrSeal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tm.params
			tc.edit(&p)
			m, err := New(p, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for i, env := range tm.envs {
				if _, err := m.Add(uint8(i+1), 0, env); !errors.Is(err, tc.want) {
					t.Fatalf("share %d: %v, want %v", i+1, err, tc.want)
				}
			}
			if m.Ready() {
				t.Fatal("ready")
			}
			// Every share is rejected: nothing covers anything.
			if got := m.Missing(); !slices.Equal(got, []Range{{0, tm.transferLn, 0}}) {
				t.Fatalf("Missing() = %v", got)
			}
		})
	}
}

func TestSegmentChecks(t *testing.T) {
	tm := newTestMsg(t, 3_000, 3, 2, 1)
	m := tm.newMessage(t, Limits{})
	tl := tm.transferLn
	for _, s := range []segment{
		{0, 0, []byte{1}},
		{4, 0, []byte{1}},
		{1, -1, []byte{1}},
		{1, tl, []byte{1}},
		{1, tl - 1, []byte{1, 2}},
		{1, tl + 1, nil},
	} {
		if _, err := m.Add(s.index, s.off, s.b); !errors.Is(err, ErrSegment) {
			t.Errorf("Add(%d, %d, %d bytes) = %v, want ErrSegment", s.index, s.off, len(s.b), err)
		}
	}
	if p, err := m.Add(1, tl, nil); err != nil || p.New != 0 {
		t.Errorf("empty segment at the end: %+v, %v", p, err)
	}

	h := protocol.VMDTHeader{Type: protocol.TypeShare, ShareIndex: 2, N: 3, K: 2, MessageID: tm.messageID,
		Src: tm.sender.addr, Dst: tm.receiver.addr, Offset: 0, ShareLen: uint32(tl)}
	if p, err := m.AddVMDT(h, tm.envs[1][:100]); err != nil || p.New != 100 {
		t.Fatalf("AddVMDT: %+v, %v", p, err)
	}
	for name, edit := range map[string]func(*protocol.VMDTHeader){
		"message id": func(h *protocol.VMDTHeader) { h.MessageID[0]++ },
		"source":     func(h *protocol.VMDTHeader) { h.Src[0]++ },
		"dest":       func(h *protocol.VMDTHeader) { h.Dst[0]++ },
		"n":          func(h *protocol.VMDTHeader) { h.N++ },
		"k":          func(h *protocol.VMDTHeader) { h.K++ },
		"length":     func(h *protocol.VMDTHeader) { h.ShareLen++ },
	} {
		g := h
		edit(&g)
		if _, err := m.AddVMDT(g, tm.envs[1][:100]); !errors.Is(err, ErrMismatch) {
			t.Errorf("header with another %s: %v", name, err)
		}
	}
	if got := ParamsFromHeader(h, tm.receiver.seal); got != tm.params {
		t.Errorf("ParamsFromHeader = %+v, want %+v", got, tm.params)
	}
}

func TestNewChecks(t *testing.T) {
	tm := newTestMsg(t, 3_000, 3, 2, 1)
	p256, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		edit func(*Params)
		lim  Limits
		want error
	}{
		"k 1":            {func(p *Params) { p.K = 1 }, Limits{}, ErrInvalidParams},
		"k above n":      {func(p *Params) { p.K = 4 }, Limits{}, ErrInvalidParams},
		"n 256":          {func(p *Params) { p.N, p.K = 256, 2 }, Limits{}, ErrInvalidParams},
		"no seal key":    {func(p *Params) { p.SealKey = nil }, Limits{}, ErrInvalidParams},
		"P-256 seal key": {func(p *Params) { p.SealKey = p256 }, Limits{}, ErrInvalidParams},
		"short transfer": {func(p *Params) { p.TransferLen = envelope.PrefixLen(3) - 1 }, Limits{}, ErrInvalidParams},
		"huge transfer":  {func(p *Params) { p.TransferLen = math.MaxUint32 + 1 }, Limits{}, ErrInvalidParams},
		"over MaxBytes":  {func(*Params) {}, Limits{MaxBytes: 3*tm.transferLn - 1}, ErrLimit},
		"over default":   {func(p *Params) { p.TransferLen = DefaultMaxBytes/3 + 1 }, Limits{}, ErrLimit},
	} {
		p := tm.params
		tc.edit(&p)
		if m, err := New(p, tc.lim); !errors.Is(err, tc.want) || m != nil {
			t.Errorf("%s: New = %v, want %v", name, err, tc.want)
		}
	}
	if _, err := New(tm.params, Limits{MaxBytes: 3 * tm.transferLn}); err != nil {
		t.Errorf("at MaxBytes: %v", err)
	}
}

// TestMaxPieces: a sender of tiny scattered segments hits the coverage
// map's limit and is refused, without harm to what is held.
func TestMaxPieces(t *testing.T) {
	tm := newTestMsg(t, 30_000, 3, 2, 1)
	m := tm.newMessage(t, Limits{MaxPieces: 64})
	var err error
	off := tm.prefixLen
	for ; off < tm.transferLn && err == nil; off += 10 {
		_, err = m.Add(1, off, tm.envs[0][off:off+1])
	}
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("scattered bytes: %v, want ErrLimit", err)
	}
	if m.cov.pieces > 64 {
		t.Fatalf("%d pieces, limit 64", m.cov.pieces)
	}
	// Whole transfers still fit: they join the pieces up.
	add(t, m, segment{1, 0, tm.envs[0]})
	add(t, m, segment{2, 0, tm.envs[1]})
	msg, _, err := m.Result()
	if err != nil || !bytes.Equal(msg, tm.msg) {
		t.Fatalf("Result: %v", err)
	}
}

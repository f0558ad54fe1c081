package namerec

import (
	"bytes"
	"testing"
	"time"
)

func FuzzParseRecord(f *testing.F) {
	fx := newFixture(f)
	_, b := fx.record(f, "alice", 0, 1, 2)
	f.Add(b)
	_, b = fx.record(f, "a", 1)
	f.Add(b)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecord(b)
		if err != nil {
			return
		}
		// One encoding per value: what parses re-encodes to the input.
		again, err := r.Marshal()
		if err != nil {
			t.Fatalf("parsed record does not marshal: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, b)
		}
		_, _ = fx.set.Verify(r, fx.now)
	})
}

func FuzzParseRequest(f *testing.F) {
	fx := newFixture(f)
	q, err := NewClaimRequest(fx.owner, idOf(f, fx.auths[0]), "alice", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	b, err := AppendRequest(nil, q)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{1, 1, 1, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseRequest(b)
		if err != nil {
			return
		}
		again, err := AppendRequest(nil, q)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %v\n%x\n%x", err, again, b)
		}
		_ = q.VerifySig(idOf(t, fx.auths[0]))
	})
}

func FuzzParseResponse(f *testing.F) {
	fx := newFixture(f)
	c := fx.counters(f, fx.owner, "alice", ClaimTTL, 0)[0]
	for _, r := range []*Response{
		{Status: StatusGrantedNew, Counter: c},
		{Status: StatusHeld, HeldUntil: fx.now},
		{Status: StatusRefused, Reason: "no"},
	} {
		b, err := AppendResponse(nil, r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	notary := idOf(f, fx.auths[0])
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b, notary)
		if err != nil {
			return
		}
		again, err := AppendResponse(nil, r)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %v\n%x\n%x", err, again, b)
		}
	})
}

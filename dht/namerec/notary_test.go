package namerec

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestRequestGoldenAndRoundTrip(t *testing.T) {
	f := newFixture(t)
	notary := idOf(t, f.auths[0])
	q, err := NewClaimRequest(f.owner, notary, "alice", ClaimTTL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := AppendRequest(nil, q)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "request_v1.hex", b)
	p, err := ParseRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "alice" || p.Duration != ClaimTTL || !bytes.Equal(p.PubKey, marshalPub(t, f.owner)) {
		t.Fatalf("parsed %+v", p)
	}
	if err := p.VerifySig(notary); err != nil {
		t.Fatal(err)
	}
	// The signature binds the notary: replaying it elsewhere fails.
	if err := p.VerifySig(idOf(t, f.auths[1])); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("replayed at another notary: %v, want ErrBadSignature", err)
	}
	p.Duration = 2 * ClaimTTL
	if err := p.VerifySig(notary); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("changed duration: %v, want ErrBadSignature", err)
	}
}

func TestParseRequestRejects(t *testing.T) {
	f := newFixture(t)
	q, err := NewClaimRequest(f.owner, idOf(t, f.auths[0]), "alice", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	good, err := AppendRequest(nil, q)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	zeroHold := bytes.Clone(good)
	copy(zeroHold[2+6+37:], []byte{0, 0, 0, 0})
	cases := map[string]struct {
		b    []byte
		want error
	}{
		"empty":               {nil, ErrMalformed},
		"version 2":           {edit(0, 2), ErrMalformed},
		"type 2":              {edit(1, 2), ErrMalformed},
		"upper-case name":     {edit(3, 'A'), ErrInvalidName},
		"name length 17":      {edit(2, 17), ErrMalformed},
		"zero hold":           {zeroHold, ErrMalformed},
		"trailing timestamp":  {append(bytes.Clone(good), 0, 0, 0, 0, 0x65, 0, 0, 0), ErrMalformed},
		"truncated":           {good[:len(good)-1], ErrMalformed},
		"oversize":            {make([]byte, MaxRequestSize+1), ErrMalformed},
		"key of another type": {edit(2+6+1+1, 2), ErrMalformed},
		"signature length 63": {edit(2+6+37+4, 63), ErrMalformed},
	}
	for name, c := range cases {
		if _, err := ParseRequest(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
}

func TestResponseGoldenAndRoundTrip(t *testing.T) {
	f := newFixture(t)
	notary := idOf(t, f.auths[0])
	c := f.counters(t, f.owner, "alice", ClaimTTL, 0)[0]
	resps := []*Response{
		{Status: StatusGrantedNew, Counter: c},
		{Status: StatusGrantedRenewed, Counter: c},
		{Status: StatusHeld, HeldUntil: f.now.Add(time.Hour)},
		{Status: StatusRefused, Reason: "bad signature"},
		{Status: StatusUnavailable, Reason: ""},
	}
	var all []byte
	for _, r := range resps {
		b, err := AppendResponse(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
		p, err := ParseResponse(b, notary)
		if err != nil {
			t.Fatalf("status %d: %v", r.Status, err)
		}
		wantAuth := peer.ID("")
		if r.Granted() {
			wantAuth = notary
		}
		if p.Status != r.Status || p.Reason != r.Reason || !p.HeldUntil.Equal(r.HeldUntil) ||
			p.Counter.Authority != wantAuth ||
			!bytes.Equal(p.Counter.Sig, r.Counter.Sig) || !p.Counter.ValidUntil.Equal(r.Counter.ValidUntil) {
			t.Fatalf("status %d: parsed %+v, want %+v", r.Status, p, r)
		}
	}
	golden(t, "responses_v1.hex", all)
	for _, bad := range [][]byte{
		{1, 9},
		{2, 1},
		{1, 3, 0, 0},
		{1, 4, 1, '\n'},
		{1, 4, 200},
		append([]byte{1, 3}, make([]byte, 9)...),
	} {
		if _, err := ParseResponse(bad, notary); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseResponse(%x) = %v, want ErrMalformed", bad, err)
		}
	}
}

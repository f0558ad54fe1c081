package friends

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// golden compares b with the hex in testdata/name, or rewrites it.
func golden(t *testing.T, name string, b []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := hex.DecodeString(strings.TrimSpace(string(h)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("%s changed:\n got %x\nwant %x", name, b, want)
	}
}

// goldenMessages are fixed messages: S (seed 2, "sam") asks R (seed 1,
// "rita"), who accepts; and a denial.
func goldenMessages(t testing.TB) (*FriendRequest, *FriendResponse, *FriendResponse, Token) {
	r, s := key(t, 1), key(t, 2)
	req, err := NewFriendRequest(s, "sam", "rita", addrOf(t, r), t0, nonceReader(0x5a))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := IssueToken(r, addrOf(t, s), t0.Add(time.Minute), 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := NewFriendResponse(r, addrOf(t, s), req.Nonce, &tok, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	deny, err := NewFriendResponse(r, addrOf(t, s), req.Nonce, nil, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return req, acc, deny, tok
}

func mustMarshal(t testing.TB, m interface{ Marshal() ([]byte, error) }) []byte {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGoldenVectors(t *testing.T) {
	req, acc, deny, tok := goldenMessages(t)
	rb, ab, db, tb := mustMarshal(t, req), mustMarshal(t, acc), mustMarshal(t, deny), mustMarshal(t, tok)
	golden(t, "request_v1.hex", rb)
	golden(t, "response_accept_v1.hex", ab)
	golden(t, "response_deny_v1.hex", db)
	golden(t, "token_v1.hex", tb)

	if req2, err := ParseFriendRequest(rb); err != nil || !reflect.DeepEqual(req2, req) {
		t.Fatalf("request: %+v, %v", req2, err)
	}
	if acc2, err := ParseFriendResponse(ab); err != nil || !reflect.DeepEqual(acc2, acc) {
		t.Fatalf("acceptance: %+v, %v", acc2, err)
	}
	if deny2, err := ParseFriendResponse(db); err != nil || !reflect.DeepEqual(deny2, deny) {
		t.Fatalf("denial: %+v, %v", deny2, err)
	}
	if tok2, err := ParseToken(tb); err != nil || !reflect.DeepEqual(tok2, tok) {
		t.Fatalf("token: %+v, %v", tok2, err)
	}
	if len(rb) > MaxRequestLen || len(ab) > MaxResponseLen || len(tb) != TokenLen {
		t.Fatalf("lengths %d %d %d", len(rb), len(ab), len(tb))
	}
}

// Every truncation, extension and version or kind change is rejected.
func TestParsersRejectDamage(t *testing.T) {
	req, acc, deny, tok := goldenMessages(t)
	parsers := map[string]struct {
		b     []byte
		parse func([]byte) error
	}{
		"request":    {mustMarshal(t, req), func(b []byte) error { _, err := ParseFriendRequest(b); return err }},
		"acceptance": {mustMarshal(t, acc), func(b []byte) error { _, err := ParseFriendResponse(b); return err }},
		"denial":     {mustMarshal(t, deny), func(b []byte) error { _, err := ParseFriendResponse(b); return err }},
		"token":      {mustMarshal(t, tok), func(b []byte) error { _, err := ParseToken(b); return err }},
	}
	for name, p := range parsers {
		for n := range len(p.b) {
			if err := p.parse(p.b[:n]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s cut to %d bytes: err = %v", name, n, err)
			}
		}
		if err := p.parse(append(bytes.Clone(p.b), 0)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s with a trailing byte: err = %v", name, err)
		}
		for _, i := range []int{0, 1} {
			b := bytes.Clone(p.b)
			b[i]++
			if err := p.parse(b); !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s with byte %d changed: err = %v", name, i, err)
			}
		}
	}
	// Field-level checks.
	edit := func(b []byte, i int, v byte) []byte { b = bytes.Clone(b); b[i] = v; return b }
	rb := mustMarshal(t, req)
	ab := mustMarshal(t, acc)
	for name, tc := range map[string]struct {
		b     []byte
		parse func([]byte) error
	}{
		"upper-case username": {edit(rb, 3, 'S'), func(b []byte) error { _, err := ParseFriendRequest(b); return err }},
		"key of length 35":    {edit(rb, 6, 35), func(b []byte) error { _, err := ParseFriendRequest(b); return err }},
		"key type byte":       {edit(rb, 8, 2), func(b []byte) error { _, err := ParseFriendRequest(b); return err }},
		"decision 3":          {edit(ab, 2, 3), func(b []byte) error { _, err := ParseFriendResponse(b); return err }},
		"denial with token":   {edit(ab, 2, 2), func(b []byte) error { _, err := ParseFriendResponse(b); return err }},
	} {
		if err := tc.parse(tc.b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseKeyRejectsOtherTypes(t *testing.T) {
	_, pub, err := crypto.GenerateSecp256k1Key(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := crypto.MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseKey(b); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("secp256k1: err = %v", err)
	}
	if _, err := IssueToken(nil, addrOf(t, key(t, 1)), t0, time.Hour); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("nil key: err = %v", err)
	}
}

func TestRequestVerify(t *testing.T) {
	req, _, _, _ := goldenMessages(t)
	rAddr, mAddr := addrOf(t, key(t, 1)), addrOf(t, key(t, 3))
	if err := req.Verify(rAddr, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if req.Addr() != addrOf(t, key(t, 2)) {
		t.Fatal("requester address")
	}
	if id, err := req.PeerID(); err != nil || !id.MatchesPrivateKey(key(t, 2)) {
		t.Fatalf("peer ID %s, %v", id, err)
	}
	forged := *req
	forged.Sig = bytes.Clone(req.Sig)
	forged.Sig[0] ^= 1
	renamed := *req
	renamed.From = "mallory" // a name change without re-signing
	otherKey := *req
	otherKey.FromKey = pubBytes(t, key(t, 3))
	for name, tc := range map[string]struct {
		req  *FriendRequest
		self [20]byte
		now  time.Time
		want error
	}{
		"forged":      {&forged, rAddr, t0, ErrBadSignature},
		"renamed":     {&renamed, rAddr, t0, ErrBadSignature},
		"other key":   {&otherKey, rAddr, t0, ErrBadSignature},
		"not for us":  {req, mAddr, t0, ErrWrongDestination},
		"stale":       {req, rAddr, t0.Add(MaxRequestAge + time.Second), ErrStale},
		"from future": {req, rAddr, t0.Add(-MaxClockSkew - time.Second), ErrStale},
	} {
		if err := tc.req.Verify(tc.self, tc.now); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

func TestReplayWindow(t *testing.T) {
	s := key(t, 2)
	rAddr := addrOf(t, key(t, 1))
	w := NewReplayWindow(2)
	mk := func(nonce byte, at time.Time) *FriendRequest {
		r, err := NewFriendRequest(s, "sam", "rita", rAddr, at, nonceReader(nonce))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := mk(1, t0), mk(2, t0), mk(3, t0)
	if err := w.Admit(a, t0); err != nil {
		t.Fatal(err)
	}
	wantErr(t, w.Admit(a, t0), ErrReplay)
	// The same nonce from another requester is a different request.
	other, err := NewFriendRequest(key(t, 3), "mo", "rita", rAddr, t0, nonceReader(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Admit(other, t0); err != nil {
		t.Fatal(err)
	}
	// Full of live nonces: fail closed.
	wantErr(t, w.Admit(b, t0), ErrBusy)
	// Once a and other are stale they can be forgotten, and their replay
	// is caught by Verify instead.
	later := t0.Add(MaxRequestAge + MaxClockSkew)
	if err := w.Admit(c, later); err != nil {
		t.Fatal(err)
	}
	wantErr(t, a.Verify(rAddr, later), ErrStale)
}

func TestResponseVerify(t *testing.T) {
	r, s, m := key(t, 1), key(t, 2), key(t, 3)
	rAddr, sAddr := addrOf(t, r), addrOf(t, s)
	req, acc, deny, _ := goldenMessages(t)
	now := t0.Add(2 * time.Minute)
	if err := acc.Verify(sAddr, rAddr, req.Nonce, now); err != nil {
		t.Fatal(err)
	}
	if err := deny.Verify(sAddr, rAddr, req.Nonce, now); err != nil {
		t.Fatal(err)
	}
	forged := *acc
	forged.Sig = bytes.Clone(acc.Sig)
	forged.Sig[5] ^= 1
	flipped := *deny
	flipped.Accepted, flipped.Token = true, acc.Token // a denial turned into an acceptance
	mTok, err := IssueToken(m, sAddr, t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	byMallory, err := NewFriendResponse(m, sAddr, req.Nonce, &mTok, t0)
	if err != nil {
		t.Fatal(err)
	}
	shortTok, err := IssueToken(r, sAddr, t0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	expiredTok, err := NewFriendResponse(r, sAddr, req.Nonce, &shortTok, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		resp  *FriendResponse
		nonce Nonce
		now   time.Time
		want  error
	}{
		"forged":            {&forged, req.Nonce, now, ErrBadSignature},
		"denial flipped":    {&flipped, req.Nonce, now, ErrBadSignature},
		"other request":     {acc, Nonce{1}, now, ErrWrongSource},
		"other responder":   {byMallory, req.Nonce, now, ErrKeyMismatch},
		"stale":             {acc, req.Nonce, t0.Add(time.Minute + MaxRequestAge + time.Second), ErrStale},
		"token run out":     {expiredTok, req.Nonce, t0.Add(time.Minute), ErrExpired},
		"not for requester": {acc, req.Nonce, now, ErrWrongSource},
	} {
		self := sAddr
		if name == "not for requester" {
			self = rAddr
		}
		if err := tc.resp.Verify(self, rAddr, tc.nonce, tc.now); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

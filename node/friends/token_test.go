package friends

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestTokenVerify(t *testing.T) {
	r, s, m := key(t, 1), key(t, 2), key(t, 3) // receiver, sender, mallory
	rAddr, sAddr, mAddr := addrOf(t, r), addrOf(t, s), addrOf(t, m)
	tok, err := IssueToken(r, sAddr, t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Verify(sAddr, rAddr, t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if tok.Issuer() != rAddr {
		t.Fatal("issuer address")
	}

	forged := tok
	forged.Sig = bytes.Clone(tok.Sig)
	forged.Sig[10] ^= 1
	longer := tok
	longer.ExpiresAt = tok.ExpiresAt.Add(time.Hour) // re-dated without re-signing
	stolen := tok
	stolen.Holder = mAddr // the holder swapped without re-signing
	byMallory, err := IssueToken(m, sAddr, t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	swappedKey := byMallory
	swappedKey.IssuerKey = tok.IssuerKey // R's key with Mallory's signature
	for name, tc := range map[string]struct {
		tok      Token
		src, dst [20]byte
		now      time.Time
		want     error
	}{
		"forged signature":     {forged, sAddr, rAddr, t0, ErrBadSignature},
		"extended expiry":      {longer, sAddr, rAddr, t0, ErrBadSignature},
		"swapped holder":       {stolen, mAddr, rAddr, t0, ErrBadSignature},
		"swapped issuer key":   {swappedKey, sAddr, rAddr, t0, ErrBadSignature},
		"wrong source":         {tok, mAddr, rAddr, t0, ErrWrongSource},
		"wrong destination":    {tok, sAddr, mAddr, t0, ErrWrongDestination},
		"key is not dst's":     {byMallory, sAddr, rAddr, t0, ErrWrongDestination},
		"expired":              {tok, sAddr, rAddr, t0.Add(time.Hour), ErrExpired},
		"not yet valid":        {tok, sAddr, rAddr, t0.Add(-MaxClockSkew - time.Second), ErrNotYetValid},
		"no signature":         {Token{IssuerKey: tok.IssuerKey, Holder: sAddr, IssuedAt: t0, ExpiresAt: tok.ExpiresAt}, sAddr, rAddr, t0, ErrMalformed},
		"lifetime too long":    {Token{IssuerKey: tok.IssuerKey, Holder: sAddr, IssuedAt: t0, ExpiresAt: t0.Add(MaxTokenLifetime + time.Second), Sig: tok.Sig}, sAddr, rAddr, t0, ErrMalformed},
		"expires before issue": {Token{IssuerKey: tok.IssuerKey, Holder: sAddr, IssuedAt: t0, ExpiresAt: t0, Sig: tok.Sig}, sAddr, rAddr, t0, ErrMalformed},
	} {
		if err := tc.tok.Verify(tc.src, tc.dst, tc.now); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	// Within the allowed skew a token issued "in the future" is fine.
	if err := tok.Verify(sAddr, rAddr, t0.Add(-MaxClockSkew)); err != nil {
		t.Fatal(err)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	tok, err := IssueToken(key(t, 1), addrOf(t, key(t, 2)), t0.Add(500*time.Millisecond), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.IssuedAt.Equal(t0) {
		t.Fatalf("issued-at %v not truncated to seconds", tok.IssuedAt)
	}
	b, err := tok.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != TokenLen {
		t.Fatalf("%d bytes, want %d", len(b), TokenLen)
	}
	back, err := ParseToken(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(addrOf(t, key(t, 2)), addrOf(t, key(t, 1)), t0); err != nil {
		t.Fatal(err)
	}
	txt, err := tok.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var fromText Token
	if err := fromText.UnmarshalText(txt); err != nil {
		t.Fatal(err)
	}
	if b2, _ := fromText.Marshal(); !bytes.Equal(b2, b) {
		t.Fatal("text round trip changed the token")
	}
	if _, err := IssueToken(key(t, 1), addrOf(t, key(t, 2)), t0, 0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("zero lifetime: %v", err)
	}
}

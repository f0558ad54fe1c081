package consent

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/vmdt/vmdt/node/friends"
	"github.com/vmdt/vmdt/protocol"
)

func TestFrameRoundTripAndLimits(t *testing.T) {
	msg := bytes.Repeat([]byte{7}, MaxMessageLen)
	b, err := AppendFrame(nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	if want := "0122"; hex.EncodeToString(b[:2]) != want {
		t.Fatalf("length prefix %x, want %s (290)", b[:2], want)
	}
	got, err := ReadFrame(bytes.NewReader(b))
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("round trip: %v", err)
	}
	for _, n := range []int{0, MaxMessageLen + 1} {
		if _, err := AppendFrame(nil, make([]byte, n)); !errors.Is(err, friends.ErrMalformed) {
			t.Errorf("AppendFrame of %d bytes: %v, want ErrMalformed", n, err)
		}
	}
	for _, in := range []string{"0000", "0123", "ffff"} {
		raw, _ := hex.DecodeString(in)
		if _, err := ReadFrame(bytes.NewReader(raw)); !errors.Is(err, friends.ErrMalformed) {
			t.Errorf("ReadFrame %s: %v, want ErrMalformed", in, err)
		}
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 5, 1, 2})); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short frame: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestAckEncoding(t *testing.T) {
	// Golden: a refusal with a reason, no token.
	b, err := Ack{Code: CodeReplay, Reason: "again"}.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(b), "010405"+hex.EncodeToString([]byte("again"))+"00"; got != want {
		t.Fatalf("ack %s, want %s", got, want)
	}
	// An OK ack with a token round-trips.
	priv := testKey(t)
	tok, err := friends.IssueToken(priv, protocol.DDTAddr{1}, time.Unix(1700000000, 0), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := tok.Marshal()
	b, err = Ack{Code: CodeOK, Token: tb}.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ReadAck(bytes.NewReader(b))
	if err != nil || a.Code != CodeOK || !bytes.Equal(a.Token, tb) || a.Reason != "" {
		t.Fatalf("read back %+v, %v", a, err)
	}
	// A long reason with control characters is cut and cleaned.
	b, err = Ack{Code: CodeBusy, Reason: "line\nbreak" + strings.Repeat("é", 200)}.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err = ReadAck(bytes.NewReader(b))
	if err != nil || len(a.Reason) > MaxReasonLen || strings.ContainsAny(a.Reason, "\n") || !strings.HasPrefix(a.Reason, "line break") {
		t.Fatalf("long reason read back as %q (%d bytes), %v", a.Reason, len(a.Reason), err)
	}
	// Tokens only in OK acks, and only of the right length.
	if _, err := (Ack{Code: CodeBusy, Token: tb}).Append(nil); !errors.Is(err, friends.ErrMalformed) {
		t.Errorf("refusal with a token: %v", err)
	}
	for _, in := range []string{
		"020000" + "00",      // version 2
		"0100c9",             // reason of 201 bytes
		"010800" + "8c" + "", // token on a refusal
		"010000" + "05" + "0102030405",
	} {
		raw, _ := hex.DecodeString(in)
		if _, err := ReadAck(bytes.NewReader(raw)); !errors.Is(err, friends.ErrMalformed) {
			t.Errorf("ReadAck %s: %v, want ErrMalformed", in, err)
		}
	}
}

func TestRefusedErrorMatchesSentinels(t *testing.T) {
	for code, want := range codeErrs {
		err := error(&RefusedError{Code: code, Reason: "x"})
		if !errors.Is(err, want) || !errors.Is(err, ErrRefused) {
			t.Errorf("code %d does not match %v", code, want)
		}
		if codeOf(want) != code && want != friends.ErrWrongDestination && want != friends.ErrMalformed {
			t.Errorf("codeOf(%v) = %d, want %d", want, codeOf(want), code)
		}
	}
	if !retriable(&RefusedError{Code: CodeBusy}) || retriable(&RefusedError{Code: CodeDenied}) || !retriable(ErrUnreachable) {
		t.Error("retriable classifies busy, denied or unreachable wrongly")
	}
}

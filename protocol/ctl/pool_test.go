package ctl

import (
	"strings"
	"testing"

	"github.com/vmdt/vmdt/protocol"
)

func sharePoolSeeds() []string {
	return []string{
		"SHARE_POOL_CLAIM|*|" + addrB,
		"SHARE_POOL_CLAIM|" + msgHex + "|" + addrB,
		"SHARE_POOL_CLAIM|" + strings.ToUpper(msgHex) + "|" + addrB,
		"SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|" + peerOne + "|6|6|3|1048576|aGk",
		"SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|" + peerOne + "|6|6|3|0|aGk",
		"POOL_FETCH|" + addrB,
		"OK|pool",
		"OK|2",
		"HELD|" + msgHex + "|" + addrA + "|2|6|3|1048576",
		"HELD|" + msgHex + "|" + addrA + "|7|6|3|10",
		"HELD|" + msgHex + "|" + addrA + "|1|6|3|0",
		"OK|65",
	}
}

func TestSharePoolGolden(t *testing.T) {
	a, b := mustAddr(t, addrA), mustAddr(t, addrB)
	mid, err := protocol.ParseMessageID(msgHex)
	if err != nil {
		t.Fatal(err)
	}
	line, err := AppendCommand(nil, &SharePoolClaim{Any: true, ClientID: b})
	if err != nil || string(line) != "SHARE_POOL_CLAIM|*|"+addrB+"\n" {
		t.Fatalf("SHARE_POOL_CLAIM line %q, %v", line, err)
	}
	cmd, err := ParseCommand(strings.TrimSuffix(string(line), "\n"))
	if pc, ok := cmd.(*SharePoolClaim); err != nil || !ok || pc.ClientID != b || !pc.Any {
		t.Fatalf("parse SHARE_POOL_CLAIM: %#v, %v", cmd, err)
	}
	// POOL_FETCH is gone: SHARE_POOL_CLAIM replaced it.
	if _, err := ParseCommand("POOL_FETCH|" + addrB); CodeOf(err) != CodeMalformed {
		t.Fatalf("POOL_FETCH: %v, want unknown command", err)
	}
	// SHARE_POOL_ADD and RELAY_OPEN carry the same fields, msg_id and
	// client_id swapped.
	add := &SharePoolAdd{ClientID: a, MessageID: mid, Dst: b, DstPeer: mustPeer(t, peerOne), Index: 6, N: 6, K: 3,
		ShareLen: 1 << 20, Token: []byte("hi")}
	line, err = AppendCommand(nil, add)
	wantAdd := "SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|" + peerOne + "|6|6|3|1048576|aGk\n"
	if err != nil || string(line) != wantAdd {
		t.Fatalf("SHARE_POOL_ADD line %q, %v; want %q", line, err, wantAdd)
	}
	ro := RelayOpen(*add)
	rline, _ := AppendCommand(nil, &ro)
	if string(rline) != "RELAY_OPEN|"+addrA+"|"+msgHex+"|"+addrB+"|"+peerOne+"|6|6|3|1048576|aGk\n" {
		t.Fatalf("RELAY_OPEN of the same share: %q", rline)
	}
	for _, bad := range []string{
		"SHARE_POOL_ADD|" + addrA + "|" + msgHex + "|" + addrB + "|" + peerOne + "|6|6|3|1048576|aGk", // RELAY_OPEN order
		"SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|" + peerOne + "|7|6|3|1048576|aGk",
		"SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|" + peerOne + "|6|6|3|0|aGk",
		"SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|" + peerOne + "|6|6|3|4294967296|aGk",
		"SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|" + peerOne + "|6|6|3|1048576|aGk=",
		"SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|" + peerOne + "|6|6|3|1048576",
		"SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|6|6|3|1048576|aGk", // no peer id
		"SHARE_POOL_CLAIM|**|" + addrB,
		"SHARE_POOL_CLAIM|*",
	} {
		if _, err := ParseCommand(bad); CodeOf(err) != CodeMalformed {
			t.Errorf("%q: %v, want malformed", bad, err)
		}
	}

	held := []HeldShare{{MessageID: mid, Src: a, Index: 2, N: 6, K: 3, ShareLen: 1 << 20},
		{MessageID: mid, Src: a, Index: 6, N: 6, K: 3, ShareLen: 4294967295}}
	out, err := AppendClaimReply(nil, held)
	if err != nil {
		t.Fatal(err)
	}
	want := "OK|2\nHELD|" + msgHex + "|" + addrA + "|2|6|3|1048576\nHELD|" + msgHex + "|" + addrA + "|6|6|3|4294967295\n"
	if string(out) != want {
		t.Fatalf("reply\n%q\nwant\n%q", out, want)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if n, err := ParseClaimCount(lines[0]); err != nil || n != 2 {
		t.Fatalf("count %d, %v", n, err)
	}
	for i, l := range lines[1:] {
		h, err := ParseHeldLine(l)
		if err != nil || h != held[i] {
			t.Fatalf("held line %d: %+v, %v", i, h, err)
		}
	}

	if _, err := AppendClaimReply(nil, make([]HeldShare, MaxHeldShares+1)); CodeOf(err) != CodeMalformed {
		t.Fatalf("too many held shares: %v", err)
	}
	if _, err := AppendClaimReply(nil, []HeldShare{{MessageID: mid, Src: a, Index: 7, N: 6, K: 3, ShareLen: 1}}); CodeOf(err) != CodeMalformed {
		t.Fatalf("index beyond n: %v", err)
	}
	for _, bad := range sharePoolSeeds()[4:6] {
		if _, err := ParseHeldLine(bad); CodeOf(err) != CodeMalformed {
			t.Errorf("%q: %v, want malformed", bad, err)
		}
	}
	if _, err := ParseClaimCount("OK|65"); CodeOf(err) != CodeMalformed {
		t.Errorf("count above the cap: %v", err)
	}
	if _, err := ParseClaimCount("ERR|413|full"); CodeOf(err) != CodeTooLarge {
		t.Errorf("ERR reply: %v", err)
	}
}

func TestRelayReplyMode(t *testing.T) {
	for _, mode := range []string{RelayModeForward, RelayModePool} {
		line := AppendRelayReplyMode(nil, mode)
		got, err := ParseRelayReplyMode(strings.TrimSuffix(string(line), "\n"))
		if err != nil || got != mode {
			t.Fatalf("mode %q: got %q, %v", mode, got, err)
		}
	}
	if _, err := ParseRelayReplyMode("OK|later"); CodeOf(err) != CodeMalformed {
		t.Fatalf("unknown mode: %v", err)
	}
	if _, err := ParseRelayReplyMode("ERR|413|pool full"); CodeOf(err) != CodeTooLarge {
		t.Fatalf("ERR reply: %v", err)
	}
}

// FuzzSharePool runs the store-and-forward parsers over the input; none
// may panic, and what they accept must format back to the same line.
func FuzzSharePool(f *testing.F) {
	for _, l := range sharePoolSeeds() {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if cmd, err := ParseCommand(line); err == nil {
			if out, err := AppendCommand(nil, cmd); err != nil || string(out) != line+"\n" {
				t.Fatalf("command %q formats as %q, %v", line, out, err)
			}
		}
		if h, err := ParseHeldLine(line); err == nil {
			out, err := AppendClaimReply(nil, []HeldShare{h})
			if err != nil || !strings.HasSuffix(string(out), "\n"+line+"\n") {
				t.Fatalf("held %q formats as %q, %v", line, out, err)
			}
		}
		if n, err := ParseClaimCount(line); err == nil && (n < 0 || n > MaxHeldShares) {
			t.Fatalf("count %d", n)
		}
		if m, err := ParseRelayReplyMode(line); err == nil && string(AppendRelayReplyMode(nil, m)) != line+"\n" {
			t.Fatalf("mode %q from %q", m, line)
		}
	})
}

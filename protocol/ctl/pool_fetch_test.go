package ctl

import (
	"strings"
	"testing"

	"github.com/vmdt/vmdt/protocol"
)

func poolFetchSeeds() []string {
	return []string{
		"POOL_FETCH|" + addrB,
		"OK|pool",
		"OK|2",
		"HELD|" + msgHex + "|" + addrA + "|2|6|3|1048576",
		"HELD|" + msgHex + "|" + addrA + "|7|6|3|10",
		"HELD|" + msgHex + "|" + addrA + "|1|6|3|0",
		"OK|65",
	}
}

func TestPoolFetchGolden(t *testing.T) {
	a, b := mustAddr(t, addrA), mustAddr(t, addrB)
	mid, err := protocol.ParseMessageID(msgHex)
	if err != nil {
		t.Fatal(err)
	}
	line, err := AppendCommand(nil, &PoolFetch{ClientID: b})
	if err != nil || string(line) != "POOL_FETCH|"+addrB+"\n" {
		t.Fatalf("POOL_FETCH line %q, %v", line, err)
	}
	cmd, err := ParseCommand(strings.TrimSuffix(string(line), "\n"))
	if pf, ok := cmd.(*PoolFetch); err != nil || !ok || pf.ClientID != b {
		t.Fatalf("parse POOL_FETCH: %#v, %v", cmd, err)
	}

	held := []HeldShare{{MessageID: mid, Src: a, Index: 2, N: 6, K: 3, ShareLen: 1 << 20},
		{MessageID: mid, Src: a, Index: 6, N: 6, K: 3, ShareLen: 4294967295}}
	out, err := AppendPoolFetchReply(nil, held)
	if err != nil {
		t.Fatal(err)
	}
	want := "OK|2\nHELD|" + msgHex + "|" + addrA + "|2|6|3|1048576\nHELD|" + msgHex + "|" + addrA + "|6|6|3|4294967295\n"
	if string(out) != want {
		t.Fatalf("reply\n%q\nwant\n%q", out, want)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if n, err := ParsePoolFetchCount(lines[0]); err != nil || n != 2 {
		t.Fatalf("count %d, %v", n, err)
	}
	for i, l := range lines[1:] {
		h, err := ParseHeldLine(l)
		if err != nil || h != held[i] {
			t.Fatalf("held line %d: %+v, %v", i, h, err)
		}
	}

	if _, err := AppendPoolFetchReply(nil, make([]HeldShare, MaxHeldShares+1)); CodeOf(err) != CodeMalformed {
		t.Fatalf("too many held shares: %v", err)
	}
	if _, err := AppendPoolFetchReply(nil, []HeldShare{{MessageID: mid, Src: a, Index: 7, N: 6, K: 3, ShareLen: 1}}); CodeOf(err) != CodeMalformed {
		t.Fatalf("index beyond n: %v", err)
	}
	for _, bad := range poolFetchSeeds()[4:6] {
		if _, err := ParseHeldLine(bad); CodeOf(err) != CodeMalformed {
			t.Errorf("%q: %v, want malformed", bad, err)
		}
	}
	if _, err := ParsePoolFetchCount("OK|65"); CodeOf(err) != CodeMalformed {
		t.Errorf("count above the cap: %v", err)
	}
	if _, err := ParsePoolFetchCount("ERR|413|full"); CodeOf(err) != CodeTooLarge {
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

// FuzzPoolFetch runs the store-and-forward parsers over the input; none
// may panic, and what they accept must format back to the same line.
func FuzzPoolFetch(f *testing.F) {
	for _, l := range poolFetchSeeds() {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if cmd, err := ParseCommand(line); err == nil {
			if out, err := AppendCommand(nil, cmd); err != nil || string(out) != line+"\n" {
				t.Fatalf("command %q formats as %q, %v", line, out, err)
			}
		}
		if h, err := ParseHeldLine(line); err == nil {
			out, err := AppendPoolFetchReply(nil, []HeldShare{h})
			if err != nil || !strings.HasSuffix(string(out), "\n"+line+"\n") {
				t.Fatalf("held %q formats as %q, %v", line, out, err)
			}
		}
		if n, err := ParsePoolFetchCount(line); err == nil && (n < 0 || n > MaxHeldShares) {
			t.Fatalf("count %d", n)
		}
		if m, err := ParseRelayReplyMode(line); err == nil && string(AppendRelayReplyMode(nil, m)) != line+"\n" {
			t.Fatalf("mode %q from %q", m, line)
		}
	})
}

package ctl

import (
	"reflect"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol"
)

func deliverySeeds() []string {
	return []string{
		"RELAY_OPEN|" + addrA + "|" + msgHex + "|" + addrB + "|" + peerOne + "|2|6|3|1024|AAEC",
		"DELIVERED|" + addrB + "|" + msgHex + "|1,2,5",
		"DELIVERED|" + addrB + "|" + msgHex + "|255",
		"OK|forward",
		"DELIVERED|" + addrB + "|" + msgHex + "|2,1",
		"RELAY_OPEN|" + addrA + "|" + msgHex + "|" + addrB + "|" + peerOne + "|7|6|3|1024|AAEC",
	}
}

func TestDeliveryCommandGolden(t *testing.T) {
	a, b := mustAddr(t, addrA), mustAddr(t, addrB)
	mid, err := protocol.ParseMessageID(msgHex)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := peer.Decode(peerOne)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		cmd  Command
		line string
	}{
		{&RelayOpen{ClientID: a, MessageID: mid, Dst: b, DstPeer: p1, Index: 2, N: 6, K: 3, ShareLen: 4294967295, Token: []byte{0xfb, 0xff, 0x01}},
			"RELAY_OPEN|" + addrA + "|" + msgHex + "|" + addrB + "|" + peerOne + "|2|6|3|4294967295|-_8B"},
		{&Delivered{ClientID: b, MessageID: mid, Used: []int{1, 3, 255}}, "DELIVERED|" + addrB + "|" + msgHex + "|1,3,255"},
		{&Delivered{ClientID: b, MessageID: mid, Used: []int{4}}, "DELIVERED|" + addrB + "|" + msgHex + "|4"},
	}
	for _, c := range cases {
		got, err := AppendCommand(nil, c.cmd)
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		if string(got) != c.line+"\n" {
			t.Errorf("format:\n got %q\nwant %q", got, c.line+"\n")
		}
		parsed, err := ParseCommand(c.line)
		if err != nil {
			t.Fatalf("parse %q: %v", c.line, err)
		}
		if !reflect.DeepEqual(parsed, c.cmd) {
			t.Errorf("parse %q = %#v, want %#v", c.line, parsed, c.cmd)
		}
		if parsed.Client() != c.cmd.Client() {
			t.Errorf("%s: client %s", c.line, parsed.Client())
		}
	}
}

func TestDeliveryCommandRejects(t *testing.T) {
	ro := "RELAY_OPEN|" + addrA + "|" + msgHex + "|" + addrB + "|" + peerOne + "|"
	dl := "DELIVERED|" + addrB + "|" + msgHex + "|"
	bad := []string{
		ro + "0|6|3|1024|AAEC",                        // index 0
		ro + "7|6|3|1024|AAEC",                        // index > n
		ro + "2|6|3|0|AAEC",                           // empty share
		ro + "2|6|3|4294967296|AAEC",                  // share too long
		ro + "2|6|3|1024|" + strings.Repeat("A", 700), // token too long
		ro + "2|6|3|1024|AAE=",                        // padded
		ro + "2|6|3|1024",                             // missing token
		"RELAY_OPEN|" + addrA + "|" + msgHex + "|" + addrB + "|notapeer|2|6|3|1024|AAEC",
		dl + "",
		dl + "0",
		dl + "256",
		dl + "2,2",
		dl + "3,1",
		dl + "1,",
		dl + "01",
		dl + "1|2",
	}
	for _, l := range bad {
		if c, err := ParseCommand(l); err == nil {
			t.Errorf("accepted %q as %#v", l, c)
		} else if code := CodeOf(err); code != CodeMalformed && code != CodeTooLarge {
			t.Errorf("%q: code %d", l, code)
		}
	}
	if _, err := AppendCommand(nil, &Delivered{ClientID: mustAddr(t, addrB), Used: []int{2, 1}}); CodeOf(err) != CodeMalformed {
		t.Errorf("formatted an unordered shares-used list: %v", err)
	}
	if _, err := AppendCommand(nil, &RelayOpen{ClientID: mustAddr(t, addrA), N: 6, K: 3, Index: 1, ShareLen: 1}); CodeOf(err) != CodeMalformed {
		t.Errorf("formatted a RELAY_OPEN without token and peer: %v", err)
	}
}

func TestRelayReply(t *testing.T) {
	if got := string(AppendRelayReply(nil)); got != "OK|forward\n" {
		t.Fatalf("reply %q", got)
	}
	if err := ParseRelayReply("OK|forward"); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"OK", "OK|pool", "OK|forward|x"} {
		if err := ParseRelayReply(l); err == nil {
			t.Errorf("accepted %q", l)
		}
	}
	err := ParseRelayReply("ERR|403|token refused")
	if CodeOf(err) != CodeForbidden {
		t.Errorf("ERR reply: %v", err)
	}
}

// FuzzParseDeliveryCommand checks that the delivery commands parse without
// panics and that every accepted line is canonical.
func FuzzParseDeliveryCommand(f *testing.F) {
	for _, l := range deliverySeeds() {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		_ = ParseRelayReply(line)
		cmd, err := ParseCommand(line)
		if err != nil {
			return
		}
		out, err := AppendCommand(nil, cmd)
		if err != nil {
			t.Fatalf("accepted %q but cannot format it: %v", line, err)
		}
		if string(out) != line+"\n" {
			t.Fatalf("not canonical:\n in %q\nout %q", line, out)
		}
	})
}

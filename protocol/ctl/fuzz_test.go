package ctl

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol"
)

// seedLines are valid lines of every kind, plus a few near misses.
func seedLines() []string {
	key := strings.Repeat("0f", 32)
	return []string{
		"CREATE_CLUSTER|" + addrA + "|5|3",
		"JOIN_CLUSTER|" + addrA + "|" + cidHex,
		"LEAVE_CLUSTER|" + addrA + "|" + cidHex,
		"GET_CLIENT_INFO|" + addrA + "|" + addrB,
		"REGISTER_P2P_PORT|" + addrA + "|4000",
		"SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|" + peerOne + "|1|2|2|4096|aGk",
		"SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|" + peerOne + "|3|2|2|4096|aGk",
		"RELAY_OPEN|" + addrA + "|" + msgHex + "|" + addrB + "|" + peerOne + "|1|2|2|4096|aGk",
		"SHARE_POOL_CLAIM|*|" + addrB,
		"SHARE_POOL_CLAIM|" + msgHex + "|" + addrB,
		"OK",
		"OK|4000|7|" + key,
		"OK|" + addrA + "|" + peerOne + "|127.0.0.1|4000",
		"OK|" + addrA + "|" + peerOne + "|-|0",
		"OK|" + cidHex + "|5|3|" + peerOne + "|AAEC|2",
		"MEMBER|" + peerTwo,
		"OK|3",
		"HELD|" + msgHex + "|" + addrA + "|2|2|2|5000",
		"OK|64",
		"ERR|404|unknown client",
		"REGISTER_P2P_PORT|" + addrA + "|04000",
		"CREATE_CLUSTER|" + addrA + "|3|4\r",
	}
}

// FuzzParseCommand checks that ParseCommand never panics and that every
// line it accepts is in canonical form: formatting the result gives back
// the same bytes.
func FuzzParseCommand(f *testing.F) {
	for _, l := range seedLines() {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmd, err := ParseCommand(line)
		if err != nil {
			if cmd != nil {
				t.Fatal("command with error")
			}
			if c := CodeOf(err); c != CodeMalformed && c != CodeTooLarge {
				t.Fatalf("code %d", c)
			}
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

// FuzzParseReply runs every reply and item parser over the input; each
// must not panic, and each acceptance must format back to the same line.
func FuzzParseReply(f *testing.F) {
	for _, l := range seedLines() {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		want := line + "\n"
		check := func(name string, out []byte, err error) {
			if err != nil {
				t.Fatalf("%s accepted %q but cannot format it: %v", name, line, err)
			}
			if string(out) != want {
				t.Fatalf("%s not canonical:\n in %q\nout %q", name, line, out)
			}
		}
		if r, err := ParsePortReply(line); err == nil {
			out, err := r.Append(nil)
			check("port", out, err)
		}
		if r, err := ParseClientInfoReply(line); err == nil {
			out, err := r.Append(nil)
			check("client info", out, err)
		}
		if r, err := ParseClusterReply(line); err == nil {
			out, err := r.Append(nil)
			check("cluster", out, err)
		}
		if p, err := ParseMemberLine(line); err == nil {
			check("member", AppendMemberLine(nil, p), nil)
		}
		if err := ParseOK(line); err == nil {
			check("ok", AppendOK(nil), nil)
		}
		if e, err := ParseError(line); err == nil {
			check("error", AppendError(nil, &Error{Code: e.Code, Reason: e.Reason}), nil)
		}
	})
}

// FuzzCommandRoundTrip builds commands from arbitrary field values, keeps
// those within bounds, and checks parse(format(x)) == x.
func FuzzCommandRoundTrip(f *testing.F) {
	f.Add(uint8(0), []byte(addrA), []byte(addrB), uint16(4000), uint8(5), uint8(3), uint8(1), []byte("token"), false)
	f.Add(uint8(5), []byte("x"), []byte("y"), uint16(1), uint8(255), uint8(2), uint8(255), make([]byte, MaxTokenLen), true)
	f.Add(uint8(5), []byte("x"), []byte("y"), uint16(0), uint8(3), uint8(2), uint8(1), []byte{}, true)
	p1, err := peer.Decode(peerOne)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, kind uint8, x, y []byte, port uint16, n, k, idx uint8, data []byte, any bool) {
		var a, b protocol.DDTAddr
		copy(a[:], x)
		copy(b[:], y)
		var cid ClusterID
		copy(cid[:], y)
		var mid protocol.MessageID
		copy(mid[:], x)
		var cmd Command
		switch kind % 7 {
		case 0:
			cmd = &CreateCluster{ClientID: a, N: int(n), K: int(k)}
		case 1:
			cmd = &JoinCluster{ClientID: a, Cluster: cid}
		case 2:
			cmd = &LeaveCluster{ClientID: a, Cluster: cid}
		case 3:
			cmd = &GetClientInfo{ClientID: a, Target: b}
		case 4:
			cmd = &RegisterP2PPort{ClientID: a, Port: port}
		case 5:
			cmd = &SharePoolAdd{MessageID: mid, ClientID: a, Dst: b, DstPeer: p1, Index: int(idx), N: int(n), K: int(k),
				ShareLen: uint32(port) * 1000, Token: bytes.Clone(data)}
		case 6:
			c := &SharePoolClaim{ClientID: b, Any: any}
			if !any {
				c.MessageID = mid
			}
			cmd = c
		}
		line, err := AppendCommand(nil, cmd)
		if err != nil {
			if cmd.valid() {
				t.Fatalf("valid %#v not formatted: %v", cmd, err)
			}
			return
		}
		got, err := ParseCommand(strings.TrimSuffix(string(line), "\n"))
		if err != nil {
			t.Fatalf("%q does not parse: %v", line, err)
		}
		if !reflect.DeepEqual(got, cmd) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, cmd)
		}
	})
}

// FuzzClientInfoRoundTrip covers the IP field, the one with the most
// spellings.
func FuzzClientInfoRoundTrip(f *testing.F) {
	f.Add([]byte{127, 0, 0, 1}, uint16(4000))
	f.Add([]byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, uint16(0))
	f.Add([]byte{}, uint16(9))
	p, err := peer.Decode(peerOne)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ipb []byte, port uint16) {
		ip, _ := netip.AddrFromSlice(ipb)
		r := ClientInfoReply{PeerID: p, IP: ip, Port: port}
		line, err := r.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseClientInfoReply(strings.TrimSuffix(string(line), "\n"))
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if got != r {
			t.Fatalf("round trip %#v != %#v", got, r)
		}
	})
}

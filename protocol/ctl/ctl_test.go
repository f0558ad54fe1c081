package ctl

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol"
)

const (
	addrA   = "00112233445566778899aabbccddeeff00112233"
	addrB   = "ffeeddccbbaa99887766554433221100ffeeddcc"
	cidHex  = "0123456789abcdef0123456789abcdef"
	msgHex  = "0102030405060708"
	peerOne = "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5"
	peerTwo = "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq"
)

func mustAddr(t testing.TB, s string) protocol.DDTAddr {
	t.Helper()
	a, err := protocol.ParseDDTAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustPeer(t testing.TB, s string) peer.ID {
	t.Helper()
	p, err := peer.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCommandGolden(t *testing.T) {
	a, b := mustAddr(t, addrA), mustAddr(t, addrB)
	cid, err := ParseClusterID(cidHex)
	if err != nil {
		t.Fatal(err)
	}
	mid, err := protocol.ParseMessageID(msgHex)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		cmd  Command
		line string
	}{
		{&CreateCluster{ClientID: a, N: 255, K: 2}, "CREATE_CLUSTER|" + addrA + "|255|2"},
		{&JoinCluster{ClientID: a, Cluster: cid}, "JOIN_CLUSTER|" + addrA + "|" + cidHex},
		{&LeaveCluster{ClientID: b, Cluster: cid}, "LEAVE_CLUSTER|" + addrB + "|" + cidHex},
		{&GetClientInfo{ClientID: a, Target: b}, "GET_CLIENT_INFO|" + addrA + "|" + addrB},
		{&RegisterP2PPort{ClientID: a, Port: 65535}, "REGISTER_P2P_PORT|" + addrA + "|65535"},
		{&SharePoolAdd{MessageID: mid, ClientID: a, Dst: b, DstPeer: mustPeer(t, peerOne), Index: 3, N: 5, K: 3, ShareLen: 70000, Token: []byte{0xfb, 0xff, 0x01}},
			"SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|" + peerOne + "|3|5|3|70000|-_8B"},
		{&SharePoolClaim{MessageID: mid, ClientID: b}, "SHARE_POOL_CLAIM|" + msgHex + "|" + addrB},
		{&SharePoolClaim{Any: true, ClientID: b}, "SHARE_POOL_CLAIM|*|" + addrB},
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

func TestParseCommandRejects(t *testing.T) {
	share := "SHARE_POOL_ADD|" + msgHex + "|" + addrA + "|" + addrB + "|" + peerOne + "|"
	cases := []struct {
		name string
		line string
		code Code
	}{
		{"empty", "", CodeMalformed},
		{"unknown verb", "HELLO|" + addrA, CodeMalformed},
		{"lower-case verb", "join_cluster|" + addrA + "|" + cidHex, CodeMalformed},
		{"verb alone", "JOIN_CLUSTER", CodeMalformed},
		{"too few fields", "CREATE_CLUSTER|" + addrA + "|3", CodeMalformed},
		{"too many fields", "CREATE_CLUSTER|" + addrA + "|3|2|", CodeMalformed},
		{"empty field", "CREATE_CLUSTER|" + addrA + "||2", CodeMalformed},
		{"carriage return", "REGISTER_P2P_PORT|" + addrA + "|4000\r", CodeMalformed},
		{"newline inside", "REGISTER_P2P_PORT|" + addrA + "|4000\n", CodeMalformed},
		{"tab", "REGISTER_P2P_PORT|" + addrA + "|\t4000", CodeMalformed},
		{"non-ascii", "REGISTER_P2P_PORT|" + addrA + "|4000\xc3\xa9", CodeMalformed},
		{"upper-case client", "REGISTER_P2P_PORT|" + strings.ToUpper(addrA) + "|4000", CodeMalformed},
		{"short client", "REGISTER_P2P_PORT|" + addrA[:38] + "|4000", CodeMalformed},
		{"port zero", "REGISTER_P2P_PORT|" + addrA + "|0", CodeMalformed},
		{"port overflow", "REGISTER_P2P_PORT|" + addrA + "|65536", CodeMalformed},
		{"port huge", "REGISTER_P2P_PORT|" + addrA + "|99999999999999999999", CodeMalformed},
		{"port sign", "REGISTER_P2P_PORT|" + addrA + "|+4000", CodeMalformed},
		{"port leading zero", "REGISTER_P2P_PORT|" + addrA + "|04000", CodeMalformed},
		{"port spaces", "REGISTER_P2P_PORT|" + addrA + "| 4000", CodeMalformed},
		{"k above n", "CREATE_CLUSTER|" + addrA + "|3|4", CodeMalformed},
		{"k one", "CREATE_CLUSTER|" + addrA + "|3|1", CodeMalformed},
		{"n too big", "CREATE_CLUSTER|" + addrA + "|256|2", CodeMalformed},
		{"zero cluster", "JOIN_CLUSTER|" + addrA + "|" + strings.Repeat("0", 32), CodeMalformed},
		{"upper cluster", "JOIN_CLUSTER|" + addrA + "|" + strings.ToUpper(cidHex), CodeMalformed},
		{"index zero", share + "0|5|3|9|AA", CodeMalformed},
		{"index above n", share + "6|5|3|9|AA", CodeMalformed},
		{"padded share", share + "1|5|3|9|AA==", CodeMalformed},
		{"std base64", share + "1|5|3|9|+/8", CodeMalformed},
		{"non-canonical base64", share + "1|5|3|9|AB", CodeMalformed},
		{"token too big", share + "1|5|3|9|" + strings.Repeat("A", 684), CodeTooLarge},
		{"share length zero", share + "1|5|3|0|AA", CodeMalformed},
		{"claim bad id", "SHARE_POOL_CLAIM|**|" + addrA, CodeMalformed},
		{"claim upper id", "SHARE_POOL_CLAIM|0102030405060A08|" + addrA, CodeMalformed},
		{"line too long", "GET_CLIENT_INFO|" + addrA + "|" + strings.Repeat("a", MaxLineLen), CodeTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd, err := ParseCommand(c.line)
			if err == nil {
				t.Fatalf("accepted %q as %#v", c.line, cmd)
			}
			if got := CodeOf(err); got != c.code {
				t.Fatalf("code %d (%v), want %d", got, err, c.code)
			}
		})
	}
}

func TestLineLengthCap(t *testing.T) {
	// The largest SHARE_POOL_ADD fits in a line, with room to spare.
	s := &SharePoolAdd{ClientID: mustAddr(t, addrA), Dst: mustAddr(t, addrB), DstPeer: mustPeer(t, peerOne),
		Index: 255, N: 255, K: 255, ShareLen: 1<<32 - 1, Token: make([]byte, MaxTokenLen)}
	line, err := AppendCommand(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(line) > MaxLineLen {
		t.Fatalf("largest command is %d bytes", len(line))
	}
	// A line of exactly MaxLineLen-1 bytes passes the length check; one
	// byte more does not.
	pad := "GET_CLIENT_INFO|" + addrA + "|"
	ok := pad + strings.Repeat("a", MaxLineLen-1-len(pad))
	if _, err := ParseCommand(ok); CodeOf(err) != CodeMalformed {
		t.Fatalf("4095-byte line: %v, want a field error", err)
	}
	if _, err := ParseCommand(ok + "a"); CodeOf(err) != CodeTooLarge {
		t.Fatalf("4096-byte line: %v, want too large", err)
	}
}

func TestAppendCommandRejectsOutOfBounds(t *testing.T) {
	bad := []Command{
		&CreateCluster{N: 2, K: 3},
		&CreateCluster{N: 300, K: 2},
		&JoinCluster{},
		&RegisterP2PPort{},
		&SharePoolAdd{DstPeer: mustPeer(t, peerOne), Index: 0, N: 3, K: 2, ShareLen: 1, Token: []byte{1}},
		&SharePoolAdd{DstPeer: mustPeer(t, peerOne), Index: 1, N: 3, K: 2, Token: []byte{1}},
		&SharePoolAdd{DstPeer: mustPeer(t, peerOne), Index: 1, N: 3, K: 2, ShareLen: 1},
		&SharePoolAdd{DstPeer: mustPeer(t, peerOne), Index: 1, N: 3, K: 2, ShareLen: 1, Token: make([]byte, MaxTokenLen+1)},
		&SharePoolAdd{Index: 1, N: 3, K: 2, ShareLen: 1, Token: []byte{1}},
		nil,
	}
	for _, c := range bad {
		if _, err := AppendCommand(nil, c); !errors.Is(err, ErrMalformed) {
			t.Errorf("%#v: err %v, want ErrMalformed", c, err)
		}
	}
}

func TestReplyGolden(t *testing.T) {
	var key [32]byte
	for i := range key {
		key[i] = byte(i)
	}
	pr := PortReply{Port: 4000, KeyID: 4294967295, Key: key}
	want := "OK|4000|4294967295|000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	checkReply(t, want, func() ([]byte, error) { return pr.Append(nil) }, func(l string) (any, error) { r, err := ParsePortReply(l); return r, err }, pr)

	ci := ClientInfoReply{ClientID: mustAddr(t, addrA), PeerID: mustPeer(t, peerOne), IP: netip.MustParseAddr("2001:db8::1"), Port: 7}
	want = "OK|" + addrA + "|" + peerOne + "|2001:db8::1|7"
	checkReply(t, want, func() ([]byte, error) { return ci.Append(nil) }, func(l string) (any, error) { r, err := ParseClientInfoReply(l); return r, err }, ci)

	ci = ClientInfoReply{ClientID: mustAddr(t, addrB), PeerID: mustPeer(t, peerTwo)}
	want = "OK|" + addrB + "|" + peerTwo + "|-|0"
	checkReply(t, want, func() ([]byte, error) { return ci.Append(nil) }, func(l string) (any, error) { r, err := ParseClientInfoReply(l); return r, err }, ci)

	cid, _ := ParseClusterID(cidHex)
	cr := ClusterReply{Cluster: cid, N: 5, K: 3, Creator: mustPeer(t, peerOne), Signature: []byte{0xff, 0xfe}, Members: 2}
	want = "OK|" + cidHex + "|5|3|" + peerOne + "|__4|2"
	checkReply(t, want, func() ([]byte, error) { return cr.Append(nil) }, func(l string) (any, error) { r, err := ParseClusterReply(l); return r, err }, cr)

	if got := string(AppendMemberLine(nil, mustPeer(t, peerTwo))); got != "MEMBER|"+peerTwo+"\n" {
		t.Errorf("member line %q", got)
	}
	if p, err := ParseMemberLine("MEMBER|" + peerTwo); err != nil || p != mustPeer(t, peerTwo) {
		t.Errorf("ParseMemberLine = %v, %v", p, err)
	}
	if got := string(AppendOK(nil)); got != "OK\n" {
		t.Errorf("AppendOK = %q", got)
	}
	if err := ParseOK("OK"); err != nil {
		t.Errorf("ParseOK: %v", err)
	}
	for _, bad := range []string{"OK|", "OK|1", "ok", "OKAY", "OK "} {
		if err := ParseOK(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseOK(%q) = %v", bad, err)
		}
	}
}

func checkReply(t *testing.T, want string, appendFn func() ([]byte, error), parse func(string) (any, error), v any) {
	t.Helper()
	got, err := appendFn()
	if err != nil {
		t.Fatalf("%s: %v", want, err)
	}
	if string(got) != want+"\n" {
		t.Errorf("format:\n got %q\nwant %q", got, want+"\n")
	}
	p, err := parse(want)
	if err != nil {
		t.Fatalf("parse %q: %v", want, err)
	}
	if !reflect.DeepEqual(p, v) {
		t.Errorf("parse %q = %#v, want %#v", want, p, v)
	}
}

func TestReplyRejects(t *testing.T) {
	key := strings.Repeat("ab", 32)
	bad := map[string]func(string) error{
		"OK|0|1|" + key:                  func(l string) error { _, err := ParsePortReply(l); return err },
		"OK|1|0|" + key:                  func(l string) error { _, err := ParsePortReply(l); return err },
		"OK|1|4294967296|" + key:         func(l string) error { _, err := ParsePortReply(l); return err },
		"OK|1|1|" + strings.ToUpper(key): func(l string) error { _, err := ParsePortReply(l); return err },
		"OK|1|1|" + key[2:]:              func(l string) error { _, err := ParsePortReply(l); return err },
		"OK|" + addrA + "|" + peerOne + "|::ffff:1.2.3.4x|1": func(l string) error { _, err := ParseClientInfoReply(l); return err },
		"OK|" + addrA + "|" + peerOne + "|2001:DB8::1|1":     func(l string) error { _, err := ParseClientInfoReply(l); return err },
		"OK|" + addrA + "|" + peerOne + "|fe80::1%eth0|1":    func(l string) error { _, err := ParseClientInfoReply(l); return err },
		"OK|" + addrA + "|" + peerOne + "|01.2.3.4|1":        func(l string) error { _, err := ParseClientInfoReply(l); return err },
		"OK|" + addrA + "|notapeer|-|1":                      func(l string) error { _, err := ParseClientInfoReply(l); return err },
		"OK|" + cidHex + "|5|3|" + peerOne + "|AA|0":         func(l string) error { _, err := ParseClusterReply(l); return err },
		"OK|" + cidHex + "|5|3|" + peerOne + "|AA|256":       func(l string) error { _, err := ParseClusterReply(l); return err },
		"OK|65":                 func(l string) error { _, err := ParseClaimCount(l); return err },
		"MEMBERS|" + peerOne:    func(l string) error { _, err := ParseMemberLine(l); return err },
		"ERR|40|short code":     ParseOK,
		"ERR|600|code too big":  ParseOK,
		"ERR|0400|leading zero": ParseOK,
		"ERR|400|":              ParseOK,
		"ERR|400|a|b":           ParseOK,
		"ERR|400|" + strings.Repeat("r", MaxReasonLen+1): ParseOK,
	}
	for line, parse := range bad {
		err := parse(line)
		var e *Error
		if !errors.As(err, &e) || e.Remote || !(e.Code == CodeMalformed || e.Code == CodeTooLarge) {
			t.Errorf("%q: err %v, want a local grammar error", line, err)
		}
	}
}

func TestErrorReplies(t *testing.T) {
	line := string(AppendError(nil, Errorf(CodeWrongClient, "line|speaks\nfor %s", "x")))
	if line != "ERR|401|line?speaks?for x\n" {
		t.Fatalf("AppendError = %q", line)
	}
	remote, err := ParseError(strings.TrimSuffix(line, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if remote.Code != CodeWrongClient || remote.Reason != "line?speaks?for x" || !remote.Remote {
		t.Fatalf("ParseError = %#v", remote)
	}
	if !errors.Is(remote, ErrWrongClient) || errors.Is(remote, ErrForbidden) {
		t.Fatal("errors.Is on a remote error does not follow its code")
	}
	// A typed reply parser returns the remote error for an ERR line.
	if _, err := ParsePortReply("ERR|501|no data plane"); !errors.Is(err, ErrNotImplemented) {
		t.Fatalf("ParsePortReply(ERR) = %v", err)
	}
	// Unknown codes in range are accepted.
	if e, err := ParseError("ERR|599|future"); err != nil || e.Code != 599 {
		t.Fatalf("ParseError(599) = %v, %v", e, err)
	}
	// Errors that are not *Error map to 500 and do not leak their text.
	if got := string(AppendError(nil, errors.New("secret path /x"))); got != "ERR|500|internal error\n" {
		t.Fatalf("AppendError(plain) = %q", got)
	}
	wrapped := fmt.Errorf("outer: %w", Errorf(CodeConflict, "taken"))
	if CodeOf(wrapped) != CodeConflict || !errors.Is(wrapped, ErrConflict) {
		t.Fatal("code lost through wrapping")
	}
	cause := errors.New("cause")
	if err := Errorf(CodeInternal, "x: %w", cause); !errors.Is(err, cause) {
		t.Fatal("Errorf does not keep its %w cause")
	}
	if CodeOf(nil) != 0 {
		t.Fatal("CodeOf(nil) != 0")
	}
	// Long reasons are cut to fit.
	long := string(AppendError(nil, Errorf(CodeMalformed, "%s", strings.Repeat("x", 500))))
	if _, err := ParseError(strings.TrimSuffix(long, "\n")); err != nil {
		t.Fatalf("long reason does not parse back: %v", err)
	}
}

func TestClusterIDText(t *testing.T) {
	var id ClusterID
	if err := id.UnmarshalText([]byte(cidHex)); err != nil {
		t.Fatal(err)
	}
	b, _ := id.MarshalText()
	if string(b) != cidHex {
		t.Fatalf("MarshalText = %s", b)
	}
	charter := AppendCharter(nil, id, 5, 3, mustPeer(t, peerOne))
	want := "vmdt/ctl/cluster-charter/v1\x00" + cidHex + "|5|3|" + peerOne
	if !bytes.Equal(charter, []byte(want)) {
		t.Fatalf("charter %q", charter)
	}
}

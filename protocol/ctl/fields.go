package ctl

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vmdt/vmdt/protocol"
)

// checkLine applies the rules every line obeys: not empty, at most
// MaxLineLen-1 bytes (the cap counts the "\n"), printable ASCII only.
func checkLine(line string) error {
	if len(line) == 0 {
		return Errorf(CodeMalformed, "empty line")
	}
	if len(line) > MaxLineLen-1 {
		return Errorf(CodeTooLarge, "line of %d bytes exceeds %d", len(line)+1, MaxLineLen)
	}
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < 0x20 || c > 0x7e {
			return Errorf(CodeMalformed, "byte 0x%02x at offset %d is not printable ASCII", c, i)
		}
	}
	return nil
}

// splitFields splits a checked line at '|' and requires exactly want fields.
func splitFields(line string, want int) ([]string, error) {
	f := strings.Split(line, sep)
	if len(f) != want {
		return nil, Errorf(CodeMalformed, "%s takes %d fields, got %d", f[0], want, len(f))
	}
	return f, nil
}

// parseUint parses a decimal integer in [min, max]: digits only, no sign,
// no leading zeros except "0" itself, at most 10 digits.
func parseUint(name, s string, min, max uint64) (uint64, error) {
	if len(s) == 0 || len(s) > 10 {
		return 0, Errorf(CodeMalformed, "%s: %d digits", name, len(s))
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, Errorf(CodeMalformed, "%s: leading zero", name)
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, Errorf(CodeMalformed, "%s: not a decimal number", name)
		}
		v = v*10 + uint64(c-'0') // 10 digits cannot overflow uint64
	}
	if v < min || v > max {
		return 0, Errorf(CodeMalformed, "%s: %d outside %d..%d", name, v, min, max)
	}
	return v, nil
}

// parseNK parses n and k with 2 <= k <= n <= 255.
func parseNK(ns, ks string) (n, k int, err error) {
	nv, err := parseUint("n", ns, MinShares, MaxShares)
	if err != nil {
		return 0, 0, err
	}
	kv, err := parseUint("k", ks, MinShares, nv)
	if err != nil {
		return 0, 0, err
	}
	return int(nv), int(kv), nil
}

func checkNK(n, k int) bool { return MinShares <= k && k <= n && n <= MaxShares }

// parseLowerHex decodes exactly 2*len(dst) lower-case hex characters.
func parseLowerHex(s string, dst []byte) error {
	if len(s) != 2*len(dst) {
		return Errorf(CodeMalformed, "want %d lower-case hex characters, got %d", 2*len(dst), len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		default:
			return Errorf(CodeMalformed, "byte %q is not lower-case hex", c)
		}
		if i%2 == 0 {
			dst[i/2] = v << 4
		} else {
			dst[i/2] |= v
		}
	}
	return nil
}

// parseClient parses a client id: a DDT address in lower-case hex.
func parseClient(name, s string) (protocol.DDTAddr, error) {
	var a protocol.DDTAddr
	if err := parseLowerHex(s, a[:]); err != nil {
		return a, Errorf(CodeMalformed, "%s: %w", name, err)
	}
	// Same bytes; keeps the protocol package the authority on the format.
	a, err := protocol.ParseDDTAddr(s)
	if err != nil {
		return a, Errorf(CodeMalformed, "%s: %w", name, err)
	}
	return a, nil
}

func parseMessageID(s string) (protocol.MessageID, error) {
	var id protocol.MessageID
	if err := parseLowerHex(s, id[:]); err != nil {
		return id, Errorf(CodeMalformed, "message id: %w", err)
	}
	return id, nil
}

// parsePeerID parses a peer id in its canonical base58 form.
func parsePeerID(name, s string) (peer.ID, error) {
	if len(s) == 0 || len(s) > MaxPeerIDLen {
		return "", Errorf(CodeMalformed, "%s: %d characters", name, len(s))
	}
	id, err := peer.Decode(s)
	if err != nil {
		return "", Errorf(CodeMalformed, "%s: %w", name, err)
	}
	if id.String() != s {
		return "", Errorf(CodeMalformed, "%s: not in canonical form", name)
	}
	return id, nil
}

func appendPeerID(b []byte, id peer.ID) []byte { return append(b, id.String()...) }

var b64 = base64.RawURLEncoding.Strict()

// parseBase64 decodes unpadded, canonical base64url of 1..max bytes.
func parseBase64(name, s string, max int) ([]byte, error) {
	if len(s) == 0 {
		return nil, Errorf(CodeMalformed, "%s: empty", name)
	}
	if len(s) > base64.RawURLEncoding.EncodedLen(max) {
		return nil, Errorf(CodeTooLarge, "%s: longer than %d bytes", name, max)
	}
	out, err := b64.DecodeString(s)
	if err != nil {
		return nil, Errorf(CodeMalformed, "%s: %w", name, err)
	}
	return out, nil
}

func appendBase64(b, data []byte) []byte { return base64.RawURLEncoding.AppendEncode(b, data) }

// parseIP parses "-" (unknown) or an IP address in canonical form
// (netip's String form, no zone).
func parseIP(s string) (netip.Addr, error) {
	if s == "-" {
		return netip.Addr{}, nil
	}
	if len(s) > 45 {
		return netip.Addr{}, Errorf(CodeMalformed, "ip: too long")
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, Errorf(CodeMalformed, "ip: %w", err)
	}
	if ip.Zone() != "" || ip.String() != s {
		return netip.Addr{}, Errorf(CodeMalformed, "ip: not in canonical form")
	}
	return ip, nil
}

func appendIP(b []byte, ip netip.Addr) []byte {
	if !ip.IsValid() {
		return append(b, '-')
	}
	return ip.WithZone("").AppendTo(b)
}

func appendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

// sanitizeReason makes s fit in the reason field: printable ASCII, no '|',
// at most MaxReasonLen bytes, not empty.
func sanitizeReason(s string, code Code) string {
	if len(s) > MaxReasonLen {
		s = s[:MaxReasonLen]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == '|' {
			b[i] = '?'
		}
	}
	if len(b) == 0 {
		return code.String()
	}
	return string(b)
}

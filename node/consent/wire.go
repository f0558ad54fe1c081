package consent

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vmdt/vmdt/node/friends"
)

// Wire limits (see the package doc).
const (
	// AckVersion is the version byte of an ack.
	AckVersion = 1
	// MaxMessageLen is the largest message a frame carries: the longest
	// of the three friends encodings.
	MaxMessageLen = max(friends.MaxRequestLen, friends.MaxResponseLen, friends.TokenLen)
	// MaxReasonLen caps an ack's reason.
	MaxReasonLen = 200
	// MaxAckLen is the length of the longest ack.
	MaxAckLen = 3 + MaxReasonLen + 1 + friends.TokenLen
)

// AppendFrame appends the frame carrying msg to b.
func AppendFrame(b, msg []byte) ([]byte, error) {
	if len(msg) == 0 || len(msg) > MaxMessageLen {
		return nil, fmt.Errorf("%w: message of %d bytes, want 1..%d", friends.ErrMalformed, len(msg), MaxMessageLen)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(msg)))
	return append(b, msg...), nil
}

// ReadFrame reads one frame from r and returns its message. A length
// outside 1..MaxMessageLen is an error wrapping friends.ErrMalformed;
// other errors are r's.
func ReadFrame(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 || n > MaxMessageLen {
		return nil, fmt.Errorf("%w: frame of %d bytes, want 1..%d", friends.ErrMalformed, n, MaxMessageLen)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// Ack is the listener's answer to a message.
type Ack struct {
	Code   Code
	Reason string // text for humans, at most MaxReasonLen bytes on the wire
	// Token is the listener's encoded token for the opener, in an OK ack
	// to an acceptance; empty otherwise.
	Token []byte
}

// Append appends the encoding of a to b. A reason longer than
// MaxReasonLen is cut, control characters are replaced; a token of the
// wrong length is an error.
func (a Ack) Append(b []byte) ([]byte, error) {
	if len(a.Token) != 0 && (len(a.Token) != friends.TokenLen || a.Code != CodeOK) {
		return nil, fmt.Errorf("%w: ack with a token of %d bytes, code %d", friends.ErrMalformed, len(a.Token), a.Code)
	}
	reason := cleanReason(a.Reason)
	b = append(b, AckVersion, byte(a.Code), byte(len(reason)))
	b = append(b, reason...)
	b = append(b, byte(len(a.Token)))
	return append(b, a.Token...), nil
}

// ReadAck reads one ack from r. A malformed ack is an error wrapping
// friends.ErrMalformed; other errors are r's.
func ReadAck(r io.Reader) (Ack, error) {
	var hdr [3]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Ack{}, err
	}
	if hdr[0] != AckVersion {
		return Ack{}, fmt.Errorf("%w: ack version %d", friends.ErrMalformed, hdr[0])
	}
	if int(hdr[2]) > MaxReasonLen {
		return Ack{}, fmt.Errorf("%w: ack reason of %d bytes", friends.ErrMalformed, hdr[2])
	}
	rest := make([]byte, int(hdr[2])+1)
	if _, err := io.ReadFull(r, rest); err != nil {
		return Ack{}, err
	}
	a := Ack{Code: Code(hdr[1]), Reason: cleanReason(string(rest[:hdr[2]]))}
	t := int(rest[hdr[2]])
	if t == 0 {
		return a, nil
	}
	if t != friends.TokenLen || a.Code != CodeOK {
		return Ack{}, fmt.Errorf("%w: ack with a token of %d bytes, code %d", friends.ErrMalformed, t, a.Code)
	}
	a.Token = make([]byte, t)
	if _, err := io.ReadFull(r, a.Token); err != nil {
		return Ack{}, err
	}
	return a, nil
}

// cleanReason makes s safe to print on one line and cuts it to
// MaxReasonLen bytes at a rune boundary.
func cleanReason(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	if len(s) <= MaxReasonLen {
		return s
	}
	cut := MaxReasonLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

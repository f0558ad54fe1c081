package agent

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

const headerSize = 16

// maxMessage bounds a message's announced length.
const maxMessage = 1 << 30

// ErrFrame is returned for a malformed message header.
var ErrFrame = errors.New("agent: malformed message header")

// appendHeader appends the 16-byte message header.
func appendHeader(b []byte, id uint64, length int) []byte {
	b = binary.BigEndian.AppendUint64(b, id)
	return binary.BigEndian.AppendUint64(b, uint64(length))
}

// parseHeader decodes a message header.
func parseHeader(h []byte) (id uint64, length int64, err error) {
	if len(h) != headerSize {
		return 0, 0, ErrFrame
	}
	id = binary.BigEndian.Uint64(h)
	n := binary.BigEndian.Uint64(h[8:])
	if n > maxMessage {
		return 0, 0, fmt.Errorf("%w: length %d", ErrFrame, n)
	}
	return id, int64(n), nil
}

// writeMessage writes one framed message.
func writeMessage(w io.Writer, id uint64, data []byte) error {
	if _, err := w.Write(appendHeader(make([]byte, 0, headerSize), id, len(data))); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}

// message is one received message.
type message struct {
	id     uint64
	bytes  int64
	sha256 string
	doneNS int64
}

// readMessage reads one framed message, hashing the payload as it
// arrives, and stamps the time the last byte was read. It returns io.EOF
// if the stream ends cleanly before a header.
func readMessage(r io.Reader, buf []byte) (message, error) {
	var h [headerSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return message{}, fmt.Errorf("%w: truncated", ErrFrame)
		}
		return message{}, err
	}
	id, n, err := parseHeader(h[:])
	if err != nil {
		return message{}, err
	}
	sum := sha256.New()
	got, err := io.CopyBuffer(sum, io.LimitReader(r, n), buf)
	if err != nil {
		return message{}, err
	}
	if got < n {
		return message{}, fmt.Errorf("%w: stream ended after %d of %d bytes", ErrFrame, got, n)
	}
	done := monotonicNS()
	return message{id: id, bytes: n, sha256: hex.EncodeToString(sum.Sum(nil)), doneNS: done}, nil
}

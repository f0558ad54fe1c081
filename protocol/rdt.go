package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// RDTVersion is the only RDT header version this package accepts.
const RDTVersion = 1

// RDTHeaderLen is the size of an encoded RDT header.
const RDTHeaderLen = 16

// RDT header flags. New flags are appended; parsers reject unknown bits.
const (
	FlagData  uint8 = 0x01 // body holds a VMDT header and payload
	FlagAck   uint8 = 0x02 // Ack is valid; without Data the body is an ACK body
	FlagPing  uint8 = 0x04 // elicits an ACK; the body is empty
	FlagClose uint8 = 0x08 // empty body: the session ends; a VMDT header body: that transfer is abandoned

	knownRDTFlags = FlagData | FlagAck | FlagPing | FlagClose
)

// Errors returned by the parsers. They are wrapped with detail; test with
// errors.Is.
var (
	ErrShort   = errors.New("protocol: datagram too short")
	ErrVersion = errors.New("protocol: unknown version")
	ErrInvalid = errors.New("protocol: invalid field")
)

// RDTHeader is the cleartext header that starts every datagram.
type RDTHeader struct {
	Flags  uint8
	Window uint16
	KeyID  uint32
	Seq    uint32
	Ack    uint32
}

// AppendRDTHeader appends the 16-byte encoding of h to b.
func AppendRDTHeader(b []byte, h RDTHeader) []byte {
	b = append(b, RDTVersion, h.Flags)
	b = binary.BigEndian.AppendUint16(b, h.Window)
	b = binary.BigEndian.AppendUint32(b, h.KeyID)
	b = binary.BigEndian.AppendUint32(b, h.Seq)
	return binary.BigEndian.AppendUint32(b, h.Ack)
}

// ParseRDTHeader decodes the RDT header at the start of b and returns it
// with the rest of b.
func ParseRDTHeader(b []byte) (RDTHeader, []byte, error) {
	if len(b) < RDTHeaderLen {
		return RDTHeader{}, nil, fmt.Errorf("%w: %d bytes for a %d-byte RDT header", ErrShort, len(b), RDTHeaderLen)
	}
	if b[0] != RDTVersion {
		return RDTHeader{}, nil, fmt.Errorf("%w: RDT version %d", ErrVersion, b[0])
	}
	h := RDTHeader{
		Flags:  b[1],
		Window: binary.BigEndian.Uint16(b[2:]),
		KeyID:  binary.BigEndian.Uint32(b[4:]),
		Seq:    binary.BigEndian.Uint32(b[8:]),
		Ack:    binary.BigEndian.Uint32(b[12:]),
	}
	if h.Flags&^knownRDTFlags != 0 {
		return RDTHeader{}, nil, fmt.Errorf("%w: RDT flags %#02x", ErrInvalid, h.Flags)
	}
	if h.Flags == 0 {
		return RDTHeader{}, nil, fmt.Errorf("%w: RDT header with no flags", ErrInvalid)
	}
	if h.Seq == 0 {
		return RDTHeader{}, nil, fmt.Errorf("%w: RDT sequence number 0", ErrInvalid)
	}
	return h, b[RDTHeaderLen:], nil
}

package protocol

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// VMDTVersion is the only VMDT header version this package accepts.
const VMDTVersion = 1

// VMDTHeaderLen is the size of an encoded VMDT header.
const VMDTHeaderLen = 64

// Packet types. Numbers are append-only; parsers reject unknown types.
const (
	TypeShare uint8 = 0x01 // payload is a slice of one share of a message
)

// VMDT header flags. Parsers reject unknown bits.
const (
	FlagPool uint8 = 0x01 // the relay should hold the share for an offline receiver

	knownVMDTFlags = FlagPool
)

// MessageID names one message of one source. It is random, so it says
// nothing about the message or its sender.
type MessageID [8]byte

func (id MessageID) String() string { return hex.EncodeToString(id[:]) }

// ParseMessageID parses the 16-hex-character form of a message id.
func ParseMessageID(s string) (MessageID, error) {
	var id MessageID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("%w: message id must be %d hex characters", ErrInvalid, 2*len(id))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("%w: message id: %v", ErrInvalid, err)
	}
	return id, nil
}

// VMDTHeader says which share of which message a datagram's payload
// belongs to, and where in that share it goes.
type VMDTHeader struct {
	Type       uint8
	Flags      uint8
	ShareIndex uint8
	N, K       uint8
	MessageID  MessageID
	Src, Dst   DDTAddr
	Offset     uint32 // where the payload starts within the share
	ShareLen   uint32 // total length of the share
}

// AppendVMDTHeader appends the 64-byte encoding of h to b.
func AppendVMDTHeader(b []byte, h VMDTHeader) []byte {
	b = append(b, VMDTVersion, h.Type, h.Flags, h.ShareIndex, h.N, h.K, 0, 0)
	b = append(b, h.MessageID[:]...)
	b = append(b, h.Src[:]...)
	b = append(b, h.Dst[:]...)
	b = binary.BigEndian.AppendUint32(b, h.Offset)
	return binary.BigEndian.AppendUint32(b, h.ShareLen)
}

// ParseVMDTHeader decodes the VMDT header at the start of b and returns it
// with the payload that follows. It checks every field it can without
// context: version, type, flags, share index against n and k, and that the
// payload fits inside the share.
func ParseVMDTHeader(b []byte) (VMDTHeader, []byte, error) {
	if len(b) < VMDTHeaderLen {
		return VMDTHeader{}, nil, fmt.Errorf("%w: %d bytes for a %d-byte VMDT header", ErrShort, len(b), VMDTHeaderLen)
	}
	if b[0] != VMDTVersion {
		return VMDTHeader{}, nil, fmt.Errorf("%w: VMDT version %d", ErrVersion, b[0])
	}
	h := VMDTHeader{
		Type:       b[1],
		Flags:      b[2],
		ShareIndex: b[3],
		N:          b[4],
		K:          b[5],
		Offset:     binary.BigEndian.Uint32(b[56:]),
		ShareLen:   binary.BigEndian.Uint32(b[60:]),
	}
	copy(h.MessageID[:], b[8:16])
	copy(h.Src[:], b[16:36])
	copy(h.Dst[:], b[36:56])
	payload := b[VMDTHeaderLen:]
	switch {
	case h.Type != TypeShare:
		return VMDTHeader{}, nil, fmt.Errorf("%w: VMDT type %#02x", ErrInvalid, h.Type)
	case h.Flags&^knownVMDTFlags != 0:
		return VMDTHeader{}, nil, fmt.Errorf("%w: VMDT flags %#02x", ErrInvalid, h.Flags)
	case b[6] != 0 || b[7] != 0:
		return VMDTHeader{}, nil, fmt.Errorf("%w: reserved bytes not zero", ErrInvalid)
	case h.K < 2 || h.K > h.N:
		return VMDTHeader{}, nil, fmt.Errorf("%w: k=%d n=%d", ErrInvalid, h.K, h.N)
	case h.ShareIndex == 0 || h.ShareIndex > h.N:
		return VMDTHeader{}, nil, fmt.Errorf("%w: share index %d of %d", ErrInvalid, h.ShareIndex, h.N)
	case uint64(h.Offset)+uint64(len(payload)) > uint64(h.ShareLen):
		return VMDTHeader{}, nil, fmt.Errorf("%w: payload [%d,+%d) outside share of %d bytes", ErrInvalid, h.Offset, len(payload), h.ShareLen)
	}
	return h, payload, nil
}

package ctl

import (
	"encoding/hex"

	"github.com/vmdt/vmdt/protocol"
)

// Verb of the file-transfer command (package node/delivery, files).
//
//	FILE_STATUS|<client_id>|<file_id>|<first> -> OK|<count>|<first>|<bitmap>
//
// file_id is 32 lower-case hex characters (16 bytes). first is the index
// of the first chunk asked about, decimal, a multiple of 8, below
// MaxFileChunks. The reply's count is the file's chunk count as the
// receiver knows it from the sender's manifest, 0 if it has no manifest
// for the file; first repeats the question's; bitmap is "-" when count is
// 0 or first >= count, else unpadded base64url of exactly
// min(MaxStatusBitmapLen, ⌈(count-first)/8⌉) bytes: bit 7-(j%8) of byte
// j/8 is set if the receiver holds verified chunk first+j. Bits past the
// last chunk are zero. A sender pages through a large file by asking again
// with first + 8*MaxStatusBitmapLen.
const VerbFileStatus = "FILE_STATUS"

const (
	// MaxFileChunks caps the chunks of one file.
	MaxFileChunks = 1 << 20
	// MaxStatusBitmapLen caps the bitmap bytes of one FILE_STATUS reply.
	MaxStatusBitmapLen = 2048
	// FileIDLen is the length of a file id in bytes.
	FileIDLen = 16
)

// FileStatus asks the receiver of a file which of its chunks it holds,
// starting at chunk First.
//
//	FILE_STATUS|<client_id>|<file_id>|<first>
type FileStatus struct {
	ClientID protocol.DDTAddr
	FileID   [FileIDLen]byte
	First    int // a multiple of 8, 0..MaxFileChunks-8
}

func (*FileStatus) Verb() string               { return VerbFileStatus }
func (c *FileStatus) Client() protocol.DDTAddr { return c.ClientID }

func (c *FileStatus) valid() bool {
	return c.First >= 0 && c.First < MaxFileChunks && c.First%8 == 0
}

func (c *FileStatus) appendFields(b []byte) []byte {
	b = append(b, c.ClientID.String()...)
	b = hex.AppendEncode(append(b, sep...), c.FileID[:])
	return appendUint(append(b, sep...), uint64(c.First))
}

// parseFileCommand parses the commands of this file. ok is false for
// other verbs.
func parseFileCommand(verb, line string) (cmd Command, ok bool, err error) {
	if verb != VerbFileStatus {
		return nil, false, nil
	}
	f, err := splitFields(line, 4)
	if err != nil {
		return nil, true, err
	}
	c := &FileStatus{}
	if c.ClientID, err = parseClient("client id", f[1]); err != nil {
		return nil, true, err
	}
	if err := parseLowerHex(f[2], c.FileID[:]); err != nil {
		return nil, true, Errorf(CodeMalformed, "file id: %w", err)
	}
	first, err := parseUint("first chunk", f[3], 0, MaxFileChunks-1)
	if err != nil {
		return nil, true, err
	}
	c.First = int(first)
	if !c.valid() {
		return nil, true, Errorf(CodeMalformed, "first chunk %d is not a multiple of 8", first)
	}
	return c, true, nil
}

// FileStatusReply answers FILE_STATUS.
//
//	OK|<count>|<first>|<bitmap>
type FileStatusReply struct {
	Count  int    // 0..MaxFileChunks; 0: no manifest for the file
	First  int    // as asked
	Bitmap []byte // see VerbFileStatus; nil when Count is 0 or First >= Count
}

// statusBitmapLen is the bitmap length a reply for count and first has.
func statusBitmapLen(count, first int) int {
	if count == 0 || first >= count {
		return 0
	}
	return min(MaxStatusBitmapLen, (count-first+7)/8)
}

func (r *FileStatusReply) valid() bool {
	if r.Count < 0 || r.Count > MaxFileChunks || r.First < 0 || r.First >= MaxFileChunks || r.First%8 != 0 {
		return false
	}
	want := statusBitmapLen(r.Count, r.First)
	if len(r.Bitmap) != want {
		return false
	}
	if want > 0 && r.First+8*want > r.Count {
		// The last byte covers chunks past the end: those bits are zero.
		if extra := r.First + 8*want - r.Count; r.Bitmap[want-1]&(1<<extra-1) != 0 {
			return false
		}
	}
	return true
}

// Has reports whether the reply marks chunk i as held.
func (r *FileStatusReply) Has(i int) bool {
	j := i - r.First
	if j < 0 || j/8 >= len(r.Bitmap) {
		return false
	}
	return r.Bitmap[j/8]&(0x80>>(j%8)) != 0
}

// Append appends r's line, including "\n". It fails with CodeMalformed if
// a field is out of bounds.
func (r *FileStatusReply) Append(b []byte) ([]byte, error) {
	if !r.valid() {
		return b, Errorf(CodeMalformed, "file status reply out of bounds")
	}
	b = appendUint(append(b, okWord+sep...), uint64(r.Count))
	b = appendUint(append(b, sep...), uint64(r.First))
	b = append(b, sep...)
	if len(r.Bitmap) == 0 {
		b = append(b, '-')
	} else {
		b = appendBase64(b, r.Bitmap)
	}
	return append(b, '\n'), nil
}

// ParseFileStatusReply parses a FileStatusReply line. An ERR line returns
// its *Error.
func ParseFileStatusReply(line string) (FileStatusReply, error) {
	f, err := replyFields(line, 3)
	if err != nil {
		return FileStatusReply{}, err
	}
	count, err := parseUint("chunk count", f[0], 0, MaxFileChunks)
	if err != nil {
		return FileStatusReply{}, err
	}
	first, err := parseUint("first chunk", f[1], 0, MaxFileChunks-1)
	if err != nil {
		return FileStatusReply{}, err
	}
	r := FileStatusReply{Count: int(count), First: int(first)}
	if f[2] != "-" {
		if r.Bitmap, err = parseBase64("bitmap", f[2], MaxStatusBitmapLen); err != nil {
			return FileStatusReply{}, err
		}
	}
	if !r.valid() {
		return FileStatusReply{}, Errorf(CodeMalformed, "file status reply: bitmap does not fit count %d from %d", count, first)
	}
	return r, nil
}

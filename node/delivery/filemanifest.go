package delivery

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// File manifest, version 1: the first message of a file transfer
// (envelope chunk index 0). All integers are big-endian.
//
//	offset  size  field
//	0       1     version, 1
//	1       1     reserved, 0
//	2       16    file id (see fileIDOf)
//	18      8     file size in bytes, 1..MaxChunks*chunk size
//	26      4     chunk size, MinChunkSize..MaxChunkSize
//	30      4     chunk count C = ⌈size/chunk size⌉, 1..ctl.MaxFileChunks
//	34      8     created, Unix nanoseconds
//	42      36    sender's public key, libp2p-marshaled Ed25519
//	78      2     name length L, 1..MaxFileNameLen
//	80      L     name, UTF-8, as sanitizeFileName leaves it
//	80+L    32C   SHA-256 of each chunk, in order
//	end-64  64    Ed25519 signature by the sender over
//	              "vmdt/file v1 manifest\x00" || all bytes before it
//
// The file id is the first 16 bytes of SHA-256("vmdt/file v1 id\x00" ||
// sender key || size || chunk size || L || name || SHA-256(chunk hashes)),
// so the same sender sending the same file again gets the same id and
// resumes; created is not part of it.
const (
	fileManifestVersion = 1
	fileManifestFixed   = 80
	fileSigDomain       = "vmdt/file v1 manifest\x00"
	fileIDDomain        = "vmdt/file v1 id\x00"
	senderKeyLen        = 36
	fileSigLen          = 64

	// DefaultChunkSize is the chunk size of SendFile unless told.
	DefaultChunkSize = 4 << 20
	// MinChunkSize and MaxChunkSize bound a file's chunk size.
	MinChunkSize = 1 << 10
	MaxChunkSize = 64 << 20
	// MaxFileNameLen caps a file name in bytes.
	MaxFileNameLen = 255
)

// ErrBadFileManifest: a file manifest is malformed, not signed by its
// sender, or its file id does not match its contents.
var ErrBadFileManifest = errors.New("delivery: bad file manifest")

// FileID names a file transfer.
type FileID [ctl.FileIDLen]byte

func (id FileID) String() string { return fmt.Sprintf("%x", id[:]) }

// FileManifest describes a file sent in chunks; its sender signs it.
type FileManifest struct {
	FileID    FileID
	Name      string
	Size      int64
	ChunkSize int
	Created   time.Time
	Sender    crypto.PubKey
	Hashes    [][sha256.Size]byte // one per chunk
	Signature [fileSigLen]byte

	sender []byte // marshaled Sender
	src    protocol.DDTAddr
}

// Count returns the number of chunks.
func (m *FileManifest) Count() int { return len(m.Hashes) }

// Src returns the DDT address of the sender.
func (m *FileManifest) Src() protocol.DDTAddr { return m.src }

// chunkLen returns the length of chunk i (0-based).
func (m *FileManifest) chunkLen(i int) int {
	if i == m.Count()-1 {
		return int(m.Size - int64(i)*int64(m.ChunkSize))
	}
	return m.ChunkSize
}

// chunkCount returns ⌈size/chunkSize⌉.
func chunkCount(size int64, chunkSize int) int64 {
	return (size + int64(chunkSize) - 1) / int64(chunkSize)
}

// fileIDOf derives the file id from the manifest's contents.
func fileIDOf(sender []byte, size int64, chunkSize int, name string, hashes [][sha256.Size]byte) FileID {
	hl := sha256.New()
	for _, h := range hashes {
		hl.Write(h[:])
	}
	h := sha256.New()
	h.Write([]byte(fileIDDomain))
	h.Write(sender)
	var b [14]byte
	binary.BigEndian.PutUint64(b[0:], uint64(size))
	binary.BigEndian.PutUint32(b[8:], uint32(chunkSize))
	binary.BigEndian.PutUint16(b[12:], uint16(len(name)))
	h.Write(b[:])
	h.Write([]byte(name))
	h.Write(hl.Sum(nil))
	var id FileID
	copy(id[:], h.Sum(nil))
	return id
}

// signFileManifest fills in the sender, file id and signature of m and
// returns its encoding. m.Name must be sanitized.
func signFileManifest(priv crypto.PrivKey, m *FileManifest) ([]byte, error) {
	sender, err := crypto.MarshalPublicKey(priv.GetPublic())
	if err != nil || len(sender) != senderKeyLen {
		return nil, fmt.Errorf("%w: sender key: %v", ErrInvalidParams, err)
	}
	if err := checkFileShape(m.Size, m.ChunkSize, len(m.Hashes), m.Name); err != nil {
		return nil, err
	}
	m.Sender, m.sender = priv.GetPublic(), sender
	m.src = protocol.DDTAddrFromPublicKey(sender)
	m.FileID = fileIDOf(sender, m.Size, m.ChunkSize, m.Name, m.Hashes)
	b := make([]byte, 0, fileManifestFixed+len(m.Name)+32*len(m.Hashes)+fileSigLen)
	b = append(b, fileManifestVersion, 0)
	b = append(b, m.FileID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Size))
	b = binary.BigEndian.AppendUint32(b, uint32(m.ChunkSize))
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Hashes)))
	b = binary.BigEndian.AppendUint64(b, uint64(m.Created.UnixNano()))
	b = append(b, sender...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Name)))
	b = append(b, m.Name...)
	for _, h := range m.Hashes {
		b = append(b, h[:]...)
	}
	sig, err := priv.Sign(append([]byte(fileSigDomain), b...))
	if err != nil || len(sig) != fileSigLen {
		return nil, fmt.Errorf("delivery: sign file manifest: %v", err)
	}
	copy(m.Signature[:], sig)
	return append(b, sig...), nil
}

func checkFileShape(size int64, chunkSize, count int, name string) error {
	switch {
	case chunkSize < MinChunkSize || chunkSize > MaxChunkSize:
		return fmt.Errorf("%w: chunk size %d outside %d..%d", ErrBadFileManifest, chunkSize, MinChunkSize, MaxChunkSize)
	case size < 1 || size > int64(ctl.MaxFileChunks)*int64(chunkSize):
		return fmt.Errorf("%w: size %d", ErrBadFileManifest, size)
	case int64(count) != chunkCount(size, chunkSize):
		return fmt.Errorf("%w: %d chunks for %d bytes in chunks of %d", ErrBadFileManifest, count, size, chunkSize)
	case name == "" || len(name) > MaxFileNameLen || sanitizeFileName(name) != name:
		return fmt.Errorf("%w: file name %q", ErrBadFileManifest, name)
	}
	return nil
}

// ParseFileManifest decodes a file manifest and checks its structure, its
// file id and its signature. The caller checks that Src is the sender it
// expects.
func ParseFileManifest(b []byte) (*FileManifest, error) {
	bad := func(format string, a ...any) (*FileManifest, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrBadFileManifest}, a...)...)
	}
	if len(b) < fileManifestFixed+fileSigLen {
		return bad("%d bytes", len(b))
	}
	if b[0] != fileManifestVersion || b[1] != 0 {
		return bad("version %d.%d", b[0], b[1])
	}
	m := &FileManifest{}
	copy(m.FileID[:], b[2:18])
	size := binary.BigEndian.Uint64(b[18:])
	chunkSize := binary.BigEndian.Uint32(b[26:])
	count := binary.BigEndian.Uint32(b[30:])
	created := int64(binary.BigEndian.Uint64(b[34:]))
	nameLen := int(binary.BigEndian.Uint16(b[78:]))
	if size > 1<<62 || chunkSize > MaxChunkSize || count > ctl.MaxFileChunks || nameLen > MaxFileNameLen {
		return bad("out of bounds")
	}
	if want := fileManifestFixed + nameLen + 32*int(count) + fileSigLen; len(b) != want {
		return bad("%d bytes, want %d", len(b), want)
	}
	m.Size, m.ChunkSize = int64(size), int(chunkSize)
	m.Name = string(b[fileManifestFixed : fileManifestFixed+nameLen])
	if err := checkFileShape(m.Size, m.ChunkSize, int(count), m.Name); err != nil {
		return nil, err
	}
	m.Created = time.Unix(0, created)
	m.sender = bytes.Clone(b[42:78])
	pub, err := crypto.UnmarshalPublicKey(m.sender)
	if err != nil || pub.Type() != crypto.Ed25519 {
		return bad("sender key: %v", err)
	}
	if canon, err := crypto.MarshalPublicKey(pub); err != nil || !bytes.Equal(canon, m.sender) {
		return bad("sender key not canonical")
	}
	m.Sender, m.src = pub, protocol.DDTAddrFromPublicKey(m.sender)
	m.Hashes = make([][sha256.Size]byte, count)
	off := fileManifestFixed + nameLen
	for i := range m.Hashes {
		copy(m.Hashes[i][:], b[off+32*i:])
	}
	body := b[:len(b)-fileSigLen]
	copy(m.Signature[:], b[len(body):])
	if fileIDOf(m.sender, m.Size, m.ChunkSize, m.Name, m.Hashes) != m.FileID {
		return bad("file id does not match the contents")
	}
	ok, err := pub.Verify(append([]byte(fileSigDomain), body...), m.Signature[:])
	if err != nil || !ok {
		return bad("signature does not verify")
	}
	return m, nil
}

// sanitizeFileName makes a name safe to show and to store: the last path
// element only, no control characters, valid UTF-8, at most
// MaxFileNameLen bytes, never "", "." or "..".
func sanitizeFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var sb strings.Builder
	for _, r := range name {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), r == '|':
			r = '_'
		}
		if sb.Len()+utf8.RuneLen(r) > MaxFileNameLen {
			break
		}
		sb.WriteRune(r)
	}
	name = strings.TrimSpace(sb.String())
	if name == "" || name == "." || name == ".." {
		return "file"
	}
	return name
}

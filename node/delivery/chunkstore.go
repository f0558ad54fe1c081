package delivery

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// ErrBadChunk: a file chunk does not match its signed manifest, comes
// from another sender, or names a file whose manifest has not arrived.
var ErrBadChunk = errors.New("delivery: bad file chunk")

// chunkStore keeps files being received, one directory per file:
//
//	dir/<file id hex>/manifest   the signed file manifest, as received
//	dir/<file id hex>/data.part  the file, chunk i at offset i×chunk size (sparse)
//	dir/<file id hex>/bitmap     one bit per verified chunk (bit 7-i%8 of byte i/8)
//
// data.part and bitmap are created before manifest, so a file exists once
// its manifest does. A chunk is written and synced before its bit is set,
// and the bitmap is replaced atomically. When the last chunk is in,
// data.part moves into the inbox; the manifest and the full bitmap stay,
// so that a repeated send learns that nothing is missing.
type chunkStore struct {
	dir   string
	inbox *Inbox

	mu    sync.Mutex // guards files and the files on disk
	files map[FileID]*fileState
}

// fileState is a file being received (or received), as on disk.
type fileState struct {
	m    *FileManifest
	have []byte // the bitmap
	n    int    // bits set
	done bool   // moved into the inbox
}

const (
	manifestFile = "manifest"
	partFile     = "data.part"
	bitmapFile   = "bitmap"
)

func openChunkStore(dir string, inbox *Inbox) (*chunkStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("delivery: file store: %w", err)
	}
	return &chunkStore{dir: dir, inbox: inbox, files: make(map[FileID]*fileState)}, nil
}

func (s *chunkStore) fileDir(id FileID) string { return filepath.Join(s.dir, id.String()) }

// loadLocked returns the state of file id from memory or disk, nil if
// there is no manifest for it.
func (s *chunkStore) loadLocked(id FileID) (*fileState, error) {
	if f := s.files[id]; f != nil {
		return f, nil
	}
	raw, err := os.ReadFile(filepath.Join(s.fileDir(id), manifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := ParseFileManifest(raw)
	if err != nil || m.FileID != id {
		return nil, fmt.Errorf("delivery: stored manifest of file %s: %v", id, err)
	}
	have, err := os.ReadFile(filepath.Join(s.fileDir(id), bitmapFile))
	if err != nil {
		return nil, err
	}
	if len(have) != (m.Count()+7)/8 {
		return nil, fmt.Errorf("delivery: stored bitmap of file %s has %d bytes", id, len(have))
	}
	f := &fileState{m: m, have: have}
	for _, b := range have {
		f.n += bits.OnesCount8(b)
	}
	if f.n == m.Count() {
		_, err := os.Stat(filepath.Join(s.fileDir(id), partFile))
		f.done = errors.Is(err, fs.ErrNotExist)
	}
	s.files[id] = f
	return f, nil
}

// putManifest stores a file manifest that src sent as chunk 0 of file
// chunk.FileID. A manifest already stored is accepted again.
func (s *chunkStore) putManifest(src protocol.DDTAddr, chunk envelope.Chunk, raw []byte) (*fileState, error) {
	m, err := ParseFileManifest(raw)
	if err != nil {
		return nil, err
	}
	switch {
	case m.Src() != src:
		return nil, fmt.Errorf("%w: signed by %s, sent by %s", ErrBadFileManifest, m.Src(), src)
	case m.FileID != FileID(chunk.FileID) || int64(chunk.Count) != int64(m.Count())+1:
		return nil, fmt.Errorf("%w: envelope names file %x of %d messages", ErrBadFileManifest, chunk.FileID, chunk.Count)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, err := s.loadLocked(m.FileID); err != nil || f != nil {
		return f, err // the id binds sender and contents: same file
	}
	d := s.fileDir(m.FileID)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return nil, err
	}
	part, err := os.Create(filepath.Join(d, partFile))
	if err != nil {
		return nil, err
	}
	err = part.Truncate(m.Size) // sparse: disk is used as chunks arrive
	if cerr := part.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	f := &fileState{m: m, have: make([]byte, (m.Count()+7)/8)}
	if err := writeAtomic(filepath.Join(d, bitmapFile), f.have); err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(d, manifestFile), raw); err != nil {
		return nil, err
	}
	s.files[m.FileID] = f
	return f, nil
}

// putChunk verifies chunk chunk.Index (1-based; 0 is the manifest) of a
// file from src against the file's manifest and stores it. It returns the
// state when the file is complete, nil otherwise.
func (s *chunkStore) putChunk(src protocol.DDTAddr, chunk envelope.Chunk, data []byte) (*fileState, error) {
	id := FileID(chunk.FileID)
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.loadLocked(id)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, fmt.Errorf("%w: no manifest for file %s", ErrBadChunk, id)
	}
	m := f.m
	i := int(chunk.Index) - 1
	switch {
	case m.Src() != src:
		return nil, fmt.Errorf("%w: file %s is from %s, chunk from %s", ErrBadChunk, id, m.Src(), src)
	case int64(chunk.Count) != int64(m.Count())+1 || i < 0 || i >= m.Count():
		return nil, fmt.Errorf("%w: chunk %d of %d for a file of %d chunks", ErrBadChunk, chunk.Index, chunk.Count, m.Count())
	case len(data) != m.chunkLen(i):
		return nil, fmt.Errorf("%w: chunk %d has %d bytes, want %d", ErrBadChunk, i, len(data), m.chunkLen(i))
	case sha256.Sum256(data) != m.Hashes[i]:
		return nil, fmt.Errorf("%w: chunk %d does not match its hash", ErrBadChunk, i)
	}
	if f.have[i/8]&(0x80>>(i%8)) != 0 {
		return nil, nil // already held; the sender did not learn it
	}
	d := s.fileDir(id)
	part, err := os.OpenFile(filepath.Join(d, partFile), os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	_, err = part.WriteAt(data, int64(i)*int64(m.ChunkSize))
	if err == nil {
		err = part.Sync()
	}
	if cerr := part.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	have := append([]byte(nil), f.have...)
	have[i/8] |= 0x80 >> (i % 8)
	if err := writeAtomic(filepath.Join(d, bitmapFile), have); err != nil {
		return nil, err
	}
	f.have, f.n = have, f.n+1
	if f.n == m.Count() {
		return f, nil
	}
	return nil, nil
}

// finish moves the complete file into the inbox as ent (Inbox.PutFile)
// and returns the entry as stored; ok is false if it was there already.
func (s *chunkStore) finish(f *fileState, ent Entry) (stored Entry, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.done {
		return Entry{}, false, nil
	}
	stored, err = s.inbox.PutFile(ent, filepath.Join(s.fileDir(f.m.FileID), partFile))
	if err != nil {
		return Entry{}, false, err
	}
	f.done = true
	return stored, true, nil
}

// status answers FILE_STATUS for file id from src, from chunk first on.
// A file from another sender is reported as unknown.
func (s *chunkStore) status(src protocol.DDTAddr, id FileID, first int) (ctl.FileStatusReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.loadLocked(id)
	if err != nil {
		return ctl.FileStatusReply{}, err
	}
	r := ctl.FileStatusReply{First: first}
	if f == nil || f.m.Src() != src {
		return r, nil
	}
	r.Count = f.m.Count()
	if first < r.Count {
		from := first / 8
		to := min(len(f.have), from+ctl.MaxStatusBitmapLen)
		r.Bitmap = append([]byte(nil), f.have[from:to]...)
	}
	return r, nil
}

// sweep removes the files whose transfer stopped: incomplete files with
// no chunk stored for ttl (their bitmap is older than now-ttl), and
// directories a crash left unfinished, equally old. Received files keep
// their manifest and bitmap (a few bytes per chunk, so that a repeated
// send learns that nothing is missing) but leave memory, to be read again
// on demand. It returns how many files it removed.
func (s *chunkStore) sweep(now time.Time, ttl time.Duration) (int, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, err
	}
	removed := 0
	var errs []error
	for _, de := range ents {
		id, ok := fileIDOfDir(de)
		if !ok {
			continue // not a file's directory
		}
		if ok, err := s.sweepFile(id, now, ttl); err != nil {
			errs = append(errs, err)
		} else if ok {
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

// sweepFile is sweep for file id; it reports whether it removed it. It
// goes by the files' presence and times, without reading them: a
// received file has a manifest and a bitmap but no data.part any more,
// and the bitmap is rewritten with every stored chunk. Without a bitmap
// (a crash), the directory's own time tells when it was made.
func (s *chunkStore) sweepFile(id FileID, now time.Time, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.fileDir(id)
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(d, name))
		return err == nil
	}
	bitmap := exists(bitmapFile)
	if bitmap && exists(manifestFile) && !exists(partFile) {
		delete(s.files, id) // received: read again on demand
		return false, nil
	}
	mark := d
	if bitmap {
		mark = filepath.Join(d, bitmapFile)
	}
	fi, err := os.Stat(mark)
	if err != nil {
		return false, fmt.Errorf("delivery: file store: %s: %w", id, err)
	}
	if now.Sub(fi.ModTime()) < ttl {
		return false, nil
	}
	delete(s.files, id)
	if err := os.RemoveAll(d); err != nil {
		return false, fmt.Errorf("delivery: file store: %s: %w", id, err)
	}
	return true, nil
}

// fileIDOfDir returns the file id a directory of the store is named
// after, if de is one.
func fileIDOfDir(de fs.DirEntry) (FileID, bool) {
	var id FileID
	b, err := hex.DecodeString(de.Name())
	if err != nil || !de.IsDir() || len(b) != len(id) {
		return id, false
	}
	copy(id[:], b)
	return id, id.String() == de.Name()
}

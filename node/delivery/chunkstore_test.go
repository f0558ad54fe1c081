package delivery

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/protocol"
)

func chunkOf(m *FileManifest, i int) envelope.Chunk {
	return envelope.Chunk{FileID: m.FileID, Index: uint32(i), Count: uint32(m.Count() + 1)}
}

// newChunkStore opens an inbox and a file store in dir.
func newChunkStore(t *testing.T, dir string) (*chunkStore, *Inbox) {
	t.Helper()
	inbox, err := OpenInbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := openChunkStore(filepath.Join(dir, filesDir), inbox)
	if err != nil {
		t.Fatal(err)
	}
	return s, inbox
}

func TestChunkStore(t *testing.T) {
	dir := t.TempDir()
	s, inbox := newChunkStore(t, dir)
	alice, mallory := testKey(t), testKey(t)
	aliceAddr, _ := ddtOfKey(alice.GetPublic())
	malloryAddr, _ := ddtOfKey(mallory.GetPublic())
	data := randomBytes(t, 5*MinChunkSize+100) // 6 chunks, the last 100 bytes
	m, raw := testManifest(t, alice, data, MinChunkSize, "notes.txt")
	part := func(i int) []byte { return data[i*MinChunkSize : min((i+1)*MinChunkSize, len(data))] }

	if r, err := s.status(aliceAddr, m.FileID, 0); err != nil || r.Count != 0 {
		t.Fatalf("status before the manifest: %+v %v", r, err)
	}
	if _, err := s.putChunk(aliceAddr, chunkOf(m, 1), part(0)); !errors.Is(err, ErrBadChunk) {
		t.Fatalf("chunk before the manifest: %v", err)
	}
	// A manifest signed by alice but sent by mallory, or signed by mallory
	// for alice's file, is refused.
	if _, err := s.putManifest(malloryAddr, chunkOf(m, 0), raw); !errors.Is(err, ErrBadFileManifest) {
		t.Fatalf("alice's manifest from mallory: %v", err)
	}
	mm, mraw := testManifest(t, mallory, data, MinChunkSize, "notes.txt")
	if _, err := s.putManifest(aliceAddr, chunkOf(mm, 0), mraw); !errors.Is(err, ErrBadFileManifest) {
		t.Fatalf("mallory's manifest as alice's: %v", err)
	}
	if _, err := s.putManifest(aliceAddr, chunkOf(m, 0), raw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.putManifest(aliceAddr, chunkOf(m, 0), raw); err != nil {
		t.Fatalf("manifest again: %v", err)
	}

	// A chunk that does not match its hash, of the wrong length, from
	// another sender or at another index is rejected and not written.
	altered := bytes.Clone(part(2))
	altered[10] ^= 1
	for name, c := range map[string]struct {
		src   protocol.DDTAddr
		chunk envelope.Chunk
		data  []byte
	}{
		"altered":      {aliceAddr, chunkOf(m, 3), altered},
		"moved":        {aliceAddr, chunkOf(m, 2), part(2)},
		"short":        {aliceAddr, chunkOf(m, 3), part(2)[:100]},
		"other sender": {malloryAddr, chunkOf(m, 3), part(2)},
		"past the end": {aliceAddr, chunkOf(m, 7), part(5)},
		"wrong count":  {aliceAddr, envelope.Chunk{FileID: m.FileID, Index: 3, Count: 99}, part(2)},
	} {
		if _, err := s.putChunk(c.src, c.chunk, c.data); !errors.Is(err, ErrBadChunk) {
			t.Errorf("%s chunk: %v, want ErrBadChunk", name, err)
		}
	}
	onDisk, err := os.ReadFile(filepath.Join(s.fileDir(m.FileID), partFile))
	if err != nil || len(onDisk) != len(data) || !bytes.Equal(onDisk, make([]byte, len(data))) {
		t.Fatalf("rejected chunks were written (%d bytes, %v)", len(onDisk), err)
	}

	for _, i := range []int{0, 2, 5} {
		if f, err := s.putChunk(aliceAddr, chunkOf(m, i+1), part(i)); err != nil || f != nil {
			t.Fatalf("chunk %d: %v %v", i, f, err)
		}
	}
	r, err := s.status(aliceAddr, m.FileID, 0)
	if err != nil || r.Count != 6 || !r.Has(0) || r.Has(1) || !r.Has(2) || r.Has(3) || !r.Has(5) {
		t.Fatalf("status %+v %v", r, err)
	}
	if r, _ := s.status(malloryAddr, m.FileID, 0); r.Count != 0 {
		t.Fatalf("mallory learns about alice's file: %+v", r)
	}

	// A restart keeps what was verified.
	s, err = openChunkStore(filepath.Join(dir, filesDir), inbox)
	if err != nil {
		t.Fatal(err)
	}
	if r2, err := s.status(aliceAddr, m.FileID, 0); err != nil || !bytes.Equal(r2.Bitmap, r.Bitmap) {
		t.Fatalf("after restart: %+v %v", r2, err)
	}
	var done *fileState
	for _, i := range []int{1, 3, 4, 4} {
		if done, err = s.putChunk(aliceAddr, chunkOf(m, i+1), part(i)); err != nil {
			t.Fatal(err)
		}
		if i == 4 && done != nil {
			break
		}
	}
	if done == nil {
		t.Fatal("file not complete after all chunks")
	}
	ent := Entry{ID: "0102030405060708", From: "alice", Src: aliceAddr.String(), Size: len(data), Received: time.Now().UTC(), Name: m.Name}
	if stored, ok, err := s.finish(done, ent); err != nil || !ok || stored.ID != ent.ID {
		t.Fatalf("finish: stored as %+v (%v), %v", stored, ok, err)
	}
	if _, ok, err := s.finish(done, ent); ok || err != nil {
		t.Fatalf("finish again: stored %v, %v; want nothing done", ok, err)
	}
	f, err := inbox.Open(ent.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("inbox file differs from the data")
	}
	if e, _, err := inbox.Get(ent.ID); err != nil || e.Name != "notes.txt" || e.Size != len(data) {
		t.Fatalf("entry %+v %v", e, err)
	}
	if r, err := s.status(aliceAddr, m.FileID, 0); err != nil || r.Count != 6 || r.Bitmap[0] != 0xfc {
		t.Fatalf("status of a received file: %+v %v", r, err)
	}
}

// TestChunkStoreSweep: a file with no new chunk for the TTL is deleted,
// and so are a directory a crash left without a manifest and one whose
// manifest is garbage; a file still in progress, a received file and
// anything not named like a file stay.
func TestChunkStoreSweep(t *testing.T) {
	s, inbox := newChunkStore(t, t.TempDir())
	alice := testKey(t)
	aliceAddr, _ := ddtOfKey(alice.GetPublic())
	const ttl = 14 * 24 * time.Hour
	now := time.Now()
	old := now.Add(-ttl - time.Minute)

	// start stores the manifest and first chunk of a 3-chunk file.
	start := func(name string) (*FileManifest, []byte) {
		data := randomBytes(t, 3*MinChunkSize)
		m, raw := testManifest(t, alice, data, MinChunkSize, name)
		if _, err := s.putManifest(aliceAddr, chunkOf(m, 0), raw); err != nil {
			t.Fatal(err)
		}
		if _, err := s.putChunk(aliceAddr, chunkOf(m, 1), data[:MinChunkSize]); err != nil {
			t.Fatal(err)
		}
		return m, data
	}
	stalled, _ := start("stalled.bin")
	active, _ := start("active.bin")
	received, data := start("received.bin")
	var (
		done *fileState
		err  error
	)
	for i := 1; i < 3; i++ {
		if done, err = s.putChunk(aliceAddr, chunkOf(received, i+1), data[i*MinChunkSize:(i+1)*MinChunkSize]); err != nil {
			t.Fatal(err)
		}
	}
	ent := Entry{ID: "0a0b0c0d0e0f0102", From: "alice", Src: aliceAddr.String(), Size: len(data), Received: now, Name: received.Name}
	if done == nil {
		t.Fatal("the received file is not complete")
	}
	if _, _, err := s.finish(done, ent); err != nil {
		t.Fatal("the received file did not reach the inbox")
	}
	var crashed, corrupt FileID
	crashed[0], corrupt[0] = 0xcc, 0xdd
	for _, id := range []FileID{crashed, corrupt} {
		if err := os.MkdirAll(s.fileDir(id), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.fileDir(corrupt), manifestFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(s.dir, "not-a-file")
	if err := os.MkdirAll(other, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		filepath.Join(s.fileDir(stalled.FileID), bitmapFile),
		filepath.Join(s.fileDir(received.FileID), bitmapFile),
		s.fileDir(crashed),
		s.fileDir(corrupt),
		other,
	} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}

	n, err := s.sweep(now, ttl)
	if err != nil || n != 3 {
		t.Fatalf("sweep removed %d files (%v), want 3: the stalled, the crashed and the corrupt one", n, err)
	}
	for _, gone := range []FileID{stalled.FileID, crashed, corrupt} {
		if _, err := os.Stat(s.fileDir(gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("file %s still on disk: %v", gone, err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a directory that is not a file's was touched: %v", err)
	}
	if r, err := s.status(aliceAddr, stalled.FileID, 0); err != nil || r.Count != 0 {
		t.Fatalf("status of the removed file: %+v %v, want unknown", r, err)
	}
	if _, err := s.putChunk(aliceAddr, chunkOf(stalled, 2), make([]byte, MinChunkSize)); !errors.Is(err, ErrBadChunk) {
		t.Fatalf("chunk of the removed file: %v, want ErrBadChunk (no manifest)", err)
	}
	if r, err := s.status(aliceAddr, active.FileID, 0); err != nil || r.Count != 3 || r.Bitmap[0] != 0x80 {
		t.Fatalf("status of the file in progress: %+v %v", r, err)
	}
	// The received file left memory but is still known, from disk.
	if _, inMem := s.files[received.FileID]; inMem {
		t.Fatal("a received file is still held in memory after the sweep")
	}
	if r, err := s.status(aliceAddr, received.FileID, 0); err != nil || r.Count != 3 || r.Bitmap[0] != 0xe0 {
		t.Fatalf("status of the received file: %+v %v", r, err)
	}
	if _, _, err := inbox.Get(ent.ID); err != nil {
		t.Fatalf("the received file left the inbox: %v", err)
	}
}

// TestEngineSweepsStalledFilesAtStart: a node restarted after a file
// transfer stopped long ago does not keep the partial file.
func TestEngineSweepsStalledFilesAtStart(t *testing.T) {
	self, alice := newIdentity(t), newIdentity(t)
	e := newOfflineEngine(t, self, &friendBook{})
	dir := e.cfg.Dir
	data := randomBytes(t, 2*MinChunkSize)
	m, raw := testManifest(t, alice.priv, data, MinChunkSize, "stalled.bin")
	if _, err := e.files.putManifest(alice.ddt, chunkOf(m, 0), raw); err != nil {
		t.Fatal(err)
	}
	e.Close()
	bitmap := filepath.Join(e.files.fileDir(m.FileID), bitmapFile)
	old := time.Now().Add(-15 * 24 * time.Hour)
	if err := os.Chtimes(bitmap, old, old); err != nil {
		t.Fatal(err)
	}
	e2, err := New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if e2.cfg.Dir != dir {
		t.Fatalf("restarted in %s, not %s", e2.cfg.Dir, dir)
	}
	if _, err := os.Stat(e2.files.fileDir(m.FileID)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the stalled file is still on disk after a restart: %v", err)
	}
}

package delivery

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/control"
	"github.com/vmdt/vmdt/node/delivery/envelope"
	"github.com/vmdt/vmdt/protocol"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// Files larger than one message travel in chunks:
//
//	sender                                         receiver
//	SendFile: hash each chunk (one pass, streaming),
//	sign the file manifest, derive the file id
//	FILE_STATUS|me|<file id>|0 ─────────────────▶ chunkStore.status
//	       ◀──────────── OK|<count>|0|<bitmap>   (count 0: no manifest yet)
//	Send(manifest, chunk 0 of count+1) ─────────▶ putManifest: parse, verify,
//	                                              data.part (sparse), bitmap
//	for each chunk not held, InFlight at a time:
//	Send(chunk i, chunk i+1 of count+1) ────────▶ putChunk: same sender,
//	                                              SHA-256 = manifest's,
//	                                              WriteAt, sync, bitmap
//	       ◀───────────────────────── DELIVERED  (after the chunk is stored)
//	                                              last chunk: data.part → inbox
//
// Each message is an ordinary k-of-n Send whose envelope carries the
// chunk fields in its signed manifest, so relays, assembly and
// confirmation are those of single messages. A send interrupted at any
// point is resumed by sending the same file again: same sender, content,
// size, chunk size and name give the same file id, and FILE_STATUS says
// which chunks to skip.

const filesDir = "files"

// DefaultFileInFlight is how many chunks SendFile sends at once unless told.
const DefaultFileInFlight = 2

// ErrFileChanged: the file changed while SendFile was reading it.
var ErrFileChanged = errors.New("delivery: file changed while being sent")

// FileControl is what SendFile needs of the control protocol besides
// Control; *control.Service implements it. Without it SendFile cannot
// resume and sends every chunk.
type FileControl interface {
	FileStatus(ctx context.Context, p peer.ID, id [ctl.FileIDLen]byte, first int) (ctl.FileStatusReply, error)
}

var (
	_ FileControl          = (*control.Service)(nil)
	_ control.FileStatuser = (*Engine)(nil)
)

// FileOptions tune SendFile; the zero value means the defaults.
type FileOptions struct {
	ChunkSize int // bytes per chunk, MinChunkSize..MaxChunkSize; default DefaultChunkSize
	InFlight  int // chunks sent at once; default DefaultFileInFlight
	// Progress, if not nil, is called with the bytes the receiver holds
	// and the file size: once after FILE_STATUS and after each chunk it
	// confirms. Calls do not overlap.
	Progress func(done, total int64)
}

// FileReport says what one SendFile did.
type FileReport struct {
	FileID       FileID
	Name         string // the sanitized name the receiver sees
	Size         int64
	Chunks       int
	ManifestSent bool  // false if the receiver had the manifest already
	Sent         []int // chunks (0-based) sent and confirmed by this call, ascending
	Skipped      int   // chunks the receiver held before this call
	InboxID      string
}

// SendFile sends the size bytes of r to the user dstName as a file named
// name (sanitized), in chunks, each a k-of-n Send through n relays. It
// first reads the file once to hash its chunks, then asks the receiver
// which chunks it holds (FILE_STATUS) and sends only the others, at most
// opts.InFlight at once, so memory stays near InFlight × chunk size × n/k
// whatever the file size. It returns once every chunk is confirmed; after
// an error or cancellation, calling it again with the same file resumes.
// The receiver's inbox entry has id FileReport.InboxID.
func (e *Engine) SendFile(ctx context.Context, dstName string, r io.ReaderAt, size int64, name string, n, k int, opts *FileOptions) (FileReport, error) {
	var o FileOptions
	if opts != nil {
		o = *opts
	}
	if o.ChunkSize == 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.InFlight <= 0 {
		o.InFlight = DefaultFileInFlight
	}
	if k < 2 || n < k || n > 255 {
		return FileReport{}, fmt.Errorf("%w: need 2 <= k <= n <= 255, have n=%d k=%d", ErrInvalidParams, n, k)
	}
	if o.ChunkSize < MinChunkSize || o.ChunkSize > MaxChunkSize || size < 1 || chunkCount(size, o.ChunkSize) > ctl.MaxFileChunks {
		return FileReport{}, fmt.Errorf("%w: %d bytes in chunks of %d", ErrInvalidParams, size, o.ChunkSize)
	}
	if e.ctx.Err() != nil {
		return FileReport{}, ErrClosed
	}
	m := &FileManifest{Name: sanitizeFileName(name), Size: size, ChunkSize: o.ChunkSize, Created: e.cfg.Now()}
	m.Hashes = make([][sha256.Size]byte, chunkCount(size, o.ChunkSize))
	buf := make([]byte, 256<<10)
	for i := range m.Hashes {
		h := sha256.New()
		if _, err := io.CopyBuffer(h, io.NewSectionReader(r, int64(i)*int64(m.ChunkSize), int64(m.chunkLen(i))), buf); err != nil {
			return FileReport{}, fmt.Errorf("delivery: read file: %w", err)
		}
		h.Sum(m.Hashes[i][:0])
		if err := ctx.Err(); err != nil {
			return FileReport{}, err
		}
	}
	raw, err := signFileManifest(e.cfg.Identity, m)
	if err != nil {
		return FileReport{}, err
	}
	rep := FileReport{FileID: m.FileID, Name: m.Name, Size: size, Chunks: m.Count(),
		InboxID: protocol.MessageID(m.FileID[:8]).String()}

	rec, err := e.resolve(ctx, dstName)
	if err != nil {
		return rep, fmt.Errorf("delivery: resolve %q: %w", dstName, err)
	}
	held, known, err := e.remoteFileStatus(ctx, rec.PeerID, m)
	if err != nil {
		return rep, err
	}
	var done int64
	var todo []int
	for i := range m.Count() {
		if held[i/8]&(0x80>>(i%8)) != 0 {
			rep.Skipped++
			done += int64(m.chunkLen(i))
		} else {
			todo = append(todo, i)
		}
	}
	if o.Progress != nil {
		o.Progress(done, size)
	}
	fileChunk := func(i int) *envelope.Options {
		return &envelope.Options{Chunk: envelope.Chunk{FileID: m.FileID, Index: uint32(i), Count: uint32(m.Count() + 1)}}
	}
	if !known {
		if err := e.sendRetry(ctx, dstName, raw, n, k, fileChunk(0)); err != nil {
			return rep, fmt.Errorf("delivery: file manifest: %w", err)
		}
		rep.ManifestSent = true
	}
	if len(todo) == 0 {
		return rep, nil
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for range min(o.InFlight, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chunk := make([]byte, m.ChunkSize)
			for i := range next {
				err := e.sendChunk(ctx, dstName, r, m, i, chunk[:m.chunkLen(i)], n, k, fileChunk(i+1))
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = fmt.Errorf("delivery: file chunk %d: %w", i, err)
					}
					cancel()
				} else {
					rep.Sent = append(rep.Sent, i)
					done += int64(len(chunk[:m.chunkLen(i)]))
					if o.Progress != nil {
						o.Progress(done, size)
					}
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, i := range todo {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	slices.Sort(rep.Sent)
	if firstErr == nil && len(rep.Sent) < len(todo) {
		firstErr = context.Cause(ctx)
	}
	return rep, firstErr
}

// sendChunk reads chunk i into buf, checks it against the manifest and
// sends it, trying once more if the send fails for reasons of its own.
func (e *Engine) sendChunk(ctx context.Context, dstName string, r io.ReaderAt, m *FileManifest, i int, buf []byte, n, k int, opts *envelope.Options) error {
	if _, err := r.ReadAt(buf, int64(i)*int64(m.ChunkSize)); err != nil && !(errors.Is(err, io.EOF) && i == m.Count()-1) {
		return fmt.Errorf("delivery: read file: %w", err)
	}
	if sha256.Sum256(buf) != m.Hashes[i] {
		return ErrFileChanged
	}
	return e.sendRetry(ctx, dstName, buf, n, k, opts)
}

// sendRetry sends one message of a file, trying once more if the send
// fails for reasons of its own (a relay that failed, no confirmation).
func (e *Engine) sendRetry(ctx context.Context, dstName string, msg []byte, n, k int, opts *envelope.Options) error {
	var err error
	for range 2 {
		if _, err = e.send(ctx, dstName, msg, n, k, opts); err == nil || ctx.Err() != nil || errors.Is(err, ErrClosed) {
			return err
		}
		log.Infow("file message not delivered, trying again", "file", FileID(opts.Chunk.FileID), "chunk", opts.Chunk.Index, "err", err)
	}
	return err
}

// remoteFileStatus asks the receiver's peer which chunks of m it holds:
// the bitmap of all chunks, and whether it has the manifest.
func (e *Engine) remoteFileStatus(ctx context.Context, p peer.ID, m *FileManifest) (held []byte, known bool, err error) {
	held = make([]byte, (m.Count()+7)/8)
	fc, ok := e.cfg.Control.(FileControl)
	if !ok {
		return held, false, nil
	}
	for first := 0; first < m.Count(); first += 8 * ctl.MaxStatusBitmapLen {
		var r ctl.FileStatusReply
		err := e.withFinder(ctx, p, func() (err error) {
			r, err = fc.FileStatus(ctx, p, m.FileID, first)
			return err
		})
		if ctl.CodeOf(err) == ctl.CodeNotImplemented {
			return held, false, nil // a receiver without files: send all, it will refuse
		}
		if err != nil {
			return nil, false, fmt.Errorf("delivery: file status: %w", err)
		}
		if r.Count == 0 {
			return held, false, nil
		}
		if r.Count != m.Count() {
			return nil, false, fmt.Errorf("%w: receiver reports %d chunks of file %s, not %d", ErrInvalidParams, r.Count, m.FileID, m.Count())
		}
		copy(held[first/8:], r.Bitmap)
	}
	return held, true, nil
}

// FileStatus answers FILE_STATUS (control.FileStatuser): which chunks of
// the file cmd.ClientID sends this node holds.
func (e *Engine) FileStatus(_ context.Context, _ peer.ID, cmd *ctl.FileStatus) (ctl.FileStatusReply, error) {
	if e.ctx.Err() != nil {
		return ctl.FileStatusReply{}, ctl.Errorf(ctl.CodeUnavailable, "closed")
	}
	r, err := e.files.status(cmd.ClientID, FileID(cmd.FileID), cmd.First)
	if err != nil {
		log.Warnw("file status", "file", FileID(cmd.FileID), "err", err)
		return r, ctl.Errorf(ctl.CodeInternal, "file store")
	}
	return r, nil
}

// receiveFilePart stores a decoded message that is part of a file, ent
// being its would-be inbox entry: the manifest or a chunk. It reports
// whether the part was accepted, so that delivery may be confirmed. The
// last chunk moves the file into the inbox.
func (e *Engine) receiveFilePart(ent Entry, chunk envelope.Chunk, msg []byte) bool {
	src, err := protocol.ParseDDTAddr(ent.Src)
	if err != nil {
		return false
	}
	if chunk.Index == 0 {
		if _, err := e.files.putManifest(src, chunk, msg); err != nil {
			log.Infow("file manifest refused", "src", src, "file", FileID(chunk.FileID), "err", err)
			return false
		}
		return true
	}
	f, err := e.files.putChunk(src, chunk, msg)
	if err != nil {
		log.Infow("file chunk refused", "src", src, "file", FileID(chunk.FileID), "chunk", chunk.Index, "err", err)
		return false
	}
	if f == nil {
		return true
	}
	fe := ent
	fe.ID = protocol.MessageID(f.m.FileID[:8]).String()
	fe.Size, fe.Name, fe.FileID = int(f.m.Size), f.m.Name, f.m.FileID.String()
	fe, stored, err := e.files.finish(f, fe)
	if err != nil {
		log.Warnw("inbox", "file", f.m.FileID, "err", err)
		return errors.Is(err, ErrExists)
	}
	if stored && e.cfg.OnMessage != nil {
		e.cfg.OnMessage(fe)
	}
	return true
}

// sweepInterval is how often the engine looks for files whose transfer
// stopped (Config.PartialFileTTL).
const sweepInterval = time.Hour

// sweepFiles removes files whose transfer stopped (chunkStore.sweep) if
// it last did so sweepInterval ago; the decode loop calls it on its
// ticks, and NewEngine once.
func (e *Engine) sweepFiles() {
	now := e.cfg.Now()
	if !e.swept.IsZero() && now.Sub(e.swept) < sweepInterval {
		return
	}
	e.swept = now
	if n, err := e.files.sweep(now, e.cfg.PartialFileTTL); n > 0 || err != nil {
		log.Infow("removed files whose transfer stopped", "files", n, "err", err)
	}
}

package bootstrap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/vmdt/vmdt/dht/namerec"
)

// The claim log is an append-only file of entries, each the complete new
// state of one name:
//
//	1     entry type, 1 (hold)
//	1+n   name, 1..16 bytes
//	1+k   owner public key, marshaled, 1..64 bytes
//	8     held-until, Unix seconds, big-endian
//	4     CRC-32 (IEEE) of the bytes above, big-endian
//
// Every append is followed by fsync before the notary answers. A torn
// entry at the end (a crash mid-write) is cut off when the log is opened.
// When the log holds many more entries than live holds, it is rewritten to
// a temporary file, synced and renamed over the old one.
const (
	claimLogName  = "claims.log"
	entryHold     = 1
	maxEntryKey   = 64
	compactSlack  = 1024
	maxEntrySize  = 1 + 1 + namerec.MaxNameLen + 1 + maxEntryKey + 8 + 4
	maxEntryUntil = 1 << 62
)

// errCorruptLog reports a log entry that does not parse.
var errCorruptLog = errors.New("bootstrap: corrupt claim log entry")

type logEntry struct {
	name string
	h    hold
}

func appendEntry(b []byte, e logEntry) []byte {
	start := len(b)
	b = append(b, entryHold, byte(len(e.name)))
	b = append(b, e.name...)
	b = append(b, byte(len(e.h.key)))
	b = append(b, e.h.key...)
	b = binary.BigEndian.AppendUint64(b, uint64(max(e.h.until.Unix(), 0))) // a lapsed hold before 1970 is still lapsed
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// parseEntry decodes the entry at the start of b and returns its length.
func parseEntry(b []byte) (logEntry, int, error) {
	short := fmt.Errorf("%w: truncated", errCorruptLog)
	if len(b) < 2 {
		return logEntry{}, 0, short
	}
	if b[0] != entryHold {
		return logEntry{}, 0, fmt.Errorf("%w: type %d", errCorruptLog, b[0])
	}
	n := int(b[1])
	if n < 1 || n > namerec.MaxNameLen {
		return logEntry{}, 0, fmt.Errorf("%w: name length %d", errCorruptLog, n)
	}
	if len(b) < 2+n+1 {
		return logEntry{}, 0, short
	}
	k := int(b[2+n])
	if k < 1 || k > maxEntryKey {
		return logEntry{}, 0, fmt.Errorf("%w: key length %d", errCorruptLog, k)
	}
	size := 2 + n + 1 + k + 8 + 4
	if len(b) < size {
		return logEntry{}, 0, short
	}
	body := b[:size-4]
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(b[size-4:]) {
		return logEntry{}, 0, fmt.Errorf("%w: checksum", errCorruptLog)
	}
	name := string(b[2 : 2+n])
	if err := namerec.CheckName(name); err != nil {
		return logEntry{}, 0, fmt.Errorf("%w: %v", errCorruptLog, err)
	}
	until := binary.BigEndian.Uint64(b[3+n+k:])
	if until >= maxEntryUntil {
		return logEntry{}, 0, fmt.Errorf("%w: held-until %d", errCorruptLog, until)
	}
	e := logEntry{name: name, h: hold{key: string(b[3+n : 3+n+k]), until: time.Unix(int64(until), 0).UTC()}}
	return e, size, nil
}

// parseLog decodes entries until the first that does not parse, and
// returns them with the length of the good prefix.
func parseLog(b []byte) ([]logEntry, int, error) {
	var out []logEntry
	off := 0
	for off < len(b) {
		e, n, err := parseEntry(b[off:])
		if err != nil {
			return out, off, err
		}
		out = append(out, e)
		off += n
	}
	return out, off, nil
}

// claimLog persists the claim table under a directory.
type claimLog struct {
	dir     string
	f       *os.File
	entries int   // entries in the file
	broken  error // set when the file can no longer be appended to
}

// openClaimLog loads dir's log into t and opens it for appending.
func openClaimLog(dir string, t *claimTable) (*claimLog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, claimLogName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	entries, good, perr := parseLog(b)
	if perr != nil {
		// A torn tail from a crash is expected; anything else loses the
		// claims after it, which an operator must know about.
		log.Warnw("claim log: dropping unreadable tail", "path", path, "offset", good, "bytes", len(b)-good, "error", perr)
		if err := f.Truncate(int64(good)); err != nil {
			f.Close()
			return nil, err
		}
	}
	if _, err := f.Seek(int64(good), io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	for _, e := range entries {
		t.set(e.name, e.h)
	}
	return &claimLog{dir: dir, f: f, entries: len(entries)}, nil
}

// append writes and syncs one entry.
func (l *claimLog) append(e logEntry) error {
	if l.broken != nil {
		return l.broken
	}
	if _, err := l.f.Write(appendEntry(nil, e)); err != nil {
		return err
	}
	if err := l.f.Sync(); err != nil {
		return err
	}
	l.entries++
	return nil
}

// needsCompaction reports whether the log is much larger than the table.
func (l *claimLog) needsCompaction(live int) bool {
	return l.entries > 2*live+compactSlack
}

// compact rewrites the log with the live holds of t at now.
func (l *claimLog) compact(t *claimTable, now time.Time) error {
	t.prune(now)
	tmp := filepath.Join(l.dir, claimLogName+".tmp")
	var b []byte
	for n, h := range t.holds {
		b = appendEntry(b, logEntry{name: n, h: h})
	}
	if err := writeSynced(tmp, b); err != nil {
		return err
	}
	path := filepath.Join(l.dir, claimLogName)
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(l.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		// The old descriptor now names an unlinked file: appending to it
		// would lose claims, so refuse all further appends.
		l.broken = fmt.Errorf("claim log reopen after compaction: %w", err)
		return l.broken
	}
	l.f.Close()
	l.f = f
	l.entries = len(t.holds)
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (l *claimLog) close() error { return l.f.Close() }

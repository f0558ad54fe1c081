package sharepool

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vmdt/vmdt/internal/atomicfile"
)

const tempPrefix = ".tmp-"

// writeFileAtomic writes b to dir/name so that the file is either absent
// or complete, also across a crash (package atomicfile).
func writeFileAtomic(dir, name string, b []byte) error {
	return atomicfile.Write(dir, name, tempPrefix+"*", b)
}

// readEntryFile reads and parses one entry file, refusing to read more
// than MaxFileLen+1 bytes.
func readEntryFile(path string) (Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return Entry{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileLen+1))
	if err != nil {
		return Entry{}, err
	}
	if len(b) > MaxFileLen {
		return Entry{}, fmt.Errorf("%w: longer than %d bytes", ErrCorrupt, MaxFileLen)
	}
	return parseEntryFile(b)
}

// loadDir reads every entry file in dir and calls keep for each valid one.
// Leftover temp files, invalid files and files whose name does not match
// their contents are removed; keep may reject an entry (returning false)
// to have it removed too. Subdirectories and other names are left alone.
func loadDir(dir string, keep func(e *Entry) bool) error {
	names, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, de := range names {
		name := de.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasPrefix(name, tempPrefix):
			log.Infow("removing leftover temp file", "file", name)
			removeQuiet(path)
			continue
		case !strings.HasSuffix(name, fileExt) || !de.Type().IsRegular():
			continue
		}
		e, err := readEntryFile(path)
		if err == nil && e.key().fileName() != name {
			err = fmt.Errorf("%w: contents belong to another file name", ErrCorrupt)
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, io.ErrUnexpectedEOF) {
				// An I/O error: the file may be fine; leave it.
				log.Warnw("cannot read share file", "file", name, "err", err)
				continue
			}
			log.Warnw("removing corrupt share file", "file", name, "err", err)
			removeQuiet(path)
			continue
		}
		if !keep(&e) {
			removeQuiet(path)
		}
	}
	return nil
}

func removeQuiet(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Warnw("cannot remove share file", "file", filepath.Base(path), "err", err)
	}
}

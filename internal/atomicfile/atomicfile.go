// Package atomicfile replaces files so that a reader, or the system after
// a crash, finds either the old content or the new, never a mix: the data
// goes to a temporary file in the same directory, which is synced, renamed
// over the target, and the directory is synced.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces dir/name with data. The temporary file is created with
// os.CreateTemp(dir, pattern), so it is mode 0600 and its name matches
// pattern; callers that sweep leftovers of a crash look for that pattern.
// On error the temporary file is removed and dir/name is unchanged.
func Write(dir, name, pattern string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir syncs a directory, making renames and removals in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

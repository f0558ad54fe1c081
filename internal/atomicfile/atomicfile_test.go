package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, "f", ".tmp-*", []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, "f", ".tmp-*", []byte("new")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "f"))
	if err != nil || string(b) != "new" {
		t.Fatalf("read %q, %v; want new", b, err)
	}
	st, err := os.Stat(filepath.Join(dir, "f"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, "f", ".tmp-*", []byte("old")); err != nil {
		t.Fatal(err)
	}
	// Renaming over a non-empty directory fails: the old content and no
	// temporary file remain.
	if err := os.MkdirAll(filepath.Join(dir, "d", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, "d", ".tmp-*", []byte("new")); err == nil {
		t.Fatal("replacing a non-empty directory succeeded")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(left) != 0 {
		t.Fatalf("temporary files left after a failure: %v", left)
	}
	if err := Write(filepath.Join(dir, "missing"), "f", ".tmp-*", nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing directory: err = %v, want ErrNotExist", err)
	}
}

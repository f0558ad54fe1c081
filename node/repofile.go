package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// maxSecretFile bounds the size of the files read from a repository.
const maxSecretFile = 64 << 10

// writeFileAtomic replaces path with data, mode 0600: it writes a
// temporary file in the same directory, syncs it and renames it over path.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// writeFileExclusive creates path with data, mode 0600, and fails with an
// error wrapping fs.ErrExist if path exists. Readers never see a partly
// written file.
func writeFileExclusive(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("node: %w", err)
	}
	name := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(name)
		return "", fmt.Errorf("node: write %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("node: write %s: %w", path, err)
	}
	return name, nil
}

// readSecret reads a small file that only its owner may access.
func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("node: %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %v, want 0600", ErrRepoPerms, path, st.Mode().Perm())
	}
	if st.Size() > maxSecretFile {
		return nil, fmt.Errorf("node: %s: %d bytes, at most %d", path, st.Size(), maxSecretFile)
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && st.Size() > 0 {
		return nil, fmt.Errorf("node: %w", err)
	}
	return b, nil
}

// readToken reads the API token of the repository in dir. With create, a
// missing token file is created with a fresh token.
func readToken(dir string, create bool) (string, error) {
	path := filepath.Join(dir, tokenFile)
	b, err := readSecret(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		raw := make([]byte, tokenBytes)
		if _, err := rand.Read(raw); err != nil {
			return "", fmt.Errorf("node: generate API token: %w", err)
		}
		tok := hex.EncodeToString(raw)
		if err := writeFileAtomic(path, []byte(tok+"\n")); err != nil {
			return "", err
		}
		return tok, nil
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w: no %s in %s", ErrDaemonNotRunning, tokenFile, dir)
		}
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%w: empty %s", ErrBadConfig, path)
	}
	return tok, nil
}

// readAPIAddr reads the host:port a running daemon wrote into dir.
func readAPIAddr(dir string) (string, error) {
	b, err := readSecret(filepath.Join(dir, apiFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w: no %s file in %s", ErrDaemonNotRunning, apiFile, dir)
		}
		return "", err
	}
	addr := strings.TrimSpace(string(b))
	if addr == "" {
		return "", fmt.Errorf("%w: empty %s file in %s", ErrDaemonNotRunning, apiFile, dir)
	}
	return addr, nil
}

// repoLock is an exclusive advisory lock (flock) on a repository.
type repoLock struct{ f *os.File }

// lockRepo takes the repository's lock without waiting; it fails with
// ErrRepoLocked while another process holds it.
func lockRepo(dir string) (*repoLock, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrRepoLocked, dir)
		}
		return nil, fmt.Errorf("node: lock %s: %w", dir, err)
	}
	return &repoLock{f: f}, nil
}

// unlock releases the lock; closing the file drops the flock.
func (l *repoLock) unlock() error { return l.f.Close() }

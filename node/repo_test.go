package node

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// randomPeerID returns the peer ID of a fresh Ed25519 key.
func randomPeerID(t testing.TB) peer.ID {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestInitRepoCreatesOwnerOnlyFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	r, err := InitRepo(dir, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o700 {
		t.Errorf("repository directory mode %v, want 0700", got)
	}
	for _, name := range []string{identityFile, sealFile, configFile, tokenFile} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := st.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, got)
		}
	}
	tok, err := r.Token()
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 2*tokenBytes {
		t.Errorf("token %q has %d characters, want %d", tok, len(tok), 2*tokenBytes)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		t.Errorf("repository holds %d entries, want 4 (no temporary files left)", len(entries))
	}
}

func TestInitRepoRefusesExistingIdentity(t *testing.T) {
	dir := t.TempDir()
	r1, err := InitRepo(dir, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, identityFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := InitRepo(dir, DefaultConfig()); !errors.Is(err, ErrRepoExists) {
		t.Fatalf("second InitRepo: %v, want ErrRepoExists", err)
	}
	after, err := os.ReadFile(filepath.Join(dir, identityFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("second InitRepo changed the identity")
	}
	r2, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r1.PeerID() != r2.PeerID() {
		t.Fatalf("peer ID changed: %s -> %s", r1.PeerID(), r2.PeerID())
	}
}

func TestOpenRepoLoadsTheSameKeys(t *testing.T) {
	dir := t.TempDir()
	r1, err := InitRepo(dir, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	r2, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r1.PeerID() != r2.PeerID() || r1.DDTAddr() != r2.DDTAddr() {
		t.Fatalf("identity differs after reopening: %s/%s vs %s/%s", r1.PeerID(), r1.DDTAddr(), r2.PeerID(), r2.DDTAddr())
	}
	if !bytes.Equal(r1.SealKey().PublicKey().Bytes(), r2.SealKey().PublicKey().Bytes()) {
		t.Fatal("seal key differs after reopening")
	}
	if r1.DDTAddr().IsZero() {
		t.Fatal("zero DDT address")
	}
}

func TestOpenRepoErrors(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		if _, err := OpenRepo(filepath.Join(t.TempDir(), "none")); !errors.Is(err, ErrNoRepo) {
			t.Fatalf("got %v, want ErrNoRepo", err)
		}
	})
	t.Run("empty directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenRepo(dir); !errors.Is(err, ErrNoRepo) {
			t.Fatalf("got %v, want ErrNoRepo", err)
		}
	})
	t.Run("identity readable by others", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := InitRepo(dir, DefaultConfig()); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, identityFile), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenRepo(dir); !errors.Is(err, ErrRepoPerms) {
			t.Fatalf("got %v, want ErrRepoPerms", err)
		}
	})
	t.Run("directory open to others", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := InitRepo(dir, DefaultConfig()); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenRepo(dir); !errors.Is(err, ErrRepoPerms) {
			t.Fatalf("got %v, want ErrRepoPerms", err)
		}
	})
	t.Run("corrupt identity", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := InitRepo(dir, DefaultConfig()); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, identityFile), []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenRepo(dir); err == nil {
			t.Fatal("opened a repository with a corrupt identity")
		}
	})
}

func TestRepoConfigRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Bootstrap = []string{"/ip4/127.0.0.1/tcp/4001/p2p/" + randomPeerID(t).String()}
	cfg.Limits.ConnHigh = 40
	r, err := InitRepo(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Config()
	if err != nil {
		t.Fatal(err)
	}
	if got.Bootstrap[0] != cfg.Bootstrap[0] || got.Limits.ConnHigh != 40 || got.UDP != DefaultUDP {
		t.Fatalf("config after round trip: %+v", got)
	}
	got.DHTMode = "client"
	if err := r.SetConfig(got); err != nil {
		t.Fatal(err)
	}
	again, err := r.Config()
	if err != nil {
		t.Fatal(err)
	}
	if again.DHTMode != "client" {
		t.Fatalf("dht_mode %q after SetConfig, want client", again.DHTMode)
	}
}

func TestRepoNameAndToken(t *testing.T) {
	dir := t.TempDir()
	r, err := InitRepo(dir, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Name(); err != nil || n != "" {
		t.Fatalf("Name of a new repository = %q, %v; want empty", n, err)
	}
	if err := r.SetName("alice"); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Name(); err != nil || n != "alice" {
		t.Fatalf("Name = %q, %v; want alice", n, err)
	}
	tok1, err := r.Token()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, tokenFile)); err != nil {
		t.Fatal(err)
	}
	tok2, err := r.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok2 == tok1 || tok2 == "" {
		t.Fatalf("recreated token %q, old %q", tok2, tok1)
	}
	if tok3, err := r.Token(); err != nil || tok3 != tok2 {
		t.Fatalf("token not stable: %q then %q (%v)", tok2, tok3, err)
	}
}

func TestRepoLockIsExclusive(t *testing.T) {
	dir := t.TempDir()
	l1, err := lockRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockRepo(dir); !errors.Is(err, ErrRepoLocked) {
		t.Fatalf("second lock: %v, want ErrRepoLocked", err)
	}
	if err := l1.unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := lockRepo(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	l2.unlock()
}

package node

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol"
)

// Files of a repository directory. Every file is 0600, the directory 0700.
const (
	identityFile = "identity.key" // libp2p-marshaled Ed25519 private key
	sealFile     = "seal.key"     // X25519 private key, 32 raw bytes
	configFile   = "config.json"  // Config
	tokenFile    = "api.token"    // API bearer token, hex, one line
	apiFile      = "api"          // the running daemon's API host:port
	nameFile     = "name"         // the username this node keeps published
	lockFile     = "repo.lock"    // flock held while a node runs
	notaryDir    = "notary"       // a bootstrap node's notary state
)

// EnvRepo names the environment variable that sets the default repository
// directory.
const EnvRepo = "VMDT_REPO"

// tokenBytes is the number of random bytes in an API token.
const tokenBytes = 32

// Repo is a node's repository directory: its persistent identity, seal
// key, configuration and API credentials.
type Repo struct {
	dir  string
	priv crypto.PrivKey
	seal *ecdh.PrivateKey
}

// DefaultRepoDir returns $VMDT_REPO, or ~/.vmdt when it is unset.
func DefaultRepoDir() (string, error) {
	if d := os.Getenv(EnvRepo); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("node: no repository directory: set --repo or %s: %w", EnvRepo, err)
	}
	return filepath.Join(home, ".vmdt"), nil
}

// InitRepo creates a repository in dir with a fresh Ed25519 identity, a
// fresh X25519 seal key, cfg as its configuration and a random API token.
// It refuses with ErrRepoExists when dir already holds an identity. The
// identity is written last, so a repository that has one is complete.
func InitRepo(dir string, cfg Config) (*Repo, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("node: create repository: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("node: repository directory: %w", err)
	}
	idPath := filepath.Join(dir, identityFile)
	if _, err := os.Lstat(idPath); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrRepoExists, idPath)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("node: repository: %w", err)
	}

	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("node: generate identity: %w", err)
	}
	seal, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("node: generate seal key: %w", err)
	}
	privBytes, err := crypto.MarshalPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("node: marshal identity: %w", err)
	}
	cfgBytes, err := cfg.Marshal()
	if err != nil {
		return nil, err
	}
	token := make([]byte, tokenBytes)
	if _, err := rand.Read(token); err != nil {
		return nil, fmt.Errorf("node: generate API token: %w", err)
	}

	if err := writeFileAtomic(filepath.Join(dir, sealFile), seal.Bytes()); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, configFile), cfgBytes); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, tokenFile), []byte(hex.EncodeToString(token)+"\n")); err != nil {
		return nil, err
	}
	if err := writeFileExclusive(idPath, privBytes); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%w: %s", ErrRepoExists, idPath)
		}
		return nil, err
	}
	return &Repo{dir: dir, priv: priv, seal: seal}, nil
}

// OpenRepo opens the repository in dir and loads its keys. It returns
// ErrNoRepo when dir has no identity and ErrRepoPerms when the directory
// or a key file is accessible to others than its owner.
func OpenRepo(dir string) (*Repo, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNoRepo, dir)
		}
		return nil, fmt.Errorf("node: repository: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory", ErrNoRepo, dir)
	}
	privBytes, err := readSecret(filepath.Join(dir, identityFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNoRepo, dir)
		}
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %v, want 0700", ErrRepoPerms, dir, st.Mode().Perm())
	}
	priv, err := crypto.UnmarshalPrivateKey(privBytes)
	if err != nil {
		return nil, fmt.Errorf("node: %s: %w", identityFile, err)
	}
	if priv.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("node: %s: key type %v, want Ed25519", identityFile, priv.Type())
	}
	sealBytes, err := readSecret(filepath.Join(dir, sealFile))
	if err != nil {
		return nil, err
	}
	seal, err := ecdh.X25519().NewPrivateKey(sealBytes)
	if err != nil {
		return nil, fmt.Errorf("node: %s: %w", sealFile, err)
	}
	return &Repo{dir: dir, priv: priv, seal: seal}, nil
}

// Dir returns the repository directory.
func (r *Repo) Dir() string { return r.dir }

// PrivKey returns the node's Ed25519 libp2p identity key.
func (r *Repo) PrivKey() crypto.PrivKey { return r.priv }

// SealKey returns the node's X25519 seal key.
func (r *Repo) SealKey() *ecdh.PrivateKey { return r.seal }

// PeerID returns the peer ID of the identity key.
func (r *Repo) PeerID() peer.ID {
	id, err := peer.IDFromPrivateKey(r.priv)
	if err != nil {
		// An Ed25519 key always yields an identity peer ID.
		panic(fmt.Sprintf("node: peer ID of an Ed25519 key: %v", err))
	}
	return id
}

// DDTAddr returns the DDT address of the identity key.
func (r *Repo) DDTAddr() protocol.DDTAddr { return ddtAddrOf(r.priv.GetPublic()) }

// Config reads the repository's configuration file.
func (r *Repo) Config() (Config, error) {
	b, err := os.ReadFile(filepath.Join(r.dir, configFile))
	if err != nil {
		return Config{}, fmt.Errorf("node: %w", err)
	}
	return ParseConfig(b)
}

// SetConfig validates cfg and replaces the configuration file.
func (r *Repo) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	b, err := cfg.Marshal()
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(r.dir, configFile), b)
}

// Token returns the API token, creating a fresh one if the file is
// missing.
func (r *Repo) Token() (string, error) {
	return readToken(r.dir, true)
}

// NotaryDir returns the directory where a bootstrap node keeps its
// notary state.
func (r *Repo) NotaryDir() string { return filepath.Join(r.dir, notaryDir) }

// Name returns the username this node keeps published, or "" if none.
func (r *Repo) Name() (string, error) {
	b, err := os.ReadFile(filepath.Join(r.dir, nameFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("node: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SetName records the username this node keeps published.
func (r *Repo) SetName(name string) error {
	return writeFileAtomic(filepath.Join(r.dir, nameFile), []byte(name+"\n"))
}

// ddtAddrOf returns the DDT address of a libp2p public key.
func ddtAddrOf(pub crypto.PubKey) protocol.DDTAddr {
	b, err := crypto.MarshalPublicKey(pub)
	if err != nil {
		// Marshaling a valid Ed25519 key cannot fail.
		panic(fmt.Sprintf("node: marshal public key: %v", err))
	}
	return protocol.DDTAddrFromPublicKey(b)
}

package friends

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	logging "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/vmdt/vmdt/internal/atomicfile"
	"github.com/vmdt/vmdt/protocol"
)

var log = logging.Logger("vmdt/friends")

// FileName is the name of the Store's file in its directory.
const FileName = "friends.json"

const (
	tempPrefix  = ".tmp-"
	fileVersion = 1
	maxFileLen  = 64 << 20
)

// Defaults for the zero fields of Config.
const (
	DefaultTokenTTL   = 30 * 24 * time.Hour
	DefaultMaxPending = 256
	DefaultMaxRecords = 4096
)

// Config sets up a Store. The zero value of every field but Identity
// means its default.
type Config struct {
	// Identity is this node's key (Ed25519). It signs our requests,
	// responses and tokens, and its DDT address is what incoming requests
	// and tokens must name.
	Identity crypto.PrivKey
	// TokenTTL is the lifetime of the tokens we issue (default 30 days).
	// It bounds how long a friend we dropped can still deposit shares for
	// us at relays, which cannot learn that we dropped them; friends renew
	// tokens with IssueToken before they run out.
	TokenTTL time.Duration
	// MaxPending caps incoming requests awaiting a decision (default 256);
	// further ones get ErrFull.
	MaxPending int
	// MaxRecords caps the records kept (default 4096).
	MaxRecords int
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
}

// Store keeps this node's friend records in dir/friends.json, rewriting
// the file atomically after every change. It is safe for concurrent use.
type Store struct {
	dir    string
	cfg    Config
	self   protocol.DDTAddr
	replay *ReplayWindow

	mu     sync.Mutex
	byName map[string]*Friend // records are replaced, never changed in place
	byAddr map[protocol.DDTAddr]*Friend
}

// stateFile is the JSON layout of friends.json.
type stateFile struct {
	Version int       `json:"version"`
	Friends []*Friend `json:"friends"`
}

// Open loads the Store in dir, creating dir if needed. A missing file is
// an empty Store; a file that does not load is an error wrapping
// ErrCorrupt, so that no consent is silently forgotten.
func Open(dir string, cfg Config) (*Store, error) {
	self, err := signer(cfg.Identity)
	if err != nil {
		return nil, fmt.Errorf("friends: identity: %w", err)
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	cfg.TokenTTL = min(cfg.TokenTTL, MaxTokenLifetime)
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = DefaultMaxRecords
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("friends: %w", err)
	}
	removeTempFiles(dir)
	s := &Store{dir: dir, cfg: cfg, self: protocol.DDTAddrFromPublicKey(self), replay: NewReplayWindow(0)}
	list, err := loadFile(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("friends: %w", err)
	}
	s.byName = make(map[string]*Friend, len(list))
	for _, f := range list {
		if _, dup := s.byName[f.Username]; dup {
			return nil, fmt.Errorf("friends: %w: %s listed twice", ErrCorrupt, f.Username)
		}
		s.byName[f.Username] = f
	}
	if err := s.index(s.byName); err != nil {
		return nil, err
	}
	return s, nil
}

// Self returns this node's DDT address.
func (s *Store) Self() protocol.DDTAddr { return s.self }

func loadFile(path string) ([]*Friend, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileLen+1))
	if err != nil {
		return nil, err
	}
	return decodeState(b)
}

// decodeState parses and validates the contents of friends.json.
func decodeState(b []byte) ([]*Friend, error) {
	if len(b) > maxFileLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrCorrupt, maxFileLen)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var st stateFile
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the state", ErrCorrupt)
	}
	if st.Version != fileVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrCorrupt, st.Version, fileVersion)
	}
	for i, f := range st.Friends {
		if f == nil {
			return nil, fmt.Errorf("%w: record %d is null", ErrCorrupt, i)
		}
		if err := f.check(); err != nil {
			return nil, fmt.Errorf("%w: record %d: %w", ErrCorrupt, i, err)
		}
	}
	return st.Friends, nil
}

// index rebuilds byAddr from byName, checking that addresses are unique.
func (s *Store) index(byName map[string]*Friend) error {
	byAddr := make(map[protocol.DDTAddr]*Friend, len(byName))
	for _, f := range byName {
		if o, dup := byAddr[f.DDT]; dup {
			return fmt.Errorf("friends: %w: %s and %s have one key", ErrCorrupt, o.Username, f.Username)
		}
		byAddr[f.DDT] = f
	}
	s.byName, s.byAddr = byName, byAddr
	return nil
}

// putLocked stores the new version f of a record (or removes the record
// named drop, if drop is not empty), writes the file, and only then
// updates memory: a failed write changes nothing.
func (s *Store) putLocked(f *Friend, drop string) error {
	next := make(map[string]*Friend, len(s.byName)+1)
	for n, g := range s.byName {
		next[n] = g
	}
	if f != nil {
		next[f.Username] = f
	}
	if drop != "" {
		delete(next, drop)
	}
	list := make([]*Friend, 0, len(next))
	for _, g := range next {
		list = append(list, g)
	}
	slices.SortFunc(list, func(a, b *Friend) int { return strings.Compare(a.Username, b.Username) })
	b, err := json.MarshalIndent(stateFile{Version: fileVersion, Friends: list}, "", "\t")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.dir, FileName, append(b, '\n')); err != nil {
		return fmt.Errorf("friends: save: %w", err)
	}
	return s.index(next)
}

// writeFileAtomic replaces dir/name with b (package atomicfile), so a
// crash leaves the old file or the new one.
func writeFileAtomic(dir, name string, b []byte) error {
	return atomicfile.Write(dir, name, tempPrefix+name+"-*", b)
}

// removeTempFiles removes what a crash during a save left behind.
func removeTempFiles(dir string) {
	names, _ := filepath.Glob(filepath.Join(dir, tempPrefix+FileName+"-*"))
	for _, n := range names {
		if err := os.Remove(n); err != nil {
			log.Warnw("cannot remove temp file", "file", filepath.Base(n), "err", err)
		}
	}
}

// now is the Store's clock in UTC without a monotonic reading, so that
// recorded times survive the JSON round trip unchanged.
func (s *Store) now() time.Time { return s.cfg.Clock().UTC().Round(0) }

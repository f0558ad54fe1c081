package delivery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/internal/atomicfile"
	"github.com/vmdt/vmdt/protocol"
)

// Entry describes a message in the inbox.
type Entry struct {
	// ID names the entry in the inbox: 16 hex characters, the sender's
	// message id unless another sender's message holds that id (then an
	// alias, see Inbox.Put).
	ID        string    `json:"id"`
	MessageID string    `json:"message_id"` // the sender's message id
	From      string    `json:"from"`       // the sender's username, or its DDT address
	Src       string    `json:"src"`        // the sender's DDT address
	Size      int       `json:"size"`
	Received  time.Time `json:"received"`
	Used      []int     `json:"shares_used"`               // the shares it was decoded from
	Rejected  []int     `json:"shares_rejected,omitempty"` // shares found altered or forged
	// A file sent in chunks (see SendFile): its sanitized name and file
	// id; Used and Rejected are those of its last chunk.
	Name   string `json:"name,omitempty"`
	FileID string `json:"file_id,omitempty"`
}

// Inbox stores received messages in a directory: for entry id, id.msg
// holds the bytes and id.json the Entry. Each file is written to a
// temporary file, synced and renamed; the .json is written last, so a
// message exists once its .json does. aliasKeyFile holds the key of the
// aliases (Put).
type Inbox struct {
	dir      string
	aliasKey []byte
	mu       sync.Mutex
}

const (
	inboxDir = "inbox"
	msgExt   = ".msg"
	metaExt  = ".json"
	tmpMark  = ".tmp-"

	aliasKeyFile = "alias.key"
	aliasKeyLen  = 32
	// maxAliases bounds the aliases tried for one message; a second
	// one is needed only if two 64-bit aliases collide.
	maxAliases = 3
)

// OpenInbox opens the inbox in dir/inbox, creating it if needed, and
// removes temporary files a crash left behind.
func OpenInbox(dir string) (*Inbox, error) {
	d := filepath.Join(dir, inboxDir)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return nil, fmt.Errorf("delivery: inbox: %w", err)
	}
	names, err := os.ReadDir(d)
	if err != nil {
		return nil, fmt.Errorf("delivery: inbox: %w", err)
	}
	for _, n := range names {
		if strings.Contains(n.Name(), tmpMark) {
			_ = os.Remove(filepath.Join(d, n.Name()))
		}
	}
	key, err := loadAliasKey(d)
	if err != nil {
		return nil, fmt.Errorf("delivery: inbox: %w", err)
	}
	return &Inbox{dir: d, aliasKey: key}, nil
}

// loadAliasKey reads the inbox's alias key from dir, making one the first
// time.
func loadAliasKey(dir string) ([]byte, error) {
	key, err := os.ReadFile(filepath.Join(dir, aliasKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, aliasKeyLen)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		return key, writeAtomic(filepath.Join(dir, aliasKeyFile), key)
	}
	if err == nil && len(key) != aliasKeyLen {
		err = fmt.Errorf("%s has %d bytes, want %d", aliasKeyFile, len(key), aliasKeyLen)
	}
	return key, err
}

func (b *Inbox) path(id, ext string) (string, error) {
	if _, err := protocol.ParseMessageID(id); err != nil {
		return "", fmt.Errorf("%w: id %q", ErrNotFound, id)
	}
	return filepath.Join(b.dir, id+ext), nil
}

// Put stores msg from e.Src, message id e.ID, and returns the entry as
// stored. It fails with ErrExists if the inbox holds that message already
// (same source and message id): a duplicate.
//
// Message ids are the senders' choice, and a relay sees the ids of the
// messages it relays. So that a friend who relayed someone else's message
// cannot take its id first and have the real one dropped as a duplicate,
// the entry's id is the message id only while no other sender's message
// holds it; otherwise it is an alias, a keyed hash of the source and
// message id (HMAC-SHA-256 under the inbox's own key, so nobody else can
// compute it), and Entry.MessageID keeps the sender's id.
func (b *Inbox) Put(e Entry, msg []byte) (Entry, error) {
	return b.put(e, func(body string) error { return writeAtomic(body, msg) })
}

// put stores e, writing its body with write, under the id Put describes.
func (b *Inbox) put(e Entry, write func(body string) error) (Entry, error) {
	if e.MessageID == "" {
		e.MessageID = e.ID
	}
	if _, err := protocol.ParseMessageID(e.MessageID); err != nil {
		return Entry{}, fmt.Errorf("%w: id %q", ErrNotFound, e.MessageID)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range maxAliases + 1 {
		e.ID = e.MessageID
		if i > 0 {
			e.ID = b.alias(e.Src, e.MessageID, i)
		}
		held, err := b.Entry(e.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			return e, b.write(e, write)
		case err != nil:
			return Entry{}, err
		case held.Src == e.Src && held.messageID() == e.MessageID:
			return Entry{}, fmt.Errorf("%w: %s", ErrExists, e.ID)
		}
	}
	return Entry{}, fmt.Errorf("delivery: inbox: message %s and its aliases are all taken", e.MessageID)
}

// write stores e, with its body written by write, under e.ID.
func (b *Inbox) write(e Entry, write func(body string) error) error {
	meta, _ := b.path(e.ID, metaExt)
	body, _ := b.path(e.ID, msgExt)
	js, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := write(body); err != nil {
		return err
	}
	return writeAtomic(meta, js)
}

// alias returns the i-th alias of message id from src.
func (b *Inbox) alias(src, id string, i int) string {
	m := hmac.New(sha256.New, b.aliasKey)
	fmt.Fprintf(m, "vmdt inbox alias\x00%s\x00%s\x00%d", src, id, i)
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// messageID is the sender's message id of e; entries stored before
// MessageID existed have it as their ID.
func (e Entry) messageID() string {
	if e.MessageID != "" {
		return e.MessageID
	}
	return e.ID
}

// Get returns the entry and bytes of message id, or ErrNotFound.
func (b *Inbox) Get(id string) (Entry, []byte, error) {
	meta, err := b.path(id, metaExt)
	if err != nil {
		return Entry{}, nil, err
	}
	body, _ := b.path(id, msgExt)
	js, err := os.ReadFile(meta)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Entry{}, nil, err
	}
	var e Entry
	if err := json.Unmarshal(js, &e); err != nil {
		return Entry{}, nil, fmt.Errorf("delivery: inbox entry %s: %w", id, err)
	}
	msg, err := os.ReadFile(body)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("delivery: inbox message %s: %w", id, err)
	}
	return e, msg, nil
}

// List returns the entries, oldest first.
func (b *Inbox) List() ([]Entry, error) {
	names, err := os.ReadDir(b.dir)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, n := range names {
		id, ok := strings.CutSuffix(n.Name(), metaExt)
		if !ok || strings.Contains(id, tmpMark) {
			continue
		}
		e, err := b.Entry(id) // not the body: a file may be large
		if err != nil {
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return a.Received.Compare(b.Received) })
	return out, nil
}

// writeAtomic replaces path with b (package atomicfile), through a
// temporary file whose name carries tmpMark so Open can sweep leftovers.
func writeAtomic(path string, b []byte) error {
	return atomicfile.Write(filepath.Dir(path), filepath.Base(path), filepath.Base(path)+tmpMark+"*", b)
}

// ddtOfPeer derives the DDT address of a peer from the key its id embeds.
func ddtOfPeer(p peer.ID) (protocol.DDTAddr, error) {
	pub, err := p.ExtractPublicKey()
	if err != nil {
		return protocol.DDTAddr{}, err
	}
	return ddtOfKey(pub)
}

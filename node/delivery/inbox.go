package delivery

import (
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
	ID       string    `json:"id"`   // message id, 16 hex characters
	From     string    `json:"from"` // the sender's username, or its DDT address
	Src      string    `json:"src"`  // the sender's DDT address
	Size     int       `json:"size"`
	Received time.Time `json:"received"`
	Used     []int     `json:"shares_used"`               // the shares it was decoded from
	Rejected []int     `json:"shares_rejected,omitempty"` // shares found altered or forged
	// A file sent in chunks (see SendFile): its sanitized name and file
	// id; Used and Rejected are those of its last chunk.
	Name   string `json:"name,omitempty"`
	FileID string `json:"file_id,omitempty"`
}

// Inbox stores received messages in a directory: for message id, id.msg
// holds the bytes and id.json the Entry. Each file is written to a
// temporary file, synced and renamed; the .json is written last, so a
// message exists once its .json does.
type Inbox struct {
	dir string
	mu  sync.Mutex
}

const (
	inboxDir = "inbox"
	msgExt   = ".msg"
	metaExt  = ".json"
	tmpMark  = ".tmp-"
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
	return &Inbox{dir: d}, nil
}

func (b *Inbox) path(id, ext string) (string, error) {
	if _, err := protocol.ParseMessageID(id); err != nil {
		return "", fmt.Errorf("%w: id %q", ErrNotFound, id)
	}
	return filepath.Join(b.dir, id+ext), nil
}

// Put stores msg under e.ID. It fails with ErrExists if the id is taken.
func (b *Inbox) Put(e Entry, msg []byte) error {
	meta, err := b.path(e.ID, metaExt)
	if err != nil {
		return err
	}
	body, _ := b.path(e.ID, msgExt)
	js, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := os.Stat(meta); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, e.ID)
	}
	if err := writeAtomic(body, msg); err != nil {
		return err
	}
	return writeAtomic(meta, js)
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

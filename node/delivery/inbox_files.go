package delivery

import (
	"encoding/json"
	"fmt"
	"os"
)

// PutFile stores the file at path as Put stores a message, moving it
// into the inbox (path must be on the inbox's file system), so that a
// large file is never read into memory.
func (b *Inbox) PutFile(e Entry, path string) (Entry, error) {
	return b.put(e, func(body string) error {
		if err := os.Rename(path, body); err != nil {
			return fmt.Errorf("delivery: inbox file: %w", err)
		}
		return nil
	})
}

// Open opens the body of message id for reading, for entries too large
// to Get into memory.
func (b *Inbox) Open(id string) (*os.File, error) {
	body, err := b.path(id, msgExt)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(body)
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return f, err
}

// Entry returns the entry of message id without reading its body, or
// ErrNotFound.
func (b *Inbox) Entry(id string) (Entry, error) {
	meta, err := b.path(id, metaExt)
	if err != nil {
		return Entry{}, err
	}
	js, err := os.ReadFile(meta)
	if os.IsNotExist(err) {
		return Entry{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := json.Unmarshal(js, &e); err != nil {
		return Entry{}, fmt.Errorf("delivery: inbox entry %s: %w", id, err)
	}
	return e, nil
}

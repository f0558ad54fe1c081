package delivery

import (
	"errors"
	"testing"
	"time"
)

// The inbox refuses an id it holds, also after it is opened again (as
// after a restart, when the engine no longer remembers the message), and
// keeps the first message.
func TestInboxRefusesHeldID(t *testing.T) {
	dir := t.TempDir()
	b, err := OpenInbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := Entry{ID: "0123456789abcdef", From: "alice", Size: 5, Received: time.Unix(1, 0).UTC()}
	if _, err := b.Put(e, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(e, []byte("again")); !errors.Is(err, ErrExists) {
		t.Fatalf("second Put: %v, want ErrExists", err)
	}
	if b, err = OpenInbox(dir); err != nil {
		t.Fatal(err)
	}
	e2 := e
	e2.Received = time.Unix(2, 0).UTC()
	if _, err := b.Put(e2, []byte("again")); !errors.Is(err, ErrExists) {
		t.Fatalf("Put after reopening: %v, want ErrExists", err)
	}
	got, body, err := b.Get(e.ID)
	if err != nil || string(body) != "first" || !got.Received.Equal(e.Received) {
		t.Fatalf("Get: %+v %q %v; want the first message", got, body, err)
	}
	if l, _ := b.List(); len(l) != 1 {
		t.Fatalf("%d entries, want 1", len(l))
	}
}

package delivery

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/control"
)

func cand(name, ip string) candidate {
	a := &net.UDPAddr{IP: net.ParseIP(ip), Port: 4000}
	return candidate{peer: peer.ID(name), ep: control.PeerEndpoint{UDPAddr: a}, prefix: prefixOf(a)}
}

func peersOf(cs []candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.peer))
	}
	return out
}

func TestChooseDiverse(t *testing.T) {
	cands := []candidate{
		cand("a1", "10.0.0.1"), cand("a2", "10.0.0.2"), cand("a3", "10.0.0.3"),
		cand("b1", "10.0.1.1"), cand("b2", "10.0.1.2"),
		cand("c1", "192.168.7.9"),
		cand("v6a", "2001:db8:1::1"), cand("v6b", "2001:db8:1:2::1"), // same /48
	}
	cases := []struct {
		n    int
		want []string
	}{
		{1, []string{"a1"}},
		{4, []string{"a1", "b1", "c1", "v6a"}},
		{6, []string{"a1", "b1", "c1", "v6a", "a2", "b2"}},
		{8, []string{"a1", "b1", "c1", "v6a", "a2", "b2", "v6b", "a3"}},
		{10, []string{"a1", "b1", "c1", "v6a", "a2", "b2", "v6b", "a3"}},
	}
	for _, c := range cases {
		if got := peersOf(chooseDiverse(cands, c.n)); !slices.Equal(got, c.want) {
			t.Errorf("n=%d: %v, want %v", c.n, got, c.want)
		}
	}
}

func TestInbox(t *testing.T) {
	dir := t.TempDir()
	b, err := OpenInbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	e1 := Entry{ID: "0102030405060708", From: "alice", Src: "aa", Size: 3, Received: time.Unix(100, 0).UTC(), Used: []int{1, 2}}
	e2 := Entry{ID: "0807060504030201", From: "bob", Src: "bb", Size: 0, Received: time.Unix(50, 0).UTC(), Used: []int{2, 3}, Rejected: []int{1}}
	if s, err := b.Put(e1, []byte("hi!")); err != nil || s.ID != e1.ID || s.MessageID != e1.ID {
		t.Fatalf("put: stored as %+v, %v", s, err)
	}
	if _, err := b.Put(e2, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(e1, []byte("other")); !errors.Is(err, ErrExists) {
		t.Fatalf("second put: %v, want ErrExists", err)
	}
	got, msg, err := b.Get(e1.ID)
	if err != nil || string(msg) != "hi!" || got.From != "alice" || !slices.Equal(got.Used, e1.Used) || !got.Received.Equal(e1.Received) {
		t.Fatalf("get: %+v %q %v", got, msg, err)
	}
	for _, id := range []string{"0000000000000000", "../../etc/passwd", ""} {
		if _, _, err := b.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("get %q: %v, want ErrNotFound", id, err)
		}
	}
	// A crash left a temporary file: reopening removes it, and List
	// ignores it meanwhile.
	tmp := filepath.Join(dir, inboxDir, "1111111111111111.json"+tmpMark+"1")
	if err := os.WriteFile(tmp, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := b.List()
	if err != nil || len(l) != 2 || l[0].ID != e2.ID || l[1].ID != e1.ID {
		t.Fatalf("list: %+v %v", l, err)
	}
	b2, err := OpenInbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file survived reopening: %v", err)
	}
	if _, msg, err := b2.Get(e1.ID); err != nil || string(msg) != "hi!" {
		t.Fatalf("after reopening: %q %v", msg, err)
	}
}

// TestInboxIDTakenByAnotherSender: mallory, who relayed alice's message
// and so knows its id, sends a message with that id first. Alice's
// message is still stored, under an alias that mallory cannot compute;
// a replay of either is a duplicate; the alias stays the same after the
// inbox is reopened, and another inbox gives another alias.
func TestInboxIDTakenByAnotherSender(t *testing.T) {
	dir := t.TempDir()
	b, err := OpenInbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	const id = "0102030405060708"
	fromMallory := Entry{ID: id, From: "mallory", Src: "mm", Size: 4}
	fromAlice := Entry{ID: id, From: "alice", Src: "aa", Size: 5}
	if _, err := b.Put(fromMallory, []byte("fake")); err != nil {
		t.Fatal(err)
	}
	stored, err := b.Put(fromAlice, []byte("hello"))
	if err != nil {
		t.Fatalf("alice's message after mallory took its id: %v", err)
	}
	if stored.ID == id || stored.MessageID != id || stored.Src != "aa" {
		t.Fatalf("alice's message stored as %+v, want an alias with message id %s", stored, id)
	}
	got, msg, err := b.Get(stored.ID)
	if err != nil || string(msg) != "hello" || got.MessageID != id || got.From != "alice" {
		t.Fatalf("alice's entry: %+v %q %v", got, msg, err)
	}
	if got, msg, err := b.Get(id); err != nil || string(msg) != "fake" || got.Src != "mm" {
		t.Fatalf("mallory's entry: %+v %q %v", got, msg, err)
	}
	for _, e := range []Entry{fromAlice, fromMallory} {
		if _, err := b.Put(e, []byte("again")); !errors.Is(err, ErrExists) {
			t.Errorf("replay of %s's message: %v, want ErrExists", e.From, err)
		}
	}
	if l, err := b.List(); err != nil || len(l) != 2 {
		t.Fatalf("list: %+v %v, want 2 entries", l, err)
	}

	b2, err := OpenInbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b2.Put(fromAlice, []byte("hello")); !errors.Is(err, ErrExists) {
		t.Fatalf("alice's message after reopening: %v, want ErrExists (same alias)", err)
	}
	other, err := OpenInbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if a1, a2 := b.alias("aa", id, 1), other.alias("aa", id, 1); a1 != stored.ID || a1 == a2 {
		t.Fatalf("aliases %s (this inbox) and %s (another), stored %s: want this inbox's, unique to it", a1, a2, stored.ID)
	}
	if err := os.WriteFile(filepath.Join(dir, inboxDir, aliasKeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenInbox(dir); err == nil {
		t.Fatal("an inbox with a 5-byte alias key opened")
	}
}

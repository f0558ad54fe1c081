package friends

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// user is one node's side in the store tests.
type user struct {
	name  string
	priv  crypto.PrivKey
	dir   string
	store *Store
}

func newUser(t *testing.T, name string, seed byte, c *clock) *user {
	t.Helper()
	u := &user{name: name, priv: key(t, seed), dir: t.TempDir()}
	u.store = u.open(t, c)
	return u
}

func (u *user) open(t *testing.T, c *clock) *Store {
	t.Helper()
	s, err := Open(u.dir, Config{Identity: u.priv, Clock: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (u *user) pub(t *testing.T) []byte { return pubBytes(t, u.priv) }

// wire sends m through its encoding, as the node would.
func wireRequest(t *testing.T, r *FriendRequest) *FriendRequest {
	t.Helper()
	p, err := ParseFriendRequest(mustMarshal(t, r))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func wireResponse(t *testing.T, r *FriendResponse) *FriendResponse {
	t.Helper()
	p, err := ParseFriendResponse(mustMarshal(t, r))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPendingLimit(t *testing.T) {
	c := &clock{t: t0}
	dir := t.TempDir()
	rita := key(t, 1)
	s, err := Open(dir, Config{Identity: rita, Clock: c.Now, MaxPending: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"a", "b", "c"} {
		req, err := NewFriendRequest(key(t, byte(10+i)), name, "rita", s.Self(), t0, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.AddIncoming(req)
		if i < 2 && err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			wantErr(t, err, ErrFull)
		}
	}
	if err := s.Deny("a"); err != nil {
		t.Fatal(err)
	}
	req, _ := NewFriendRequest(key(t, 12), "c", "rita", s.Self(), t0, nil)
	if _, err := s.AddIncoming(req); err != nil {
		t.Fatalf("room after a decision: %v", err)
	}
}

func TestStorePersists(t *testing.T) {
	c := &clock{t: t0}
	sam, rita := newUser(t, "sam", 2, c), newUser(t, "rita", 1, c)
	req, _ := sam.store.AddOutgoing("sam", "rita", rita.pub(t))
	if _, err := rita.store.AddIncoming(req); err != nil {
		t.Fatal(err)
	}
	resp, _ := rita.store.Accept("sam")
	if _, err := sam.store.ApplyResponse(resp); err != nil {
		t.Fatal(err)
	}
	other, _ := NewFriendRequest(key(t, 7), "olga", "rita", rita.store.Self(), t0, nil)
	if _, err := rita.store.AddIncoming(other); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*user{sam, rita} {
		before := u.store.List()
		reopened := u.open(t, c)
		if after := reopened.List(); !reflect.DeepEqual(after, before) {
			t.Fatalf("%s after reopening:\n got %+v\nwant %+v", u.name, after, before)
		}
	}
	s2 := sam.open(t, c)
	if !s2.IsFriend(rita.store.Self()) {
		t.Fatal("friendship lost")
	}
	if _, ok := s2.TokenFor(rita.store.Self()); !ok {
		t.Fatal("token lost")
	}
	r2 := rita.open(t, c)
	if f, _ := r2.Get("olga"); f.Incoming != InPending {
		t.Fatalf("olga: %+v", f)
	}
	// The store file is not world-readable.
	fi, err := os.Stat(filepath.Join(rita.dir, FileName))
	if err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
}

func TestOpenRejectsCorruptFile(t *testing.T) {
	c := &clock{t: t0}
	rita := newUser(t, "rita", 1, c)
	req, _ := NewFriendRequest(key(t, 2), "sam", "rita", rita.store.Self(), t0, nil)
	if _, err := rita.store.AddIncoming(req); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(rita.dir, FileName)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	samAddr := addrOf(t, key(t, 2)).String()
	for name, content := range map[string]string{
		"truncated":     string(good[:len(good)/2]),
		"not json":      "garbage",
		"version 2":     `{"version":2,"friends":[]}`,
		"unknown field": `{"version":1,"friends":[],"extra":1}`,
		"null record":   `{"version":1,"friends":[null]}`,
		"wrong address": replaceOnce(string(good), samAddr, addrOf(t, key(t, 3)).String()),
		"bad state":     replaceOnce(string(good), `"pending"`, `"maybe"`),
		"bad name":      replaceOnce(string(good), `"sam"`, `"Sam"`),
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(rita.dir, Config{Identity: rita.priv, Clock: c.Now}); !errorsIs(err, ErrCorrupt) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// A temp file from a crashed save is removed; the real file is used.
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(rita.dir, tempPrefix+FileName+"-123")
	if err := os.WriteFile(tmp, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := rita.open(t, c)
	if _, ok := s.Get("sam"); !ok {
		t.Fatal("record lost")
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("temp file kept: %v", err)
	}
}

// A failed save changes nothing in memory.
func TestFailedSaveKeepsState(t *testing.T) {
	c := &clock{t: t0}
	rita := newUser(t, "rita", 1, c)
	path := filepath.Join(rita.dir, FileName)
	// A non-empty directory where the file goes makes the rename fail.
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	req, _ := NewFriendRequest(key(t, 2), "sam", "rita", rita.store.Self(), t0, nil)
	if _, err := rita.store.AddIncoming(req); err == nil {
		t.Fatal("save into a directory succeeded")
	}
	if got := rita.store.List(); len(got) != 0 {
		t.Fatalf("memory changed: %+v", got)
	}
}

func TestOpenNeedsEd25519Identity(t *testing.T) {
	_, err := Open(t.TempDir(), Config{})
	wantErr(t, err, ErrUnsupportedKey)
}

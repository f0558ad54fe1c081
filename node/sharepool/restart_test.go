package sharepool

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestRestartKeepsShares(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	p := openPool(t, dir, c, Limits{TTL: time.Hour})
	es := []Entry{share(1, 0xa, 0xd, 1, "one"), share(1, 0xa, 0xd, 2, "two"), share(2, 0xb, 0xe, 1, "three")}
	mustAdd(t, p, es[0])
	c.Advance(time.Minute)
	mustAdd(t, p, es[1:]...)
	wantD, wantE := claim(t, p, addr(0xd), nil), claim(t, p, addr(0xe), nil)
	usage, sender := p.Usage(), p.SenderUsage(addr(0xa))
	p.Close()

	q := openPool(t, dir, c, Limits{TTL: time.Hour})
	if got := claim(t, q, addr(0xd), nil); !reflect.DeepEqual(got, wantD) {
		t.Fatalf("after restart:\n got %+v\nwant %+v", got, wantD)
	}
	if got := claim(t, q, addr(0xe), nil); !reflect.DeepEqual(got, wantE) {
		t.Fatalf("after restart: got %+v", got)
	}
	if q.Usage() != usage || q.SenderUsage(addr(0xa)) != sender {
		t.Fatalf("usage %+v/%+v, want %+v/%+v", q.Usage(), q.SenderUsage(addr(0xa)), usage, sender)
	}
	// The rebuilt accounting enforces limits and duplicates.
	mustAdd(t, q, es[0])
	if q.Usage() != usage {
		t.Fatal("re-adding a restored share changed usage")
	}
	q.Close()

	// Expired while down: dropped and removed on Open.
	c.Advance(time.Hour - time.Minute)
	r := openPool(t, dir, c, Limits{TTL: time.Hour})
	sameShares(t, claim(t, r, addr(0xd), nil), es[1])
	if u := r.Usage(); u.Entries != 2 {
		t.Fatalf("usage %+v", u)
	}
	if files := shareFiles(t, dir); len(files) != 2 {
		t.Fatalf("files %v", files)
	}
}

func TestOpenSkipsAndRemovesBadFiles(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	p := openPool(t, dir, c, Limits{})
	good := share(1, 0xa, 0xd, 1, "good")
	flipped := share(2, 0xa, 0xd, 1, "flipped")
	cut := share(3, 0xa, 0xd, 1, "cut short")
	moved := share(4, 0xa, 0xd, 1, "moved")
	mustAdd(t, p, good, flipped, cut, moved)
	p.Close()

	path := func(e Entry) string { return filepath.Join(dir, e.key().fileName()) }
	edit := func(e Entry, f func([]byte) []byte) {
		b, err := os.ReadFile(path(e))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path(e), f(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	edit(flipped, func(b []byte) []byte { b[HeaderLen] ^= 1; return b })
	edit(cut, func(b []byte) []byte { return b[:len(b)-3] })
	// A valid entry under another entry's name.
	b, err := os.ReadFile(path(moved))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path(moved)); err != nil {
		t.Fatal(err)
	}
	other := share(5, 0xa, 0xd, 1, "x")
	renamed := filepath.Join(dir, other.key().fileName())
	junk := map[string][]byte{
		tempPrefix + "123":                       b, // a write cut off before its rename
		"00000000000000000000000000000000.share": []byte("garbage"),
		"empty.share":                            nil,
	}
	for name, content := range junk {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(renamed, b, 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "README")
	if err := os.WriteFile(foreign, []byte("not ours"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.share"), 0o700); err != nil {
		t.Fatal(err)
	}

	q := openPool(t, dir, c, Limits{})
	sameShares(t, claim(t, q, addr(0xd), nil), good)
	if u := q.Usage(); u.Entries != 1 {
		t.Fatalf("usage %+v", u)
	}
	if files := shareFiles(t, dir); len(files) != 2 || !contains(files, good.key().fileName()) {
		t.Fatalf("files %v, want the good one and the directory", files)
	}
	gone := []string{path(flipped), path(cut), renamed}
	for name := range junk {
		gone = append(gone, filepath.Join(dir, name))
	}
	for _, gone := range gone {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s not removed: %v", filepath.Base(gone), err)
		}
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Fatalf("foreign file touched: %v", err)
	}
}

func TestClaimDropsFileCorruptedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	p := openPool(t, dir, newClock(), Limits{})
	good, bad := share(1, 0xa, 0xd, 1, "good"), share(2, 0xa, 0xd, 1, "bad")
	mustAdd(t, p, good, bad)
	path := filepath.Join(dir, bad.key().fileName())
	if err := os.WriteFile(path, []byte("rot"), 0o600); err != nil {
		t.Fatal(err)
	}
	sameShares(t, claim(t, p, addr(0xd), nil), good)
	if u := p.Usage(); u.Entries != 1 {
		t.Fatalf("usage %+v", u)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("corrupt file kept: %v", err)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

package sharepool

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAddClaimDelete(t *testing.T) {
	c := newClock()
	p := openPool(t, t.TempDir(), c, Limits{})
	a1 := share(1, 0xa, 0xd, 1, "m1 share 1")
	c.Advance(time.Second)
	b2 := share(2, 0xb, 0xd, 2, "m2 share 2")
	c.Advance(time.Second)
	b3 := share(2, 0xb, 0xd, 3, "m2 share 3")
	other := share(1, 0xa, 0xe, 2, "for someone else")
	mustAdd(t, p, a1)
	c.Advance(time.Second)
	mustAdd(t, p, b2)
	c.Advance(time.Second)
	mustAdd(t, p, b3, other)

	all := claim(t, p, addr(0xd), nil)
	sameShares(t, all, a1, b2, b3)
	if !all[0].Added.Equal(c.Now().Add(-2*time.Second)) || !all[0].Expires.Equal(all[0].Added.Add(DefaultTTL)) {
		t.Fatalf("times: added %v expires %v", all[0].Added, all[0].Expires)
	}
	m2 := msg(2)
	sameShares(t, claim(t, p, addr(0xd), &m2), b2, b3)
	sameShares(t, claim(t, p, addr(0xe), nil), other)
	if got := claim(t, p, addr(0xa), nil); len(got) != 0 {
		t.Fatalf("the source claimed %d shares", len(got))
	}
	// Claim leaves shares in place.
	sameShares(t, claim(t, p, addr(0xd), nil), a1, b2, b3)

	if err := p.Delete(addr(0xd), m2, 2); err != nil {
		t.Fatal(err)
	}
	wantErr(t, p.Delete(addr(0xd), m2, 2), ErrNotFound)
	wantErr(t, p.Delete(addr(0xe), m2, 3), ErrNotFound) // wrong receiver
	sameShares(t, claim(t, p, addr(0xd), nil), a1, b3)
	if u := p.Usage(); u.Entries != 3 || u.Bytes != 3*BlockSize {
		t.Fatalf("usage %+v", u)
	}
	if u := p.SenderUsage(addr(0xb)); u.Entries != 1 {
		t.Fatalf("sender usage %+v", u)
	}
	if u := p.RecipientUsage(addr(0xd)); u.Entries != 2 {
		t.Fatalf("recipient usage %+v", u)
	}
	if files := shareFiles(t, p.dir); len(files) != 3 {
		t.Fatalf("%d files on disk", len(files))
	}
}

func TestTake(t *testing.T) {
	c := newClock()
	p := openPool(t, t.TempDir(), c, Limits{})
	var es []Entry
	for i := byte(1); i <= 3; i++ {
		es = append(es, share(i, 0xa, 0xd, 1, "x"))
		mustAdd(t, p, es[i-1])
		c.Advance(time.Second)
	}
	got, err := p.Take(addr(0xd), nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	sameShares(t, got, es[0], es[1])
	sameShares(t, claim(t, p, addr(0xd), nil), es[2])
	if u := p.Usage(); u.Entries != 1 {
		t.Fatalf("usage %+v", u)
	}
	got, _ = p.Take(addr(0xd), nil, 0)
	sameShares(t, got, es[2])
	if files := shareFiles(t, p.dir); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
}

func TestDuplicateIsIdempotent(t *testing.T) {
	c := newClock()
	p := openPool(t, t.TempDir(), c, Limits{})
	e := share(1, 0xa, 0xd, 1, "share")
	mustAdd(t, p, e)
	c.Advance(time.Hour)
	mustAdd(t, p, e) // a retry
	got := claim(t, p, addr(0xd), nil)
	if len(got) != 1 || !got[0].Added.Equal(c.Now().Add(-time.Hour)) {
		t.Fatalf("retry changed the entry: %+v", got)
	}
	if u := p.Usage(); u.Entries != 1 {
		t.Fatalf("usage %+v", u)
	}
	diff := e
	diff.Data = []byte("other")
	wantErr(t, p.Add(diff), ErrExists)
	diff = e
	diff.N = 4
	wantErr(t, p.Add(diff), ErrExists)
	sameShares(t, claim(t, p, addr(0xd), nil), e)
}

func TestAddRejectsInvalid(t *testing.T) {
	p := openPool(t, t.TempDir(), newClock(), Limits{MaxShareLen: 8})
	good := share(1, 0xa, 0xd, 1, "12345678")
	mustAdd(t, p, good)
	for name, edit := range map[string]func(*Entry){
		"k 1":          func(e *Entry) { e.K = 1 },
		"k > n":        func(e *Entry) { e.K, e.N = 3, 2 },
		"index 0":      func(e *Entry) { e.ShareIndex = 0 },
		"index > n":    func(e *Entry) { e.ShareIndex = 4 },
		"zero src":     func(e *Entry) { e.Src = addr(0) },
		"zero dst":     func(e *Entry) { e.Dst = addr(0) },
		"empty":        func(e *Entry) { e.Data = nil },
		"too long":     func(e *Entry) { e.Data = []byte("123456789") },
		"expired":      func(e *Entry) { e.Expires = time.Unix(1, 0) },
		"expires past": func(e *Entry) { e.Expires = newClock().Now().Add(-time.Nanosecond) },
	} {
		e := share(2, 0xa, 0xd, 1, "x")
		edit(&e)
		if err := p.Add(e); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if u := p.Usage(); u.Entries != 1 {
		t.Fatalf("usage %+v", u)
	}
}

func TestEarlierExpiryIsKept(t *testing.T) {
	c := newClock()
	p := openPool(t, t.TempDir(), c, Limits{TTL: time.Hour})
	e := share(1, 0xa, 0xd, 1, "x")
	e.Expires = c.Now().Add(time.Minute)
	mustAdd(t, p, e)
	late := share(2, 0xa, 0xd, 1, "x")
	late.Expires = c.Now().Add(48 * time.Hour) // capped at the TTL
	mustAdd(t, p, late)
	got := claim(t, p, addr(0xd), nil)
	if !got[0].Expires.Equal(e.Expires) || !got[1].Expires.Equal(c.Now().Add(time.Hour)) {
		t.Fatalf("expiries %v, %v", got[0].Expires, got[1].Expires)
	}
}

func TestLimitsRefuseWithoutEviction(t *testing.T) {
	for _, tc := range []struct {
		limit Limit
		lim   Limits
		// next is the share that must be refused after the pool holds
		// filler; then ok must still fit.
		next, ok Entry
	}{
		{LimitPerSender, Limits{PerSender: 2 * BlockSize},
			share(9, 0xa, 0xf, 1, "x"), share(9, 0xb, 0xf, 1, "x")},
		{LimitPerRecipient, Limits{PerRecipient: 2 * BlockSize},
			share(9, 0xb, 0xd, 1, "x"), share(9, 0xb, 0xf, 1, "x")},
		{LimitTotal, Limits{Total: 3 * BlockSize},
			share(9, 0xb, 0xf, 1, "x"), Entry{}},
		{LimitEntries, Limits{MaxEntries: 3},
			share(9, 0xb, 0xf, 1, "x"), Entry{}},
	} {
		t.Run(string(tc.limit), func(t *testing.T) {
			c := newClock()
			p := openPool(t, t.TempDir(), c, tc.lim)
			filler := []Entry{share(1, 0xa, 0xd, 1, "x"), share(1, 0xa, 0xd, 2, "x")}
			if tc.limit == LimitTotal || tc.limit == LimitEntries {
				filler = append(filler, share(1, 0xc, 0xe, 1, "x"))
			}
			mustAdd(t, p, filler...)
			before := p.Usage()
			err := p.Add(tc.next)
			wantErr(t, err, ErrFull)
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != tc.limit || !strings.Contains(err.Error(), string(tc.limit)) {
				t.Fatalf("err = %v, want the %s limit named", err, tc.limit)
			}
			if p.Usage() != before {
				t.Fatalf("usage changed from %+v to %+v", before, p.Usage())
			}
			sameShares(t, claim(t, p, addr(0xd), nil), filler[:2]...)
			if tc.ok.N != 0 {
				mustAdd(t, p, tc.ok)
			}
			// Room comes back when shares go.
			if err := p.Delete(addr(0xd), msg(1), 1); err != nil {
				t.Fatal(err)
			}
			mustAdd(t, p, tc.next)
		})
	}
}

func TestExpiry(t *testing.T) {
	c := newClock()
	p := openPool(t, t.TempDir(), c, Limits{TTL: time.Hour, PerSender: 2 * BlockSize})
	old := share(1, 0xa, 0xd, 1, "old")
	mustAdd(t, p, old)
	c.Advance(30 * time.Minute)
	young := share(2, 0xa, 0xd, 1, "young")
	mustAdd(t, p, young)

	c.Advance(30*time.Minute - time.Nanosecond)
	sameShares(t, claim(t, p, addr(0xd), nil), old, young)
	c.Advance(time.Nanosecond)
	// Expired shares are never returned, even before Expire runs.
	sameShares(t, claim(t, p, addr(0xd), nil), young)
	got, _ := p.Take(addr(0xd), nil, 0)
	sameShares(t, got, young)
	mustAdd(t, p, young)

	// The sender is at its limit counting the expired share; Add drops
	// expired shares before refusing.
	mustAdd(t, p, share(3, 0xa, 0xd, 1, "new"))
	wantErr(t, p.Add(share(4, 0xa, 0xd, 1, "more")), ErrFull)
	// Re-adding an expired key stores it afresh.
	c.Advance(2 * time.Hour)
	mustAdd(t, p, old)
	sameShares(t, claim(t, p, addr(0xd), nil), old)

	if n := p.Expire(c.Now().Add(time.Hour)); n != 1 {
		t.Fatalf("Expire dropped %d, want 1", n)
	}
	if u := p.Usage(); u != (Usage{}) {
		t.Fatalf("usage after expiry %+v", u)
	}
	if files := shareFiles(t, p.dir); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
}

func TestClosed(t *testing.T) {
	p := openPool(t, t.TempDir(), newClock(), Limits{})
	mustAdd(t, p, share(1, 0xa, 0xd, 1, "x"))
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, p.Add(share(2, 0xa, 0xd, 1, "x")), ErrClosed)
	_, err := p.Claim(addr(0xd), nil)
	wantErr(t, err, ErrClosed)
	_, err = p.Take(addr(0xd), nil, 1)
	wantErr(t, err, ErrClosed)
	wantErr(t, p.Delete(addr(0xd), msg(1), 1), ErrClosed)
}

func TestOpenRejectsBadLimits(t *testing.T) {
	for _, lim := range []Limits{{PerSender: -1}, {TTL: -time.Second}, {MaxShareLen: MaxDataLen + 1}} {
		if _, err := Open(t.TempDir(), lim); !errors.Is(err, ErrInvalid) {
			t.Errorf("Open(%+v) err = %v", lim, err)
		}
	}
}

// shareFiles lists the entry files in dir.
func shareFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"+fileExt))
	if err != nil {
		t.Fatal(err)
	}
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	return names
}

func TestFilesAreDirectoryPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pool")
	p := openPool(t, dir, newClock(), Limits{})
	mustAdd(t, p, share(1, 0xa, 0xd, 1, "x"))
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", fi.Mode())
	}
	files := shareFiles(t, dir)
	if len(files) != 1 || len(files[0]) != 32+len(fileExt) {
		t.Fatalf("files %v", files)
	}
	for _, leak := range []string{addr(0xa).String()[:8], addr(0xd).String()[:8], msg(1).String()[:8]} {
		if strings.Contains(files[0], leak) {
			t.Fatalf("file name %s contains %s", files[0], leak)
		}
	}
}

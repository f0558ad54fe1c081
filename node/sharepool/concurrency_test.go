package sharepool

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Senders, claimants and the janitor's work race; afterwards the
// accounting must match what is on disk, and every share must have been
// taken at most once.
func TestConcurrentUse(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	p := openPool(t, dir, c, Limits{PerSender: 64 * BlockSize})
	const senders, perSender = 4, 24
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		taken = map[string]int{}
	)
	errs := make(chan error, senders*perSender)
	for s := range senders {
		wg.Go(func() {
			for i := range perSender {
				e := share(byte(i), byte(0xa0+s), byte(0xd0+i%3), 1, fmt.Sprintf("s%d-%d", s, i))
				// Each share is added once: a retried Add after a
				// concurrent Take would legitimately store it again.
				// Concurrent duplicate adds have their own test.
				if err := p.Add(e); err != nil {
					errs <- err
				}
			}
		})
	}
	for r := range 3 {
		wg.Go(func() {
			for range 20 {
				es, err := p.Take(addr(byte(0xd0+r)), nil, 5)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, e := range es {
					taken[string(e.Data)]++
				}
				mu.Unlock()
				if _, err := p.Claim(addr(byte(0xd0+r)), nil); err != nil {
					errs <- err
				}
				p.Expire(c.Now())
				p.Delete(addr(byte(0xd0+r)), msg(0), 1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for data, n := range taken {
		if n != 1 {
			t.Errorf("share %s taken %d times", data, n)
		}
	}
	u := p.Usage()
	if files := shareFiles(t, dir); len(files) != u.Entries {
		t.Fatalf("%d files, usage %+v", len(files), u)
	}
	if u.Bytes != int64(u.Entries)*BlockSize {
		t.Fatalf("usage %+v", u)
	}
	var perDst int
	for r := range 3 {
		perDst += p.RecipientUsage(addr(byte(0xd0 + r))).Entries
	}
	if perDst != u.Entries {
		t.Fatalf("recipients hold %d, total %d", perDst, u.Entries)
	}
	p.Close()
	q := openPool(t, dir, c, Limits{})
	if q.Usage() != u {
		t.Fatalf("after restart usage %+v, want %+v", q.Usage(), u)
	}
}

// Concurrent adds of one share store it once, and all succeed.
func TestConcurrentDuplicateAdds(t *testing.T) {
	dir := t.TempDir()
	p := openPool(t, dir, newClock(), Limits{})
	e := share(1, 0xa, 0xd, 1, "same")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- p.Add(e) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if u := p.Usage(); u.Entries != 1 {
		t.Fatalf("usage %+v", u)
	}
	if files := shareFiles(t, dir); len(files) != 1 {
		t.Fatalf("files %v", files)
	}
}

func TestJanitorDropsExpiredShares(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		p, err := Open(dir, Limits{TTL: time.Hour, SweepInterval: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		mustAdd(t, p, share(1, 0xa, 0xd, 1, "x"))
		time.Sleep(59 * time.Minute) // bubble time; the janitor has swept 58 times
		synctest.Wait()
		if u := p.Usage(); u.Entries != 1 {
			t.Fatalf("usage before expiry %+v", u)
		}
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		if u := p.Usage(); u.Entries != 0 {
			t.Fatalf("usage after expiry %+v", u)
		}
		if files := shareFiles(t, dir); len(files) != 0 {
			t.Fatalf("files %v", files)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if !errors.Is(p.Add(share(2, 0xa, 0xd, 1, "x")), ErrClosed) {
			t.Fatal("add after close")
		}
	})
}

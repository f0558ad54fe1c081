package delivery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// checkFileArrived checks bob's inbox entry of a file against data,
// reading it in pieces.
func checkFileArrived(t *testing.T, c *cluster, rep FileReport, data []byte) {
	t.Helper()
	ent, err := c.bob.eng.Inbox().List()
	if err != nil {
		t.Fatal(err)
	}
	var e *Entry
	for i := range ent {
		if ent[i].ID == rep.InboxID {
			e = &ent[i]
		}
	}
	if e == nil {
		t.Fatalf("no inbox entry %s", rep.InboxID)
	}
	if e.Name != rep.Name || e.Size != len(data) || e.From != "alice" || e.FileID != rep.FileID.String() {
		t.Fatalf("entry %+v, report %+v", e, rep)
	}
	f, err := c.bob.eng.Inbox().Open(rep.InboxID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("the file bob got differs from the one alice sent")
	}
}

func TestSendFile(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)

	t.Run("9MiB", func(t *testing.T) {
		data := randomBytes(t, 9<<20) // chunks of 4, 4 and 1 MiB
		var calls []int64
		rep, err := c.alice.eng.SendFile(ctx, "bob", bytes.NewReader(data), int64(len(data)), "../big.bin", 6, 3,
			&FileOptions{Progress: func(done, total int64) { calls = append(calls, done) }})
		if err != nil {
			t.Fatalf("send file: %v (%+v)", err, rep)
		}
		if rep.Chunks != 3 || len(rep.Sent) != 3 || rep.Skipped != 0 || !rep.ManifestSent || rep.Name != "big.bin" {
			t.Fatalf("report %+v", rep)
		}
		if len(calls) != 4 || calls[0] != 0 || calls[3] != int64(len(data)) {
			t.Fatalf("progress %v", calls)
		}
		checkFileArrived(t, c, rep, data)

		// Sending it again sends nothing.
		again, err := c.alice.eng.SendFile(ctx, "bob", bytes.NewReader(data), int64(len(data)), "../big.bin", 6, 3, nil)
		if err != nil || again.FileID != rep.FileID || len(again.Sent) != 0 || again.Skipped != 3 || again.ManifestSent {
			t.Fatalf("second send: %+v %v", again, err)
		}
	})

	t.Run("Resume", func(t *testing.T) {
		const chunk = 128 << 10
		data := randomBytes(t, 12*chunk+777) // 13 chunks
		cctx, cancel := context.WithCancel(ctx)
		var confirmed atomic.Int32
		first, err := c.alice.eng.SendFile(cctx, "bob", bytes.NewReader(data), int64(len(data)), "resume.bin", 6, 3,
			&FileOptions{ChunkSize: chunk, Progress: func(done, total int64) {
				if done > 0 && confirmed.Add(1) == 4 {
					cancel()
				}
			}})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted send: %v (%+v)", err, first)
		}
		if len(first.Sent) < 4 || len(first.Sent) >= 13 {
			t.Fatalf("interrupted after %d chunks: %+v", len(first.Sent), first)
		}
		rep, err := c.alice.eng.SendFile(ctx, "bob", bytes.NewReader(data), int64(len(data)), "resume.bin", 6, 3,
			&FileOptions{ChunkSize: chunk})
		if err != nil {
			t.Fatalf("resumed send: %v (%+v)", err, rep)
		}
		if rep.FileID != first.FileID || rep.ManifestSent || rep.Skipped < len(first.Sent) || rep.Skipped+len(rep.Sent) != 13 {
			t.Fatalf("resumed %+v after %+v", rep, first)
		}
		for _, i := range rep.Sent {
			for _, j := range first.Sent {
				if i == j {
					t.Fatalf("chunk %d sent twice", i)
				}
			}
		}
		t.Logf("first send: %d chunks, resumed: skipped %d, sent %d", len(first.Sent), rep.Skipped, len(rep.Sent))
		checkFileArrived(t, c, rep, data)
	})

	t.Run("64MiB", func(t *testing.T) {
		if testing.Short() {
			t.Skip("64 MiB through six relays takes a while under -race; the 9 MiB case covers the path")
		}
		data := randomBytes(t, 64<<20)
		// Collect garbage often, so that the heap is close to what is live.
		defer debug.SetGCPercent(debug.SetGCPercent(25))
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		peak := sampleHeap(t)
		start := time.Now()
		rep, err := c.alice.eng.SendFile(ctx, "bob", bytes.NewReader(data), int64(len(data)), "film.mkv", 6, 3, nil)
		elapsed := time.Since(start)
		top := peak()
		if err != nil {
			t.Fatalf("send file: %v (%+v)", err, rep)
		}
		if rep.Chunks != 16 || len(rep.Sent) != 16 {
			t.Fatalf("report %+v", rep)
		}
		checkFileArrived(t, c, rep, data)
		// Heap above the 64 MiB file itself and what was live before,
		// for sender, relays and receiver together.
		extra := int64(top) - int64(base)
		t.Logf("64 MiB in %v; peak heap %d MiB above the %d MiB before the send", elapsed, extra>>20, base>>20)
		if extra > 200<<20 {
			t.Fatalf("peak heap %d MiB above the start, want < 200 MiB", extra>>20)
		}
	})
}

// sampleHeap samples HeapAlloc until the returned function is called,
// which returns the highest value seen.
func sampleHeap(t *testing.T) func() uint64 {
	t.Helper()
	var (
		wg   sync.WaitGroup
		top  uint64
		stop = make(chan struct{})
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			top = max(top, ms.HeapAlloc)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	done := func() uint64 {
		once.Do(func() { close(stop); wg.Wait() })
		return top
	}
	t.Cleanup(func() { done() })
	return done
}

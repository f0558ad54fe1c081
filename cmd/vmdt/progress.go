package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress counts the bytes read through it (the upload to the local
// API) and redraws one status line with bytes, rate and ETA, at most
// every progressEvery. The HTTP client reads on its own goroutine, so
// the line is drawn from there, under mu.
type progress struct {
	r     io.Reader
	w     io.Writer
	total int64 // -1 if unknown
	start time.Time

	mu    sync.Mutex
	done  int64
	drawn time.Time
}

const progressEvery = 200 * time.Millisecond

func newProgress(w io.Writer, r io.Reader, total int64) *progress {
	return &progress{r: r, w: w, total: total, start: time.Now()}
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.mu.Lock()
	p.done += int64(n)
	if now := time.Now(); now.Sub(p.drawn) >= progressEvery || err == io.EOF {
		p.drawn = now
		p.drawLocked(now)
	}
	p.mu.Unlock()
	return n, err
}

func (p *progress) drawLocked(now time.Time) {
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.done) / el
	}
	line := fmt.Sprintf("uploading %s", byteSize(p.done))
	if p.total >= 0 {
		line += " of " + byteSize(p.total)
	}
	line += fmt.Sprintf(", %s/s", byteSize(int64(rate)))
	if p.total > 0 && rate > 0 && p.done < p.total {
		eta := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
		line += fmt.Sprintf(", ETA %v", eta.Round(time.Second))
	}
	if p.total >= 0 && p.done >= p.total {
		line += "; waiting for the receiver's confirmation"
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

// finish ends the status line.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\033[K")
}

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

// progress draws one status line for a send: first the upload to the
// local API (the bytes read through it), then the delivery (the bytes
// the receiver confirmed, from the API's progress lines), each with
// bytes, rate and ETA, at most every progressEvery. The HTTP client reads
// and decodes on its own goroutines, so the line is drawn under mu.
type progress struct {
	r     io.Reader
	w     io.Writer
	total int64 // -1 if unknown
	start time.Time

	mu       sync.Mutex
	uploaded int64
	drawn    time.Time
	// The delivery phase, once the first progress line arrived.
	delivering bool
	dStart     time.Time
	dFirst     int64 // bytes the receiver held at the first line
	dDone      int64
	dTotal     int64
}

const progressEvery = 200 * time.Millisecond

func newProgress(w io.Writer, r io.Reader, total int64) *progress {
	return &progress{r: r, w: w, total: total, start: time.Now()}
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.mu.Lock()
	p.uploaded += int64(n)
	if now := time.Now(); now.Sub(p.drawn) >= progressEvery || err == io.EOF {
		p.drawn = now
		p.drawLocked(now)
	}
	p.mu.Unlock()
	return n, err
}

// delivered takes a progress line: done of total bytes confirmed.
func (p *progress) delivered(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !p.delivering {
		p.delivering, p.dStart, p.dFirst = true, now, done
	}
	p.dDone, p.dTotal = done, total
	p.drawn = now
	p.drawLocked(now)
}

// rateETA formats the rate of done-first bytes since start and the time
// left to reach total.
func rateETA(now, start time.Time, first, done, total int64) string {
	el := now.Sub(start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(done-first) / el
	}
	s := fmt.Sprintf(", %s/s", byteSize(int64(rate)))
	if total > 0 && rate > 0 && done < total {
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		s += fmt.Sprintf(", ETA %v", eta.Round(time.Second))
	}
	return s
}

func (p *progress) drawLocked(now time.Time) {
	var line string
	switch {
	case p.delivering:
		line = fmt.Sprintf("delivered %s of %s", byteSize(p.dDone), byteSize(p.dTotal)) +
			rateETA(now, p.dStart, p.dFirst, p.dDone, p.dTotal)
	case p.total >= 0 && p.uploaded >= p.total:
		line = fmt.Sprintf("uploaded %s; sending through the relays, waiting for the receiver", byteSize(p.uploaded))
	default:
		line = "uploading " + byteSize(p.uploaded)
		if p.total >= 0 {
			line += " of " + byteSize(p.total)
		}
		line += rateETA(now, p.start, 0, p.uploaded, p.total)
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

// finish ends the status line.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\033[K")
}

package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/vmdt/vmdt/protocol/ctl"
)

func TestLineNamingAnotherClientIsRefused(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 4002, nil)
	c := newNode(t, 0, nil)
	connect(t, a.h, b.h)
	r := openRaw(t, a.h, b.h)

	// A speaks for C.
	r.write(fmt.Sprintf("REGISTER_P2P_PORT|%s|4000\n", c.addr(t)))
	r.expectErr(ctl.CodeWrongClient)
	r.write(getInfoLine(c.addr(t), b.addr(t)))
	r.expectErr(ctl.CodeWrongClient)
	if len(b.dp.added()) != 0 {
		t.Fatal("B installed a key for a line naming another client")
	}
	// Speaking for itself on the same stream still works.
	r.write(getInfoLine(a.addr(t), b.addr(t)))
	if line := r.mustRead(); !strings.HasPrefix(line, "OK|"+b.addr(t).String()+"|"+b.h.ID().String()+"|-|4002") {
		t.Fatalf("reply %q", line)
	}
}

func TestMalformedLinesGetErrAndStreamGoesOn(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 0, nil)
	connect(t, a.h, b.h)
	r := openRaw(t, a.h, b.h)

	r.write("HELLO|world\n")
	r.expectErr(ctl.CodeMalformed)
	r.write(getInfoLine(a.addr(t), b.addr(t))[:30] + "\n")
	r.expectErr(ctl.CodeMalformed)
	r.write(getInfoLine(a.addr(t), b.addr(t)))
	if line := r.mustRead(); !strings.HasPrefix(line, "OK|") {
		t.Fatalf("valid line after errors: %q", line)
	}
	// A clean close by the client ends the stream cleanly.
	if err := r.st.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	r.expectEnd()
}

func TestCarriageReturnIsRejected(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 0, nil)
	connect(t, a.h, b.h)
	r := openRaw(t, a.h, b.h)
	line := getInfoLine(a.addr(t), b.addr(t))
	r.write(strings.TrimSuffix(line, "\n") + "\r\n")
	r.expectErr(ctl.CodeMalformed)
}

func TestTooManyErrorsClosesStream(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 0, &Config{MaxErrors: 3})
	connect(t, a.h, b.h)
	r := openRaw(t, a.h, b.h)

	for range 3 {
		r.write("NOPE\n")
	}
	for range 3 {
		r.expectErr(ctl.CodeMalformed)
	}
	r.expectEnd()

	// The server still serves a new stream from the same peer.
	r2 := openRaw(t, a.h, b.h)
	r2.write(getInfoLine(a.addr(t), b.addr(t)))
	if line := r2.mustRead(); !strings.HasPrefix(line, "OK|") {
		t.Fatalf("new stream: %q", line)
	}
}

func TestOversizeLineClosesStream(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 0, nil)
	connect(t, a.h, b.h)

	// A line of exactly MaxLineLen bytes with its "\n" is read and judged
	// on its fields.
	r := openRaw(t, a.h, b.h)
	r.write("X" + strings.Repeat("a", ctl.MaxLineLen-2) + "\n")
	r.expectErr(ctl.CodeMalformed)

	// One byte more is too large, and the stream ends.
	r.write("X" + strings.Repeat("a", ctl.MaxLineLen-1) + "\n")
	r.expectErr(ctl.CodeTooLarge)
	r.expectEnd()
}

func TestUnterminatedLine(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 0, nil)
	connect(t, a.h, b.h)
	r := openRaw(t, a.h, b.h)
	r.write(strings.TrimSuffix(getInfoLine(a.addr(t), b.addr(t)), "\n"))
	if err := r.st.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	r.expectErr(ctl.CodeMalformed)
	r.expectEnd()
}

func TestReadDeadline(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 0, &Config{LineTimeout: 50 * time.Millisecond})
	connect(t, a.h, b.h)

	// Nothing sent: the server gives up after LineTimeout.
	r := openRaw(t, a.h, b.h)
	r.write("") // no-op; the stream opens on first write or read
	r.expectErr(ctl.CodeTimeout)
	r.expectEnd()

	// Half a line, then silence.
	r = openRaw(t, a.h, b.h)
	r.write("GET_CLIENT_INFO|")
	r.expectErr(ctl.CodeTimeout)
	r.expectEnd()

	// The deadline is per line: a prompt client is served.
	r = openRaw(t, a.h, b.h)
	for range 3 {
		r.write(getInfoLine(a.addr(t), b.addr(t)))
		if line := r.mustRead(); !strings.HasPrefix(line, "OK|") {
			t.Fatalf("reply %q", line)
		}
	}
}

func TestRateLimitPerPeer(t *testing.T) {
	a := newNode(t, 0, nil)
	c := newNode(t, 0, nil)
	b := newNode(t, 0, &Config{LineRate: 1e-9, LineBurst: 2, MaxErrors: 10})
	connect(t, a.h, b.h)
	connect(t, c.h, b.h)

	r := openRaw(t, a.h, b.h)
	for range 2 {
		r.write(getInfoLine(a.addr(t), b.addr(t)))
		if line := r.mustRead(); !strings.HasPrefix(line, "OK|") {
			t.Fatalf("within burst: %q", line)
		}
	}
	r.write(getInfoLine(a.addr(t), b.addr(t)))
	r.expectErr(ctl.CodeRateLimited)

	// A new stream does not refill the bucket.
	r2 := openRaw(t, a.h, b.h)
	r2.write(getInfoLine(a.addr(t), b.addr(t)))
	r2.expectErr(ctl.CodeRateLimited)

	// Another peer has its own bucket.
	r3 := openRaw(t, c.h, b.h)
	r3.write(getInfoLine(c.addr(t), b.addr(t)))
	if line := r3.mustRead(); !strings.HasPrefix(line, "OK|") {
		t.Fatalf("other peer: %q", line)
	}
}

func TestStreamLimitPerPeer(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 0, &Config{MaxStreamsPerPeer: 2})
	connect(t, a.h, b.h)

	// Two streams in service (a reply proves the handler is running).
	var open []*rawStream
	for range 2 {
		r := openRaw(t, a.h, b.h)
		r.write(getInfoLine(a.addr(t), b.addr(t)))
		if line := r.mustRead(); !strings.HasPrefix(line, "OK|") {
			t.Fatalf("reply %q", line)
		}
		open = append(open, r)
	}
	r := openRaw(t, a.h, b.h)
	r.write(getInfoLine(a.addr(t), b.addr(t)))
	r.expectErr(ctl.CodeRateLimited)
	r.expectEnd()

	// Once one stream ends, the peer may open another. The server notices
	// the end asynchronously, so poll for the slot.
	if err := open[0].st.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	open[0].expectEnd()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := openRaw(t, a.h, b.h)
		r.write(getInfoLine(a.addr(t), b.addr(t)))
		line := r.mustRead()
		if strings.HasPrefix(line, "OK|") {
			break
		}
		if e, err := ctl.ParseError(line); err != nil || e.Code != ctl.CodeRateLimited {
			t.Fatalf("reply %q", line)
		}
		if time.Now().After(deadline) {
			t.Fatal("stream slot never freed")
		}
	}
}

func TestCloseResetsStreamsAndIsIdempotent(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 0, nil)
	connect(t, a.h, b.h)
	r := openRaw(t, a.h, b.h)
	r.write(getInfoLine(a.addr(t), b.addr(t)))
	r.mustRead()

	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	r.expectEnd()
	if err := b.s.Close(); err != nil {
		t.Fatal(err)
	}
	// No handler any more: protocol negotiation fails (lazily, on first
	// read).
	if st, err := a.h.NewStream(testCtx(t), b.h.ID(), ProtocolID); err == nil {
		_, _ = st.Write([]byte(getInfoLine(a.addr(t), b.addr(t))))
		if n, err := st.Read(make([]byte, 10)); err == nil {
			t.Fatalf("closed service answered %d bytes", n)
		}
		st.Reset()
	}
	// Outgoing calls fail too.
	if _, err := b.s.Dial(testCtx(t), a.h.ID()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Dial after Close: %v", err)
	}
}

func TestClientSurvivesRemoteErrors(t *testing.T) {
	a := newNode(t, 0, nil)
	b := newNode(t, 0, nil)
	connect(t, a.h, b.h)
	c, err := a.s.Dial(testCtx(t), b.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.GetClientInfo(testCtx(t), newNode(t, 0, nil).addr(t)); remoteCode(err) != ctl.CodeUnknown {
		t.Fatalf("unknown: %v", err)
	}
	r, err := c.GetClientInfo(testCtx(t), b.addr(t))
	if err != nil || r.PeerID != b.h.ID() {
		t.Fatalf("after a remote error the client stream should still work: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetClientInfo(testCtx(t), b.addr(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestPeerTableEvictsOnlyIdlePeers(t *testing.T) {
	a := newNode(t, 0, nil)
	c := newNode(t, 0, nil)
	b := newNode(t, 0, &Config{MaxPeers: 1, LineRate: 1e6})
	connect(t, a.h, b.h)
	connect(t, c.h, b.h)

	ra := openRaw(t, a.h, b.h)
	ra.write(getInfoLine(a.addr(t), b.addr(t)))
	ra.mustRead()
	// A has a stream in service, so C finds the table full.
	rc := openRaw(t, c.h, b.h)
	rc.write(getInfoLine(c.addr(t), b.addr(t)))
	rc.expectErr(ctl.CodeRateLimited)
	rc.expectEnd()

	// Once A is idle (and its bucket refilled) it can be forgotten.
	if err := ra.st.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	ra.expectEnd()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rc := openRaw(t, c.h, b.h)
		rc.write(getInfoLine(c.addr(t), b.addr(t)))
		if line := rc.mustRead(); strings.HasPrefix(line, "OK|") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("idle peer never forgotten")
		}
	}
}

func TestClientHonoursContext(t *testing.T) {
	a := newNode(t, 0, nil)
	silent := newHost(t, 0)
	got := make(chan struct{})
	silent.SetStreamHandler(ProtocolID, func(st network.Stream) {
		defer st.Reset()
		_, _ = st.Read(make([]byte, 100))
		close(got)
		_, _ = io.Copy(io.Discard, st) // until the client gives up
	})
	connect(t, a.h, silent)
	c, err := a.s.Dial(testCtx(t), silent.ID())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.GetClientInfo(ctx, a.addr(t))
		done <- err
	}()
	<-got
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v", err)
	}
	if _, err := c.GetClientInfo(testCtx(t), a.addr(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("stream reused after cancellation: %v", err)
	}
}

func TestRequestTimeout(t *testing.T) {
	a := newNode(t, 0, &Config{RequestTimeout: 50 * time.Millisecond})
	silent := newHost(t, 0)
	silent.SetStreamHandler(ProtocolID, func(st network.Stream) {
		defer st.Reset()
		_, _ = io.Copy(io.Discard, st)
	})
	connect(t, a.h, silent)
	_, err := a.s.GetClientInfo(context.Background(), silent.ID(), a.addr(t))
	if !isTimeout(err) {
		t.Fatalf("silent peer: %v", err)
	}
}

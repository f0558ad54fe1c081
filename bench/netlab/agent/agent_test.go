package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMessageRoundTrip(t *testing.T) {
	data := make([]byte, 100_000)
	_, _ = rand.NewChaCha8([32]byte{3}).Read(data)
	var b bytes.Buffer
	if err := writeMessage(&b, 42, data); err != nil {
		t.Fatal(err)
	}
	if err := writeMessage(&b, 43, nil); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	m, err := readMessage(&b, buf)
	sum := sha256.Sum256(data)
	if err != nil || m.id != 42 || m.bytes != int64(len(data)) || m.sha256 != hex.EncodeToString(sum[:]) || m.doneNS <= 0 {
		t.Fatalf("first message %+v, %v", m, err)
	}
	if m, err := readMessage(&b, buf); err != nil || m.id != 43 || m.bytes != 0 {
		t.Fatalf("empty message %+v, %v", m, err)
	}
	if _, err := readMessage(&b, buf); err != io.EOF {
		t.Fatalf("after last message: %v, want io.EOF", err)
	}
}

func TestReadMessageRejectsTruncatedAndOversize(t *testing.T) {
	var b bytes.Buffer
	_ = writeMessage(&b, 1, make([]byte, 100))
	whole := b.Bytes()
	for _, cut := range []int{3, headerSize, headerSize + 50} {
		if _, err := readMessage(bytes.NewReader(whole[:cut]), make([]byte, 64)); !errors.Is(err, ErrFrame) {
			t.Errorf("cut at %d: %v, want ErrFrame", cut, err)
		}
	}
	huge := appendHeader(nil, 1, 0)
	huge[8] = 0xff
	if _, err := readMessage(bytes.NewReader(huge), make([]byte, 64)); !errors.Is(err, ErrFrame) {
		t.Errorf("oversize length: %v", err)
	}
}

func FuzzReadMessage(f *testing.F) {
	var b bytes.Buffer
	_ = writeMessage(&b, 7, []byte("hello"))
	f.Add(b.Bytes())
	f.Add(appendHeader(nil, 1, 0))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := readMessage(bytes.NewReader(in), make([]byte, 64))
		if err == nil && (m.bytes < 0 || int(m.bytes) > len(in)-headerSize) {
			t.Fatalf("accepted %d payload bytes from %d input bytes", m.bytes, len(in))
		}
	})
}

// TestKindsOverLoopback runs every transport's receiver and sender on
// 127.0.0.1 and checks that cold and warm sends deliver the exact bytes.
func TestKindsOverLoopback(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "payload")
	data := make([]byte, 200_000)
	_, _ = rand.NewChaCha8([32]byte{9}).Read(data)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) {
			if strings.HasPrefix(kind, "tcp-") && !ccAvailable(kind[4:]) {
				t.Skipf("congestion control %s not available on this kernel", kind[4:])
			}
			got := make(chan message, 8)
			r, err := newReceiver(kind, "127.0.0.1:0", func(m message) { got <- m })
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			s, err := newSender(kind, r.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for i, cold := range []bool{true, false, false, true} {
				start, err := send(ctx, s, Command{ID: uint64(i + 1), File: file, Cold: cold})
				if err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
				select {
				case m := <-got:
					if m.id != uint64(i+1) || m.bytes != int64(len(data)) || m.sha256 != want {
						t.Fatalf("send %d: received %+v", i, m)
					}
					if m.doneNS <= start {
						t.Fatalf("send %d: done %d not after start %d", i, m.doneNS, start)
					}
				case <-ctx.Done():
					t.Fatalf("send %d: nothing received", i)
				}
			}
			if kind == "tcp-cubic" && !strings.Contains(s.Info(), "cc=cubic") {
				t.Errorf("sender info %q does not confirm cubic", s.Info())
			}
		})
	}
}

func ccAvailable(cc string) bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_available_congestion_control")
	return err == nil && strings.Contains(" "+strings.TrimSpace(string(b))+" ", " "+cc+" ")
}

func TestUnknownKind(t *testing.T) {
	if _, err := newReceiver("carrier-pigeon", "127.0.0.1:0", nil); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("receiver: %v", err)
	}
	if _, err := newSender("carrier-pigeon", "x"); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("sender: %v", err)
	}
}

package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Line is one JSON line an agent prints.
type Line struct {
	Event   string `json:"event"` // "ready", "received", "sent", "error"
	Addr    string `json:"addr,omitempty"`
	Info    string `json:"info,omitempty"`
	ID      uint64 `json:"id,omitempty"`
	Bytes   int64  `json:"bytes,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	DoneNS  int64  `json:"done_ns,omitempty"`
	StartNS int64  `json:"start_ns,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Command is one line a sender agent reads.
type Command struct {
	ID   uint64 `json:"id"`
	File string `json:"file"`
	Cold bool   `json:"cold"`
}

// Kinds lists the transports an agent implements.
func Kinds() []string {
	return []string{"tcp-cubic", "tcp-bbr", "kcp-fec", "libp2p-tcp", "libp2p-quic"}
}

// ErrUnknownKind is returned for a kind not in Kinds.
var ErrUnknownKind = errors.New("agent: unknown transport kind")

// receiver accepts connections and reports every complete message.
type receiver interface {
	Addr() string // what a sender dials
	Info() string
	Close() error
}

// sender is the dialing side of one transport kind.
type sender interface {
	Connected() bool
	Connect(ctx context.Context) error // opens a new connection
	Disconnect() error                 // closes the current connection, if any
	Send(ctx context.Context, id uint64, data []byte) error
	Info() string
	Close() error
}

func newReceiver(kind, listen string, report func(message)) (receiver, error) {
	switch kind {
	case "tcp-cubic", "tcp-bbr":
		return listenTCP(listen, kind[4:], report)
	case "kcp-fec":
		return listenKCP(listen, report)
	case "libp2p-tcp", "libp2p-quic":
		return listenP2P(kind, listen, report)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownKind, kind)
}

func newSender(kind, target string) (sender, error) {
	switch kind {
	case "tcp-cubic", "tcp-bbr":
		return &tcpSender{target: target, cc: kind[4:]}, nil
	case "kcp-fec":
		return newKCPSender(target)
	case "libp2p-tcp", "libp2p-quic":
		return newP2PSender(kind, target)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownKind, kind)
}

func monotonicNS() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// output serialises JSON lines on stdout.
type output struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (o *output) emit(l Line) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_ = o.enc.Encode(l)
}

// Main runs an agent: args are "recv -kind K -listen ADDR" or
// "send -kind K -target ADDR". It returns the process exit code.
func Main(args []string) int {
	if len(args) == 0 || !slices.Contains([]string{"recv", "send"}, args[0]) {
		fmt.Fprintln(os.Stderr, "usage: netlab __agent recv|send -kind KIND [-listen ADDR | -target ADDR]")
		return 2
	}
	fs := flag.NewFlagSet("agent "+args[0], flag.ContinueOnError)
	kind := fs.String("kind", "", "transport kind: one of "+fmt.Sprint(Kinds()))
	listen := fs.String("listen", "", "receiver: address to listen on (ip:port)")
	target := fs.String("target", "", "sender: the receiver's address as it printed it")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	out := &output{enc: json.NewEncoder(os.Stdout)}
	var err error
	if args[0] == "recv" {
		err = runReceiver(ctx, *kind, *listen, out, os.Stdin)
	} else {
		err = runSender(ctx, *kind, *target, out, os.Stdin)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "agent %s %s: %v\n", args[0], *kind, err)
		return 1
	}
	return 0
}

func runReceiver(ctx context.Context, kind, listen string, out *output, stdin io.Reader) error {
	r, err := newReceiver(kind, listen, func(m message) {
		out.emit(Line{Event: "received", ID: m.id, Bytes: m.bytes, SHA256: m.sha256, DoneNS: m.doneNS})
	})
	if err != nil {
		return err
	}
	defer r.Close()
	out.emit(Line{Event: "ready", Addr: r.Addr(), Info: r.Info()})
	// Serve until stdin closes or a signal arrives.
	eof := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, stdin); close(eof) }()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	return nil
}

func runSender(ctx context.Context, kind, target string, out *output, stdin io.Reader) error {
	s, err := newSender(kind, target)
	if err != nil {
		return err
	}
	defer s.Close()
	out.emit(Line{Event: "ready", Info: s.Info()})
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		var c Command
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			out.emit(Line{Event: "error", Error: "bad command: " + err.Error()})
			continue
		}
		start, err := send(ctx, s, c)
		if err != nil {
			out.emit(Line{Event: "error", ID: c.ID, Error: err.Error()})
			continue
		}
		out.emit(Line{Event: "sent", ID: c.ID, StartNS: start, Info: s.Info()})
	}
	return sc.Err()
}

// send carries out one command and returns the start time.
func send(ctx context.Context, s sender, c Command) (int64, error) {
	data, err := os.ReadFile(c.File)
	if err != nil {
		return 0, err
	}
	if c.Cold {
		if err := s.Disconnect(); err != nil {
			return 0, fmt.Errorf("disconnect: %w", err)
		}
	} else if !s.Connected() {
		if err := s.Connect(ctx); err != nil {
			return 0, fmt.Errorf("connect: %w", err)
		}
	}
	start := monotonicNS()
	if c.Cold {
		if err := s.Connect(ctx); err != nil {
			return 0, fmt.Errorf("connect: %w", err)
		}
	}
	if err := s.Send(ctx, c.ID, data); err != nil {
		_ = s.Disconnect()
		return 0, fmt.Errorf("send: %w", err)
	}
	return start, nil
}

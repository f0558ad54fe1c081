package transport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/agent"
	"github.com/vmdt/vmdt/bench/netlab/lab"
)

// AgentCommand is the hidden subcommand of the netlab binary that runs an
// agent (package agent).
const AgentCommand = "__agent"

func init() {
	settings := map[string]string{
		"tcp-cubic":   "Linux TCP, CUBIC set per socket (TCP_CONGESTION), Nagle off, kernel defaults otherwise",
		"tcp-bbr":     "Linux TCP, BBR set per socket (TCP_CONGESTION), Nagle off, kernel defaults otherwise",
		"kcp-fec":     agent.KCPSettings,
		"libp2p-tcp":  agent.P2PSettings,
		"libp2p-quic": agent.P2PSettings,
	}
	for i, kind := range agent.Kinds() {
		port := 5001 + i
		Register(Info{
			Name:     kind,
			Settings: settings[kind],
			New:      func() Transport { return &agentTransport{kind: kind, port: port} },
		})
	}
}

// setupTimeout bounds how long an agent may take to report ready.
const setupTimeout = 30 * time.Second

// agentTransport runs a receiver agent in the receiver's namespace and a
// sender agent in the sender's, and drives them over stdin/stdout.
type agentTransport struct {
	kind string
	port int

	recv, send *agentProc
	nextID     uint64
	info       string
}

func (a *agentTransport) Name() string { return a.kind }

func (a *agentTransport) Setup(ctx context.Context, env Env) error {
	if cc, ok := strings.CutPrefix(a.kind, "tcp-"); ok {
		if err := ensureCongestionControl(ctx, cc); err != nil {
			return err
		}
	}
	if a.kind == "libp2p-tcp" {
		if err := ensureCongestionControl(ctx, "cubic"); err != nil {
			return err
		}
	}
	listen := fmt.Sprintf("%s:%d", env.Lab.Receiver.Addr, a.port)
	recv, err := startAgent(env, env.Lab.Receiver, "recv", "-kind", a.kind, "-listen", listen)
	if err != nil {
		return err
	}
	a.recv = recv
	ready, err := recv.waitReady(ctx)
	if err != nil {
		a.Close()
		return err
	}
	send, err := startAgent(env, env.Lab.Sender, "send", "-kind", a.kind, "-target", ready.Addr)
	if err != nil {
		a.Close()
		return err
	}
	a.send = send
	if _, err := send.waitReady(ctx); err != nil {
		a.Close()
		return err
	}
	a.info = ready.Info
	return nil
}

func (a *agentTransport) Transfer(ctx context.Context, p Payload, mode Mode) (Result, error) {
	if a.send == nil || a.recv == nil {
		return Result{}, errors.New("transport: not set up")
	}
	a.nextID++
	id := a.nextID
	cmd, _ := json.Marshal(agent.Command{ID: id, File: p.File, Cold: mode == Cold})
	if _, err := a.send.stdin.Write(append(cmd, '\n')); err != nil {
		return Result{}, fmt.Errorf("%s: write command: %w%s", a.kind, err, a.send.stderrTail())
	}
	var sent, received *agent.Line
	for sent == nil || received == nil {
		select {
		case l, ok := <-a.send.lines:
			if !ok {
				return Result{}, fmt.Errorf("%s: sender agent exited%s", a.kind, a.send.stderrTail())
			}
			if l.ID != id {
				continue
			}
			if l.Event == "error" {
				return Result{}, fmt.Errorf("%s: sender: %s", a.kind, l.Error)
			}
			sent = &l
		case l, ok := <-a.recv.lines:
			if !ok {
				return Result{}, fmt.Errorf("%s: receiver agent exited%s", a.kind, a.recv.stderrTail())
			}
			if l.ID != id || l.Event != "received" {
				continue
			}
			received = &l
		case <-ctx.Done():
			return Result{}, fmt.Errorf("%s: transfer %d: %w", a.kind, id, ctx.Err())
		}
	}
	if received.Bytes != int64(len(p.Data)) || received.SHA256 != hex.EncodeToString(p.SHA256[:]) {
		return Result{}, fmt.Errorf("%w: %s: %d bytes, sha256 %s", ErrCorrupt, a.kind, received.Bytes, received.SHA256)
	}
	info := sent.Info
	if info == "" {
		info = a.info
	}
	return Result{Elapsed: time.Duration(received.DoneNS - sent.StartNS), Info: info}, nil
}

func (a *agentTransport) Close() error {
	var errs []error
	for _, p := range []*agentProc{a.send, a.recv} {
		if p != nil {
			if err := p.stop(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	a.send, a.recv = nil, nil
	return errors.Join(errs...)
}

// agentProc is one running agent.
type agentProc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan agent.Line // closed when stdout ends
	done  chan struct{}   // closed when the stdout reader has returned

	mu     sync.Mutex
	stderr []byte // last few KB
}

func (p *agentProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stderr = append(p.stderr, b...)
	if over := len(p.stderr) - 4096; over > 0 {
		p.stderr = p.stderr[over:]
	}
	return len(b), nil
}

func (p *agentProc) stderrTail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := strings.TrimSpace(string(p.stderr))
	if s == "" {
		return ""
	}
	return ": " + s
}

func startAgent(env Env, h *lab.Host, args ...string) (*agentProc, error) {
	p := &agentProc{name: h.Name + " " + args[0] + " " + args[2], lines: make(chan agent.Line, 64), done: make(chan struct{})}
	// The agent lives until stop, not until the Setup context ends.
	p.cmd = env.Lab.Command(context.Background(), h, env.Exe, append([]string{AgentCommand}, args...)...)
	p.cmd.Stderr = p
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("transport: start agent %s: %w", p.name, err)
	}
	go func() {
		defer close(p.done)
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l agent.Line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				fmt.Fprintf(p, "unparsable line: %q\n", sc.Text())
				continue
			}
			p.lines <- l
		}
	}()
	return p, nil
}

func (p *agentProc) waitReady(ctx context.Context) (agent.Line, error) {
	timer := time.NewTimer(setupTimeout)
	defer timer.Stop()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return agent.Line{}, fmt.Errorf("transport: agent %s exited before ready%s", p.name, p.stderrTail())
			}
			if l.Event == "ready" {
				return l, nil
			}
		case <-timer.C:
			return agent.Line{}, fmt.Errorf("transport: agent %s not ready after %v%s", p.name, setupTimeout, p.stderrTail())
		case <-ctx.Done():
			return agent.Line{}, ctx.Err()
		}
	}
}

// stop closes the agent's stdin and sends it SIGTERM, which makes it
// exit (SIGTERM also cancels a transfer still under way, which closing
// stdin alone would wait for, as after a timeout), and kills it if it has
// not exited within a few seconds.
func (p *agentProc) stop() error {
	_ = p.stdin.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() {
		// Drain stdout so the reader can finish, then reap the process.
		for range p.lines {
		}
		<-p.done
		exited <- p.cmd.Wait()
	}()
	select {
	case err := <-exited:
		return ignoreExit(err)
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		return ignoreExit(<-exited)
	}
}

func ignoreExit(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil // killed or failed; its stderr was already reported
	}
	return err
}

// ensureCongestionControl checks that the kernel offers cc, loading its
// module if need be; it returns an error wrapping ErrUnavailable if not.
func ensureCongestionControl(ctx context.Context, cc string) error {
	const path = "/proc/sys/net/ipv4/tcp_available_congestion_control"
	has := func() bool {
		b, err := os.ReadFile(path)
		return err == nil && strings.Contains(" "+strings.TrimSpace(string(b))+" ", " "+cc+" ")
	}
	if has() {
		return nil
	}
	out, err := exec.CommandContext(ctx, "modprobe", "tcp_"+cc).CombinedOutput()
	if has() {
		return nil
	}
	return fmt.Errorf("%w: TCP congestion control %q is not in %s and modprobe tcp_%s failed: %v %s",
		ErrUnavailable, cc, path, cc, err, bytes.TrimSpace(out))
}

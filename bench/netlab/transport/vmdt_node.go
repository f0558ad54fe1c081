package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/lab"
)

// vmdtNode is one vmdt process (daemon or bootstrap) in a lab host's
// namespace, with a client for its local API. The API listens on
// 127.0.0.1 inside the namespace, so the client dials from a thread that
// has joined the namespace (lab.Host.Do); the HTTP exchange itself never
// crosses the emulated links.
type vmdtNode struct {
	name string // "bootstrap", "sender", "receiver", "relay1", ...
	host *lab.Host
	repo string
	args []string // the vmdt command line after --repo, to restart it
	log  string   // stdout and stderr of the process

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been reaped
	err    error         // cmd.Wait's result, valid after exited

	client *http.Client
	api    string // host:port of the API inside the namespace
	token  string
}

// vmdtReadyTimeout bounds how long a daemon may take to write its api
// file: joining the network through the lossy links can take a while.
const vmdtReadyTimeout = 60 * time.Second

// start runs the node's process and waits until its API is up.
func (n *vmdtNode) start(ctx context.Context, env Env, bin string) error {
	// A stale api file from a previous run of this repository would look
	// like a ready daemon.
	_ = os.Remove(filepath.Join(n.repo, "api"))
	logf, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child holds its own descriptor
	fmt.Fprintf(logf, "=== %s start %s: vmdt --repo %s %s\n", n.name, time.Now().Format(time.RFC3339Nano), n.repo, strings.Join(n.args, " "))
	// The daemon lives until stop, not until the Setup context ends.
	cmd := env.Lab.Command(context.Background(), n.host, bin, append([]string{"--repo", n.repo}, n.args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "GOLOG_LOG_LEVEL="+vmdtLogLevel())
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("vmdt: start %s: %w", n.name, err)
	}
	n.cmd, n.exited = cmd, make(chan struct{})
	go func() {
		n.err = cmd.Wait()
		close(n.exited)
	}()
	return n.waitAPI(ctx)
}

// vmdtLogLevel is the daemons' go-log level: $NETLAB_VMDT_LOG_LEVEL, else
// warn (debug logging costs CPU that the measured nodes share).
func vmdtLogLevel() string {
	if l := os.Getenv("NETLAB_VMDT_LOG_LEVEL"); l != "" {
		return l
	}
	return "warn"
}

// waitAPI polls for the api file the daemon writes once its API serves.
func (n *vmdtNode) waitAPI(ctx context.Context) error {
	deadline := time.NewTimer(vmdtReadyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		addr, aerr := os.ReadFile(filepath.Join(n.repo, "api"))
		tok, terr := os.ReadFile(filepath.Join(n.repo, "api.token"))
		if aerr == nil && terr == nil && len(bytes.TrimSpace(addr)) > 0 {
			n.api, n.token = strings.TrimSpace(string(addr)), strings.TrimSpace(string(tok))
			n.client = n.newClient()
			return nil
		}
		select {
		case <-n.exited:
			return fmt.Errorf("vmdt: %s exited before its API was up (%v)%s", n.name, n.err, n.logTail())
		case <-deadline.C:
			return fmt.Errorf("vmdt: %s: no API after %v%s", n.name, vmdtReadyTimeout, n.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (n *vmdtNode) newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := n.host.Do(func() error {
				var d net.Dialer
				var err error
				c, err = d.DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     time.Minute,
	}}
}

// apiError is the daemon's JSON error body.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// call makes one API request; out, if not nil, receives the JSON answer
// (or the raw bytes if out is a *[]byte).
func (n *vmdtNode) call(ctx context.Context, method, path string, body io.Reader, out any) error {
	if n.client == nil {
		return fmt.Errorf("vmdt: %s is not running", n.name)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+n.api+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return fmt.Errorf("vmdt: %s %s %s: %w", n.name, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("vmdt: %s %s %s: %w", n.name, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e apiError
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return &vmdtAPIError{status: resp.StatusCode, code: e.Code, msg: fmt.Sprintf("vmdt: %s %s %s: %s (%s)", n.name, method, path, e.Error, e.Code), body: b}
		}
		return &vmdtAPIError{status: resp.StatusCode, msg: fmt.Sprintf("vmdt: %s %s %s: HTTP %d: %s", n.name, method, path, resp.StatusCode, bytes.TrimSpace(b)), body: b}
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = b
		return nil
	default:
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("vmdt: %s %s %s: decode %q: %w", n.name, method, path, b, err)
		}
		return nil
	}
}

// vmdtAPIError is an error answer of the API; body is kept because the
// send endpoint returns its report also when it fails.
type vmdtAPIError struct {
	status int
	code   string
	msg    string
	body   []byte
}

func (e *vmdtAPIError) Error() string { return e.msg }

// postJSON posts v as JSON.
func (n *vmdtNode) postJSON(ctx context.Context, path string, v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return n.call(ctx, http.MethodPost, path, bytes.NewReader(b), out)
}

// vmdtInfo is the part of GET /v1/id the harness uses.
type vmdtInfo struct {
	PeerID string   `json:"peer_id"`
	Addrs  []string `json:"addrs"`
	UDP    string   `json:"udp"`
}

// vmdtPeer is one entry of GET /v1/peers.
type vmdtPeer struct {
	PeerID string   `json:"peer_id"`
	Addrs  []string `json:"addrs"` // remote addresses of the open connections
}

// vmdtSendReport is the answer of POST /v1/send.
type vmdtSendReport struct {
	ID     string  `json:"id"`
	Status string  `json:"status"`
	TookMS float64 `json:"took_ms"`
	Shares []struct {
		Index     int    `json:"index"`
		RelayPeer string `json:"relay_peer_id"`
		Outcome   string `json:"outcome"`
		Detail    string `json:"detail"`
	} `json:"shares"`
	Used []int `json:"used"`
}

// stop ends the process: SIGTERM, then SIGKILL after a few seconds.
func (n *vmdtNode) stop() error {
	if n.cmd == nil {
		return nil
	}
	if n.client != nil {
		n.client.CloseIdleConnections()
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(5 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
	n.cmd, n.client = nil, nil
	return ignoreExit(n.err)
}

// logTail returns the last lines of the node's log for error messages.
func (n *vmdtNode) logTail() string {
	b, err := os.ReadFile(n.log)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return " [log " + n.log + ": " + strings.Join(strings.Fields(string(b)), " ") + "]"
}

var errVMDTNotMultipath = errors.New("vmdt: the sender did not use every relay")

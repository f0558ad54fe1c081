package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// vmdtBin is the vmdt binary TestMain builds for the end-to-end tests.
var vmdtBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vmdt-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	vmdtBin = filepath.Join(dir, "vmdt")
	build := exec.Command("go", "build", "-o", vmdtBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building vmdt:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cleanEnv is the environment the binary runs with: the test's, without
// variables that would change its repository or its logging.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VMDT_") || strings.HasPrefix(kv, "GOLOG_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// vmdt runs the binary to completion and returns its output and exit
// code.
func vmdt(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, vmdtBin, args...)
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("vmdt %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// vmdtJSON runs the binary, requires success and decodes its JSON output.
func vmdtJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, errOut, code := vmdt(t, args...)
	if code != 0 {
		t.Fatalf("vmdt %v: exit %d: %s", args, code, errOut)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("vmdt %v: output %q: %v", args, out, err)
	}
}

// daemonProc is a long-running vmdt process.
type daemonProc struct {
	name  string
	cmd   *exec.Cmd
	lines chan string   // stdout, line by line
	done  chan struct{} // closed when the process exited
	err   error         // Wait's result, set before done closes

	mu     sync.Mutex
	stderr bytes.Buffer // guarded by mu
}

func (p *daemonProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

func (p *daemonProc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// startDaemon starts the binary and stops it when the test ends, if the
// test did not stop it.
func startDaemon(t *testing.T, name string, args ...string) *daemonProc {
	t.Helper()
	p := &daemonProc{name: name, lines: make(chan string, 64), done: make(chan struct{})}
	p.cmd = exec.Command(vmdtBin, args...)
	p.cmd.Env = cleanEnv()
	p.cmd.Stderr = p
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// firstLine waits for the process's first line of output.
func (p *daemonProc) firstLine(t *testing.T, timeout time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			<-p.done
			t.Fatalf("%s exited before printing anything: %v; stderr: %s", p.name, p.err, p.stderrText())
		}
		return l
	case <-time.After(timeout):
		t.Fatalf("%s printed nothing within %v; stderr: %s", p.name, timeout, p.stderrText())
	}
	return ""
}

// stop sends SIGTERM and requires a clean exit (status 0) within timeout.
func (p *daemonProc) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("%s: SIGTERM: %v", p.name, err)
	}
	go func() {
		for range p.lines {
		}
	}()
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("%s exited with %v after SIGTERM; stderr: %s", p.name, p.err, p.stderrText())
		}
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v of SIGTERM", p.name, timeout)
	}
}

// waitFile polls for path until it exists or the deadline passes.
func waitFile(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %v", path, timeout)
		}
		time.Sleep(20 * time.Millisecond) // polling an external condition
	}
}

type initOut struct {
	Repo       string `json:"repo"`
	PeerID     string `json:"peer_id"`
	DDTAddress string `json:"ddt_address"`
}

type idOut struct {
	PeerID      string   `json:"peer_id"`
	DDTAddress  string   `json:"ddt_address"`
	Addrs       []string `json:"addrs"`
	UDP         string   `json:"udp"`
	Role        string   `json:"role"`
	API         string   `json:"api"`
	Authorities []string `json:"authorities"`
}

type nameOut struct {
	Username   string `json:"username"`
	DDTAddress string `json:"ddt_address"`
	PeerID     string `json:"peer_id"`
}

// relayNames are the daemons that only relay, for alice's messages to bob.
var relayNames = []string{"relay1", "relay2", "relay3"}

// TestCLIEndToEnd runs a bootstrap node, alice, bob and three relays as
// separate processes and drives them with the vmdt command.
func TestCLIEndToEnd(t *testing.T) {
	base := t.TempDir()
	repos := map[string]string{}
	inits := map[string]initOut{}
	for _, n := range append([]string{"boot", "alice", "bob"}, relayNames...) {
		repos[n] = filepath.Join(base, n)
		var o initOut
		vmdtJSON(t, &o, "--repo", repos[n], "init", "--json")
		if o.PeerID == "" || len(o.DDTAddress) != 40 {
			t.Fatalf("init %s: %+v", n, o)
		}
		inits[n] = o
	}
	// init refuses to overwrite an identity.
	if _, errOut, code := vmdt(t, "init", "--repo", repos["alice"]); code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("second init: exit %d, stderr %q; want failure with one line", code, errOut)
	}

	boot := startDaemon(t, "bootstrap", "bootstrap", "--repo", repos["boot"], "--listen", "/ip4/127.0.0.1/tcp/0", "--json")
	var bootID idOut
	if err := json.Unmarshal([]byte(boot.firstLine(t, time.Minute)), &bootID); err != nil {
		t.Fatal(err)
	}
	if bootID.PeerID != inits["boot"].PeerID || len(bootID.Addrs) == 0 || !strings.HasSuffix(bootID.Addrs[0], "/p2p/"+bootID.PeerID) {
		t.Fatalf("bootstrap started as %+v", bootID)
	}
	waitFile(t, filepath.Join(repos["boot"], "api"), 10*time.Second)

	daemons := map[string]*daemonProc{}
	for _, n := range append([]string{"alice", "bob"}, relayNames...) {
		daemons[n] = startDaemon(t, n, "daemon", "--repo", repos[n],
			"--listen", "/ip4/127.0.0.1/tcp/0", "--listen", "/ip4/127.0.0.1/udp/0/quic-v1",
			"--bootstrap", bootID.Addrs[0], "--udp", "127.0.0.1:0", "--json")
	}
	for _, n := range append([]string{"alice", "bob"}, relayNames...) {
		var started idOut
		if err := json.Unmarshal([]byte(daemons[n].firstLine(t, time.Minute)), &started); err != nil {
			t.Fatal(err)
		}
		if started.PeerID != inits[n].PeerID || started.API == "" {
			t.Fatalf("%s started as %+v", n, started)
		}
		waitFile(t, filepath.Join(repos[n], "api"), 10*time.Second)
	}

	var id idOut
	vmdtJSON(t, &id, "--repo", repos["alice"], "id", "--json")
	if id.PeerID != inits["alice"].PeerID || id.DDTAddress != inits["alice"].DDTAddress || id.UDP == "" || id.Role != "node" {
		t.Fatalf("alice id: %+v", id)
	}
	// Repeated --listen accumulate: TCP and QUIC addresses.
	var tcp, quic bool
	for _, a := range id.Addrs {
		tcp = tcp || strings.Contains(a, "/tcp/")
		quic = quic || strings.Contains(a, "/quic-v1/")
	}
	if !tcp || !quic {
		t.Fatalf("alice listens on %v, want TCP and QUIC", id.Addrs)
	}
	if len(id.Authorities) != 1 || id.Authorities[0] != bootID.PeerID {
		t.Fatalf("alice's authorities %v, want the bootstrap node", id.Authorities)
	}
	vmdtJSON(t, &id, "id", "--json", "--repo", repos["boot"])
	if id.Role != "bootstrap" || id.PeerID != bootID.PeerID {
		t.Fatalf("bootstrap id: %+v", id)
	}

	// A friend request needs a registered name.
	if _, errOut, code := vmdt(t, "--repo", repos["alice"], "friend", "add", "bob"); code == 0 || !strings.Contains(errOut, "no registered username") {
		t.Fatalf("friend add without a name: exit %d, stderr %q", code, errOut)
	}
	for _, n := range []string{"alice", "bob"} {
		var reg nameOut
		vmdtJSON(t, &reg, "--repo", repos[n], "name", "register", n, "--json")
		if reg.Username != n || reg.PeerID != inits[n].PeerID || reg.DDTAddress != inits[n].DDTAddress {
			t.Fatalf("register %s: %+v", n, reg)
		}
	}
	for from, to := range map[string]string{"alice": "bob", "bob": "alice"} {
		var got nameOut
		vmdtJSON(t, &got, "--repo", repos[from], "resolve", "--json", to)
		if got.Username != to || got.PeerID != inits[to].PeerID || got.DDTAddress != inits[to].DDTAddress {
			t.Fatalf("%s resolves %s to %+v, want %+v", from, to, got, inits[to])
		}
	}
	out, _, code := vmdt(t, "--repo", repos["alice"], "resolve", "bob")
	if code != 0 || !strings.Contains(out, inits["bob"].DDTAddress) {
		t.Fatalf("text resolve: exit %d, output %q", code, out)
	}
	var peers []struct {
		PeerID string `json:"peer_id"`
	}
	vmdtJSON(t, &peers, "--repo", repos["alice"], "peers", "--json")
	if len(peers) == 0 {
		t.Fatal("alice has no peers")
	}

	testFriends(t, repos, inits)

	// Failures: one line on stderr, non-zero status.
	for _, args := range [][]string{
		{"daemon", "--repo", repos["alice"], "--no-such-flag"},
		{"--repo", repos["alice"], "resolve", "nobody"},
		{"--repo", repos["alice"], "resolve", "NOT*VALID"},
		{"--repo", filepath.Join(base, "none"), "id"},
		{"frobnicate"},
		{"resolve"},
		{"--repo", repos["alice"], "friend", "add", "nobody"},
		{"--repo", repos["alice"], "friend", "accept", "nobody"},
		{"--repo", repos["alice"], "friend", "add", "bob"}, // bob dropped alice
	} {
		_, errOut, code := vmdt(t, args...)
		if code == 0 {
			t.Errorf("vmdt %v succeeded", args)
		}
		if msg := strings.TrimSuffix(errOut, "\n"); msg == "" || strings.Contains(msg, "\n") {
			t.Errorf("vmdt %v: stderr %q, want exactly one line", args, errOut)
		}
	}

	for _, n := range append([]string{"alice", "bob"}, relayNames...) {
		daemons[n].stop(t, 30*time.Second)
	}
	boot.stop(t, 30*time.Second)
	for n, dir := range repos {
		if _, err := os.Stat(filepath.Join(dir, "api")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: api file after shutdown: %v", n, err)
		}
	}
}

type friendOut struct {
	Username   string `json:"username"`
	DDTAddress string `json:"ddt_address"`
	Direction  string `json:"direction"`
	State      string `json:"state"`
	Since      string `json:"since"`
	Delivery   string `json:"delivery"`
}

// friendOf returns the entry for name in repo's "friend list --json".
func friendOf(t *testing.T, repo, name string) friendOut {
	t.Helper()
	var list []friendOut
	vmdtJSON(t, &list, "--repo", repo, "friend", "list", "--json")
	for _, f := range list {
		if f.Username == name {
			return f
		}
	}
	t.Fatalf("%s's friend list %+v lacks %s", repo, list, name)
	return friendOut{}
}

// testFriends: alice asks bob, bob accepts, both list each other as
// friends; then bob drops alice, and both list the denial.
func testFriends(t *testing.T, repos map[string]string, inits map[string]initOut) {
	var f friendOut
	vmdtJSON(t, &f, "--repo", repos["alice"], "friend", "add", "bob", "--json")
	if f.Username != "bob" || f.State != "requested" || f.Direction != "outgoing" || f.DDTAddress != inits["bob"].DDTAddress {
		t.Fatalf("friend add bob: %+v", f)
	}
	if f = friendOf(t, repos["bob"], "alice"); f.State != "pending" || f.Direction != "incoming" || f.DDTAddress != inits["alice"].DDTAddress {
		t.Fatalf("bob lists alice as %+v, want pending", f)
	}
	out, errOut, code := vmdt(t, "--repo", repos["bob"], "friend", "accept", "alice")
	if code != 0 || !strings.Contains(out, "accepted alice") || !strings.Contains(out, "has the answer") {
		t.Fatalf("friend accept alice: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Bob's accept returns once alice's node has applied the acceptance.
	for _, side := range []struct{ repo, other, dir string }{
		{repos["alice"], "bob", "outgoing"},
		{repos["bob"], "alice", "incoming"},
	} {
		if f = friendOf(t, side.repo, side.other); f.State != "friends" || f.Direction != side.dir || f.Since == "" {
			t.Fatalf("%s lists %s as %+v, want friends (%s)", side.repo, side.other, f, side.dir)
		}
	}
	out, _, code = vmdt(t, "--repo", repos["alice"], "friend", "list")
	if code != 0 || !strings.Contains(out, "USERNAME") || !strings.Contains(out, inits["bob"].DDTAddress) || !strings.Contains(out, "friends") {
		t.Fatalf("friend list: exit %d, output %q", code, out)
	}

	testSend(t, repos)

	vmdtJSON(t, &f, "--repo", repos["bob"], "friend", "deny", "alice", "--json")
	if f.State != "denied" || f.Delivery != "delivered" {
		t.Fatalf("friend deny alice: %+v", f)
	}
	if f = friendOf(t, repos["alice"], "bob"); f.State != "denied" || f.Direction != "outgoing" {
		t.Fatalf("alice lists bob as %+v after bob dropped her, want denied", f)
	}
}

package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	logging "github.com/ipfs/go-log/v2"

	"github.com/vmdt/vmdt/bench/netlab/lab"
)

var log = logging.Logger("vmdt/netlab/transport")

// The vmdt transport runs the real vmdt binary in the lab:
//
//   - Setup: a bootstrap node in the sender's namespace (it has no data
//     plane, so it is never a relay; see below why there), then a daemon
//     in each of Relays[:N] and in the receiver's namespace, then the
//     sender's daemon, each listening only on its host's lab address
//     (libp2p TCP and the RDT UDP socket). The sender and receiver register names and
//     become friends; Setup returns once a small message goes through
//     over all N relays. Every daemon runs with --trusted-net for the
//     lab's network: the sender restarts before every cold run, and
//     without it the peers' per-address connection budget (libp2p's
//     resource manager) runs out after a few dozen restarts and they
//     refuse the sender for a while (about 1 cold send in 40 was then
//     "pooled": the receiver looked unreachable).
//   - Transfer: POST /v1/send on the sender's local API with the payload.
//     The answer comes once the receiver confirmed delivery over the
//     control protocol (DELIVERED); the report must say "delivered" and
//     name N distinct relays, all lab relays. Then, untimed, the message
//     is fetched from the receiver's inbox and its SHA-256 checked. The
//     completion time is, as for every transport, from just before the
//     request until the receiver holds the message: the time of its inbox
//     entry (stamped when it was decoded and authenticated; every
//     namespace shares the machine's clock). The time until DELIVERED,
//     about one one-way delay more, is kept in the run's info. Cold runs restart the sender's daemon first
//     (PrepareRun, outside the timed interval and outside the byte
//     counts), so it has no data-plane sessions and no cached relay
//     endpoints; its libp2p connections to the relays are up again
//     before the clock starts.
//   - Close: SIGTERM to every daemon, then wait.
//
// Where the bootstrap node runs: every send probes each peer it knows as
// a relay candidate, the bootstrap node included (which has no data
// plane and fails the probe), and waits for all probes. Beside the
// sender that failed probe costs nothing; beside the receiver it costs a
// round trip over the lossy direct path (plus a DHT lookup and a retry)
// on every send, about 100 ms in scenario 1, which is not part of the
// data path being measured. NETLAB_VMDT_BOOTSTRAP=receiver moves it.
//
// The binary is $NETLAB_VMDT, else "vmdt" beside the netlab binary
// (make bench-quick builds bench/.bin/vmdt), else vmdt on $PATH. Daemon
// logs go to the run directory, or to $NETLAB_VMDT_LOGS if set (kept
// after the run); $NETLAB_VMDT_LOG_LEVEL sets their go-log level.
func init() {
	Register(Info{
		Name:      "vmdt",
		Multipath: true,
		Settings:  "vmdt daemons (real binary): k-of-n secret-shared shares over n relays on RDT/UDP; timed from POST /v1/send until the receiver holds the message (its inbox entry's time); the sender's DELIVERED, one one-way delay later, is in each run's info",
		New:       func() Transport { return &vmdtTransport{} },
		// Setup starts n+3 daemons and waits for them to join (about
		// 15-20 s); the daemons adapt to new link settings by themselves.
		KeepAcrossCells: true,
	})
}

// Names the harness registers; any valid vmdt usernames would do.
const (
	vmdtSenderName   = "labsender"
	vmdtReceiverName = "labreceiver"
	vmdtBootstrapTCP = 4001
)

// vmdtSetupTimeout bounds the whole of Setup.
const vmdtSetupTimeout = 4 * time.Minute

type vmdtTransport struct {
	env  Env
	bin  string
	root string

	boot, sender, receiver *vmdtNode
	relays                 []*vmdtNode
	relayHost              map[string]string // relay peer id -> lab host name
	senderUsed             bool              // the sender's daemon has sent since it started
	sends                  int               // sends so far, to name each one differently
	phases                 []string          // how long each step of Setup took
}

func (t *vmdtTransport) Name() string { return "vmdt" }

// vmdtBinary finds the vmdt executable.
func vmdtBinary(exe string) (string, error) {
	var tried []string
	if p := os.Getenv("NETLAB_VMDT"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	if exe != "" {
		p := filepath.Join(filepath.Dir(exe), "vmdt")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	if p, err := exec.LookPath("vmdt"); err == nil {
		return p, nil
	}
	tried = append(tried, "$PATH")
	return "", fmt.Errorf("%w: vmdt binary not found (tried %s); build it with go build -o bench/.bin/vmdt ./cmd/vmdt or set NETLAB_VMDT",
		ErrUnavailable, strings.Join(tried, ", "))
}

func (t *vmdtTransport) Setup(ctx context.Context, env Env) (err error) {
	if t.bin, err = vmdtBinary(env.Exe); err != nil {
		return err
	}
	if env.Lab == nil || env.N < 1 || env.N > len(env.Lab.Relays) || env.K < 2 || env.K > env.N {
		return fmt.Errorf("vmdt: need a lab and 2 <= k <= n <= relays, have n=%d k=%d", env.N, env.K)
	}
	t.env = env
	ctx, cancel := context.WithTimeout(ctx, vmdtSetupTimeout)
	defer cancel()
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	base := env.Dir
	if d := os.Getenv("NETLAB_VMDT_LOGS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		base = d
	}
	if t.root, err = os.MkdirTemp(base, "vmdt-"); err != nil {
		return err
	}

	mark := time.Now()
	phase := func(name string) {
		t.phases = append(t.phases, fmt.Sprintf("%s %v", name, time.Since(mark).Round(time.Millisecond)))
		mark = time.Now()
	}
	l := env.Lab
	// The bootstrap node runs beside the sender by default: see
	// vmdtBootstrapHost.
	bootHost := l.Sender
	if os.Getenv("NETLAB_VMDT_BOOTSTRAP") == lab.ReceiverName {
		bootHost = l.Receiver
	}
	// The lab is a test bed whose sender restarts before every cold run,
	// dozens of times a minute: that drains libp2p's per-address budget
	// of new connections at its peers (16, then one per 5 s), after which
	// they refuse it. An operator of such a network marks it trusted.
	trusted := "--trusted-net=" + lab.Network.String()
	t.boot = t.newNode("bootstrap", bootHost, "bootstrap", trusted,
		"--listen", fmt.Sprintf("/ip4/%s/tcp/%d", bootHost.Addr, vmdtBootstrapTCP),
		"--listen", fmt.Sprintf("/ip4/%s/udp/0/quic-v1", bootHost.Addr))
	if err := t.initRepo(ctx, t.boot); err != nil {
		return err
	}
	if err := t.boot.start(ctx, env, t.bin); err != nil {
		return err
	}
	phase("bootstrap")
	var bi vmdtInfo
	if err := t.boot.call(ctx, http.MethodGet, "/v1/id", nil, &bi); err != nil {
		return err
	}
	bootAddr := ""
	for _, a := range bi.Addrs {
		if strings.HasPrefix(a, "/ip4/"+bootHost.Addr.String()+"/tcp/") {
			bootAddr = a
		}
	}
	if bootAddr == "" {
		return fmt.Errorf("vmdt: bootstrap node has no TCP address on %s: %v", bootHost.Addr, bi.Addrs)
	}
	daemon := func(name string, h *lab.Host, port int) *vmdtNode {
		// QUIC as well as TCP, as a default node has: the control
		// protocol (RELAY_OPEN, DELIVERED) then recovers from loss with
		// QUIC's faster timers instead of TCP's 200 ms minimum RTO.
		return t.newNode(name, h, "daemon", trusted,
			"--listen", fmt.Sprintf("/ip4/%s/tcp/%d", h.Addr, port),
			"--listen", fmt.Sprintf("/ip4/%s/udp/0/quic-v1", h.Addr),
			"--udp", fmt.Sprintf("%s:%d", h.Addr, port),
			"--bootstrap", bootAddr)
	}
	t.receiver = daemon("receiver", l.Receiver, 0)
	for _, h := range l.Relays[:env.N] {
		t.relays = append(t.relays, daemon(h.Name, h, 0))
	}
	t.sender = daemon("sender", l.Sender, 0)
	// Relays and receiver first, the sender last, so that the sender's
	// DHT bootstrap finds every relay.
	first := append([]*vmdtNode{t.receiver}, t.relays...)
	if err := t.parallel(ctx, first, func(n *vmdtNode) error {
		if err := t.initRepo(ctx, n); err != nil {
			return err
		}
		return n.start(ctx, env, t.bin)
	}); err != nil {
		return err
	}
	phase("relays+receiver")
	t.relayHost = map[string]string{}
	for _, r := range t.relays {
		var ri vmdtInfo
		if err := r.call(ctx, http.MethodGet, "/v1/id", nil, &ri); err != nil {
			return err
		}
		t.relayHost[ri.PeerID] = r.name
	}
	if err := t.initRepo(ctx, t.sender); err != nil {
		return err
	}
	if err := t.sender.start(ctx, env, t.bin); err != nil {
		return err
	}

	phase("sender")
	// Names and friendship.
	if err := t.parallel(ctx, []*vmdtNode{t.sender, t.receiver}, func(n *vmdtNode) error {
		name := vmdtSenderName
		if n == t.receiver {
			name = vmdtReceiverName
		}
		return retry(ctx, 3, func() error {
			return n.postJSON(ctx, "/v1/name/register", map[string]string{"name": name}, nil)
		})
	}); err != nil {
		return err
	}
	phase("names")
	if err := retry(ctx, 3, func() error {
		return t.sender.postJSON(ctx, "/v1/friends/add", map[string]string{"name": vmdtReceiverName}, nil)
	}); err != nil {
		return err
	}
	if err := retry(ctx, 3, func() error {
		return t.receiver.postJSON(ctx, "/v1/friends/accept", map[string]string{"name": vmdtSenderName}, nil)
	}); err != nil {
		return err
	}
	phase("friends")
	if err := t.waitSenderReady(ctx); err != nil {
		return err
	}
	// The receiver accepts messages once a small one goes through, over
	// every relay. The sender's friend token and routing table may take a
	// moment after the handshake, hence the retries.
	probe := []byte("netlab vmdt setup probe")
	var lastErr error
	for attempt := 0; attempt < 10; attempt++ {
		if _, _, lastErr = t.send(ctx, probe, sha256.Sum256(probe)); lastErr == nil {
			phase("first message")
			return nil
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("vmdt: setup: the receiver does not get messages: %w", lastErr)
}

// newNode describes a node; its repository and log live under t.root.
func (t *vmdtTransport) newNode(name string, h *lab.Host, args ...string) *vmdtNode {
	return &vmdtNode{name: name, host: h, repo: filepath.Join(t.root, name), args: args,
		log: filepath.Join(t.root, name+".log")}
}

// initRepo runs vmdt init for n (outside any namespace: it only writes
// files).
func (t *vmdtTransport) initRepo(ctx context.Context, n *vmdtNode) error {
	out, err := exec.CommandContext(ctx, t.bin, "--repo", n.repo, "init").CombinedOutput()
	if err != nil {
		return fmt.Errorf("vmdt: init %s: %v: %s", n.name, err, bytes.TrimSpace(out))
	}
	return nil
}

// parallel runs fn for every node concurrently and joins the errors.
func (t *vmdtTransport) parallel(ctx context.Context, nodes []*vmdtNode, fn func(*vmdtNode) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// retry calls fn up to attempts times while it fails.
func retry(ctx context.Context, attempts int, fn func() error) error {
	var err error
	for i := 0; i < attempts; i++ {
		if err = fn(); err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(i+1) * 300 * time.Millisecond):
		}
	}
	return err
}

// waitSenderReady polls, for up to vmdtSettleTimeout, until the sender's
// daemon is connected to every relay and to the receiver, so a cold send
// starts with libp2p connections up and finds all N relays among its
// candidates, and until the receiver holds no connection to the sender's
// previous process: the receiver
// sends DELIVERED over such a dead connection, fails, and drops the
// confirmation (see the report in PrepareRun).
func (t *vmdtTransport) waitSenderReady(ctx context.Context) error {
	var self vmdtInfo
	if err := t.sender.call(ctx, http.MethodGet, "/v1/id", nil, &self); err != nil {
		return err
	}
	var recvID vmdtInfo
	if err := t.receiver.call(ctx, http.MethodGet, "/v1/id", nil, &recvID); err != nil {
		return err
	}
	deadline := time.Now().Add(vmdtReadyTimeout)
	settle := time.Now().Add(vmdtSettleTimeout)
	for {
		var peers []vmdtPeer
		err := t.sender.call(ctx, http.MethodGet, "/v1/peers", nil, &peers)
		missing, toReceiver := len(t.relayHost), false
		if err == nil {
			for _, p := range peers {
				if _, ok := t.relayHost[p.PeerID]; ok {
					missing--
				}
				toReceiver = toReceiver || p.PeerID == recvID.PeerID
			}
			if missing == 0 && toReceiver && t.receiverSeesOnly(ctx, self) {
				return nil
			}
			// After vmdtSettleTimeout the send goes ahead and shows what
			// VMDT does without (the sender can still dial relays it
			// knows; Transfer checks that every relay was used).
			if time.Now().After(settle) {
				log.Warnf("vmdt: starting with the sender connected to %d of %d relays, to the receiver %v", len(t.relayHost)-missing, len(t.relayHost), toReceiver)
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("vmdt: sender API: %v%s", err, t.sender.logTail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// vmdtSettleTimeout bounds waitSenderReady's wait for connections.
const vmdtSettleTimeout = 15 * time.Second

// receiverSeesOnly reports whether every connection the receiver has to
// the sender's peer goes to one of the sender's current addresses (the
// sender dials out from its listen port, so remote addresses of both
// directions match them).
func (t *vmdtTransport) receiverSeesOnly(ctx context.Context, sender vmdtInfo) bool {
	var peers []vmdtPeer
	if err := t.receiver.call(ctx, http.MethodGet, "/v1/peers", nil, &peers); err != nil {
		return false
	}
	for _, p := range peers {
		if p.PeerID != sender.PeerID {
			continue
		}
		for _, a := range p.Addrs {
			current := false
			for _, own := range sender.Addrs {
				if own == a || strings.HasPrefix(own, a+"/") {
					current = true
				}
			}
			if !current {
				return false
			}
		}
		return len(p.Addrs) > 0
	}
	return false
}

// PrepareRun implements Preparer: before a cold run, restart the
// sender's daemon if it has sent anything since it started.
//
// A VMDT weakness this works around: the receiver confirms delivery with
// one DELIVERED over libp2p to the sender's peer id (one retry after a
// DHT lookup). Right after the sender's node restarted, the receiver may
// still hold a connection to the old process, or only its old address;
// the confirmation then fails ("connection reset", "dial backoff",
// "routing: not found"), is dropped, and the sender waits for it until
// its delivery timeout (60 s), although the message was delivered.
func (t *vmdtTransport) PrepareRun(ctx context.Context, mode Mode) error {
	if mode != Cold || !t.senderUsed {
		return nil
	}
	if err := t.sender.stop(); err != nil {
		return fmt.Errorf("vmdt: stop sender: %w", err)
	}
	if err := t.sender.start(ctx, t.env, t.bin); err != nil {
		return err
	}
	t.senderUsed = false
	return t.waitSenderReady(ctx)
}

func (t *vmdtTransport) Transfer(ctx context.Context, p Payload, mode Mode) (Result, error) {
	if t.sender == nil || t.receiver == nil {
		return Result{}, errors.New("vmdt: not set up")
	}
	if mode == Cold && t.senderUsed {
		// Called without PrepareRun (a runner that does not know
		// Preparer): restart here; the restart is not timed.
		if err := t.PrepareRun(ctx, mode); err != nil {
			return Result{}, err
		}
	}
	elapsed, info, err := t.send(ctx, p.Data, p.SHA256)
	if err != nil {
		return Result{}, err
	}
	return Result{Elapsed: elapsed, Info: info}, nil
}

// send posts msg on the sender's API, timing only the request, checks
// that it went over every relay, then fetches it from the receiver's
// inbox and checks its SHA-256.
//
// Every send has its own name: the daemon sends a body larger than one
// chunk (4 MiB) as a file, and a file with the same content and name as
// one the receiver already holds is "resumed", that is, not sent again.
func (t *vmdtTransport) send(ctx context.Context, msg []byte, sum [32]byte) (time.Duration, string, error) {
	t.sends++
	q := url.Values{"to": {vmdtReceiverName}, "n": {strconv.Itoa(t.env.N)}, "k": {strconv.Itoa(t.env.K)},
		"name": {fmt.Sprintf("netlab-%d", t.sends)}}
	var rep vmdtSendReport
	t.senderUsed = true
	start := time.Now()
	err := t.sender.call(ctx, http.MethodPost, "/v1/send?"+q.Encode(), bytes.NewReader(msg), &rep)
	elapsed := time.Since(start)
	if err != nil {
		var ae *vmdtAPIError
		if errors.As(err, &ae) && len(ae.body) > 0 {
			return 0, "", fmt.Errorf("%w; body %s", err, oneLineBytes(ae.body, 600))
		}
		return 0, "", err
	}
	if rep.Status != "delivered" {
		return 0, "", fmt.Errorf("vmdt: send status %q, shares %s", rep.Status, t.describeShares(rep))
	}
	hosts := map[string]bool{}
	for _, s := range rep.Shares {
		if h, ok := t.relayHost[s.RelayPeer]; ok {
			hosts[h] = true
		}
	}
	if len(rep.Shares) != t.env.N || len(hosts) != t.env.N {
		return 0, "", fmt.Errorf("%w: %d shares over %d distinct lab relays, want %d: %s",
			errVMDTNotMultipath, len(rep.Shares), len(hosts), t.env.N, t.describeShares(rep))
	}
	var got []byte
	if err := t.receiver.call(ctx, http.MethodGet, "/v1/inbox/"+url.PathEscape(rep.ID), nil, &got); err != nil {
		return 0, "", fmt.Errorf("vmdt: fetch message %s from the receiver: %w", rep.ID, err)
	}
	if sha256.Sum256(got) != sum {
		return 0, "", fmt.Errorf("%w: vmdt: message %s: %d bytes, want %d", ErrCorrupt, rep.ID, len(got), len(msg))
	}
	held, err := t.heldAt(ctx, rep.ID)
	if err != nil {
		return 0, "", err
	}
	// Completion as for every transport: until the receiver holds the
	// message (decoded and authenticated; its inbox entry's time, from
	// the same clock as start). The sender's confirmation comes about
	// one one-way delay later.
	recv := held.Sub(start)
	if recv <= 0 || recv > elapsed {
		return 0, "", fmt.Errorf("vmdt: message %s: receiver time %v outside the send's %v", rep.ID, recv, elapsed)
	}
	info := fmt.Sprintf("receiver held it after %v; sender confirmed (DELIVERED) after %v (daemon took_ms %.1f); shares %s",
		recv.Round(100*time.Microsecond), elapsed.Round(100*time.Microsecond), rep.TookMS, t.describeShares(rep))
	return recv, info, nil
}

// heldAt returns when the receiver stored message id: the time of its
// inbox entry.
func (t *vmdtTransport) heldAt(ctx context.Context, id string) (time.Time, error) {
	var entries []struct {
		ID   string    `json:"id"`
		Time time.Time `json:"time"`
	}
	if err := t.receiver.call(ctx, http.MethodGet, "/v1/inbox", nil, &entries); err != nil {
		return time.Time{}, fmt.Errorf("vmdt: receiver inbox: %w", err)
	}
	for _, e := range entries {
		if e.ID == id {
			return e.Time, nil
		}
	}
	return time.Time{}, fmt.Errorf("vmdt: message %s is not in the receiver's inbox list", id)
}

// describeShares says which lab relay carried each share and how it ended.
func (t *vmdtTransport) describeShares(rep vmdtSendReport) string {
	var parts []string
	for _, s := range rep.Shares {
		h := t.relayHost[s.RelayPeer]
		if h == "" {
			h = "peer " + s.RelayPeer
		}
		p := fmt.Sprintf("%d:%s:%s", s.Index, h, s.Outcome)
		if s.Detail != "" {
			p += "(" + oneLineBytes([]byte(s.Detail), 200) + ")"
		}
		parts = append(parts, p)
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, " ") + "] used " + fmt.Sprint(rep.Used)
}

func oneLineBytes(b []byte, max int) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

func (t *vmdtTransport) Close() error {
	nodes := slices.DeleteFunc(append([]*vmdtNode{t.sender, t.receiver, t.boot}, t.relays...),
		func(n *vmdtNode) bool { return n == nil })
	err := t.parallel(context.Background(), nodes, func(n *vmdtNode) error { return n.stop() })
	t.sender, t.receiver, t.boot, t.relays = nil, nil, nil, nil
	return err
}

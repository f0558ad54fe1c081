package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	logging "github.com/ipfs/go-log/v2"

	"github.com/vmdt/vmdt/bench/netlab/emu"
)

var log = logging.Logger("vmdt/netlab/lab")

// Errors from New and Check; test with errors.Is.
var (
	// ErrNotRoot: the lab creates namespaces and TUN devices, which needs root.
	ErrNotRoot = errors.New("netlab needs root: it creates network namespaces and TUN devices (run it as root, e.g. with sudo)")
	// ErrUnsupported: this machine lacks iproute2, /dev/net/tun or namespace support.
	ErrUnsupported = errors.New("netlab: network namespaces or TUN devices unavailable")
)

// MaxRelays is the most relay hosts a lab can have.
const MaxRelays = 8

// Host names used for the emulator's links and in reports.
const (
	SenderName   = "sender"
	ReceiverName = "receiver"
)

// RelayName returns the name of relay i (1-based).
func RelayName(i int) string { return "relay" + strconv.Itoa(i) }

// Host is one emulated machine: a network namespace with one address.
type Host struct {
	Name  string     // "sender", "receiver", "relay1".."relay8"
	Netns string     // name of its namespace, for "ip netns exec"
	Addr  netip.Addr // its only address, in 10.77.0.0/16
}

// NetnsPath is the namespace's bind mount.
func (h *Host) NetnsPath() string { return "/var/run/netns/" + h.Netns }

// Do runs fn on an OS thread inside the host's namespace. Sockets fn opens
// stay in the namespace; goroutines fn starts do not run in it.
func (h *Host) Do(fn func() error) error { return inNetns(h.NetnsPath(), fn) }

// Spec describes a lab.
type Spec struct {
	Relays int    // 0..MaxRelays
	Seed   uint64 // initial loss seed
	Prefix string // namespace name prefix; default "vmdtlab"
}

// Lab is a running emulated network. Close removes it.
type Lab struct {
	Sender, Receiver *Host
	Relays           []*Host

	prefix string
	emu    *emu.Emulator
}

// Check reports whether this process can build a lab: it must be root, and
// the machine must have iproute2 and /dev/net/tun.
func Check() error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("%w: the ip command (iproute2) is not installed", ErrUnsupported)
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	return nil
}

// New builds a lab: namespaces, TUN devices, addresses and an emulator
// with every link up and unshaped (call SetPaths next). If anything fails
// half-way, what was built is removed again.
func New(ctx context.Context, spec Spec) (_ *Lab, err error) {
	if err := Check(); err != nil {
		return nil, err
	}
	if spec.Relays < 0 || spec.Relays > MaxRelays {
		return nil, fmt.Errorf("lab: %d relays, want 0..%d", spec.Relays, MaxRelays)
	}
	if spec.Prefix == "" {
		spec.Prefix = "vmdtlab"
	}
	removeStale(ctx, spec.Prefix)

	l := &Lab{prefix: fmt.Sprintf("%s-%d-", spec.Prefix, os.Getpid()), emu: emu.New(spec.Seed)}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	l.Sender = l.newHost(SenderName, 1)
	l.Receiver = l.newHost(ReceiverName, 2)
	for i := 1; i <= spec.Relays; i++ {
		l.Relays = append(l.Relays, l.newHost(RelayName(i), 10+i))
	}
	for _, h := range l.Hosts() {
		if err := l.buildHost(ctx, h); err != nil {
			return nil, err
		}
	}
	for _, k := range l.linkKeys() {
		if err := l.emu.Connect(k.From, k.To, emu.LinkParams{}); err != nil {
			return nil, err
		}
	}
	if err := l.emu.Start(); err != nil {
		return nil, err
	}
	return l, nil
}

// Network is the lab's address range: every host has one address in it,
// and it exists only inside the lab's namespaces.
var Network = netip.MustParsePrefix("10.77.0.0/16")

func (l *Lab) newHost(name string, octet int) *Host {
	return &Host{Name: name, Netns: l.prefix + name, Addr: netip.AddrFrom4([4]byte{10, 77, 0, byte(octet)})}
}

func (l *Lab) buildHost(ctx context.Context, h *Host) error {
	if err := ip(ctx, "netns", "add", h.Netns); err != nil {
		if strings.Contains(err.Error(), "Operation not permitted") {
			return fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
		return err
	}
	// Best effort: without IPv6 the kernel sends no router solicitations
	// into the TUN (the emulator counts any that arrive as unroutable);
	// without saved TCP metrics every new connection starts from the
	// kernel's defaults instead of the ssthresh and RTT cached from the
	// previous run, so runs are independent of each other.
	for _, k := range []string{"net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6", "net/ipv4/tcp_no_metrics_save"} {
		if err := writeSysctl(h.NetnsPath(), k, "1"); err != nil {
			log.Warnf("%s: sysctl %s: %v", h.Name, k, err)
		}
	}
	tun, err := openTUN(h.NetnsPath(), "tun0")
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnsupported, h.Name, err)
	}
	if err := l.emu.AddHost(h.Name, h.Addr, tun); err != nil {
		tun.Close()
		return err
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", netip.PrefixFrom(h.Addr, Network.Bits()).String(), "dev", "tun0"},
		{"link", "set", "tun0", "mtu", "1500", "txqueuelen", "1000", "up"},
	} {
		if err := ip(ctx, append([]string{"-n", h.Netns}, args...)...); err != nil {
			return err
		}
	}
	return nil
}

// Hosts returns sender, receiver and relays in that order.
func (l *Lab) Hosts() []*Host {
	return append([]*Host{l.Sender, l.Receiver}, l.Relays...)
}

func (l *Lab) linkKeys() []emu.LinkKey {
	key := func(from, to string) emu.LinkKey { return emu.LinkKey{From: from, To: to} }
	s, r := SenderName, ReceiverName
	keys := []emu.LinkKey{key(s, r), key(r, s)}
	for _, h := range l.Relays {
		keys = append(keys, key(s, h.Name), key(h.Name, s), key(h.Name, r), key(r, h.Name))
	}
	return keys
}

// IsDirect reports whether k is one direction of the direct
// sender<->receiver path.
func IsDirect(k emu.LinkKey) bool {
	return (k.From == SenderName && k.To == ReceiverName) || (k.From == ReceiverName && k.To == SenderName)
}

// PathProfile is the end-to-end behaviour of one sender->receiver path.
type PathProfile struct {
	RTT   time.Duration // round-trip propagation delay
	Loss  float64       // probability a packet is lost, in each direction
	Rate  float64       // bits per second on every hop, 0 = unlimited
	Queue time.Duration // queue limit on rate-limited hops, 0 = emu default
}

// HopParams splits an end-to-end profile over hops equal hops in series:
// each gets RTT/(2*hops) one-way delay and loss 1-(1-p)^(1/hops), so that
// the hops compose to exactly the profile.
func HopParams(p PathProfile, hops int) emu.LinkParams {
	return emu.LinkParams{
		Delay: p.RTT / time.Duration(2*hops),
		Loss:  1 - math.Pow(1-p.Loss, 1/float64(hops)),
		Rate:  p.Rate,
		Queue: p.Queue,
	}
}

// Paths configures every link of the lab.
type Paths struct {
	Relay  PathProfile // each relayed path sender->relayN->receiver, end to end
	Active int         // relays 1..Active are up; the others are down
	Direct PathProfile // the direct sender->receiver path
}

// SetPaths applies p: relay hops get HopParams(p.Relay, 2), the direct
// path HopParams(p.Direct, 1); relays beyond p.Active are taken down.
func (l *Lab) SetPaths(p Paths) error {
	if p.Active < 0 || p.Active > len(l.Relays) {
		return fmt.Errorf("lab: %d active relays, have %d", p.Active, len(l.Relays))
	}
	hop, direct := HopParams(p.Relay, 2), HopParams(p.Direct, 1)
	for _, k := range l.linkKeys() {
		params, down := hop, false
		if IsDirect(k) {
			params = direct
		} else {
			down = relayIndex(k) > p.Active
		}
		if err := l.emu.SetParams(k.From, k.To, params); err != nil {
			return err
		}
		if err := l.emu.SetDown(k.From, k.To, down); err != nil {
			return err
		}
	}
	return nil
}

// relayIndex returns N for a link touching relayN, 0 otherwise.
func relayIndex(k emu.LinkKey) int {
	for _, n := range []string{k.From, k.To} {
		if i, err := strconv.Atoi(strings.TrimPrefix(n, "relay")); err == nil && strings.HasPrefix(n, "relay") {
			return i
		}
	}
	return 0
}

// SetRelayDown takes both hops of relay i's path (1-based) down in both
// directions, or brings them up.
func (l *Lab) SetRelayDown(i int, down bool) error {
	if i < 1 || i > len(l.Relays) {
		return fmt.Errorf("lab: no relay %d", i)
	}
	r := RelayName(i)
	for _, k := range [][2]string{{SenderName, r}, {r, SenderName}, {r, ReceiverName}, {ReceiverName, r}} {
		if err := l.emu.SetDown(k[0], k[1], down); err != nil {
			return err
		}
	}
	return nil
}

// Reseed restarts every link's loss generator from seed.
func (l *Lab) Reseed(seed uint64) { l.emu.Reseed(seed) }

// Stats returns the emulator's counters.
func (l *Lab) Stats() emu.Snapshot { return l.emu.Stats() }

// Command returns a command that runs name with args inside h's
// namespace. The process is killed if this process dies, and Close kills
// it if it is still running.
func (l *Lab) Command(ctx context.Context, h *Host, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.Netns, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// Close kills the processes still running in the lab's namespaces, stops
// the emulator (closing the TUN devices) and deletes the namespaces. It is
// safe to call more than once.
func (l *Lab) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	hosts := []*Host{}
	for _, h := range []*Host{l.Sender, l.Receiver} {
		if h != nil {
			hosts = append(hosts, h)
		}
	}
	hosts = append(hosts, l.Relays...)
	for _, h := range hosts {
		killNetnsPids(ctx, h.Netns)
	}
	if l.emu != nil {
		if err := l.emu.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, h := range hosts {
		if err := ip(ctx, "netns", "del", h.Netns); err != nil && !strings.Contains(err.Error(), "No such file") {
			errs = append(errs, err)
		}
	}
	l.Sender, l.Receiver, l.Relays = nil, nil, nil
	return errors.Join(errs...)
}

// ip runs the ip command and returns its stderr in the error.
func ip(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "ip", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("lab: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// killNetnsPids kills every process in the named namespace.
func killNetnsPids(ctx context.Context, netns string) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "pids", netns).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// removeStale deletes namespaces named prefix-PID-* whose PID is no
// longer a running process: leftovers of a netlab that was killed.
func removeStale(ctx context.Context, prefix string) {
	entries, err := os.ReadDir("/var/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix+"-")
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid == os.Getpid() {
			continue
		}
		if processAlive(pidText) {
			continue
		}
		log.Infof("removing stale namespace %s", e.Name())
		killNetnsPids(ctx, e.Name())
		_ = ip(ctx, "netns", "del", e.Name())
	}
}

// processAlive reports whether the process exists and is not a zombie.
func processAlive(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// A devnet runs many nodes in one process, often on a busy machine (a
// test run with the race detector): its dials and joins may take longer
// than a lone node's would.
const (
	devnetJoinTimeout = 2 * time.Minute
	devnetDialTimeout = 30 * time.Second
)

// DevnetConfig configures StartDevnet. Zero values mean the defaults.
type DevnetConfig struct {
	// Nodes is the number of ordinary nodes; 0 means 5.
	Nodes int
	// Dir holds one repository per node (bootstrap, node1, node2, ...);
	// existing repositories are reused, so identities survive restarts.
	// "" means a temporary directory that Close removes.
	Dir string
	// TCPOnly leaves QUIC out (saves CPU with many nodes).
	TCPOnly bool
	// API starts each node's local API, so the vmdt CLI can use the
	// node with --repo Dir/nodeN while the devnet runs.
	API bool
	// Parallelism bounds concurrent registrations and lookups; 0 means 8.
	Parallelism int
}

// Devnet is a bootstrap node and a set of ordinary nodes in this
// process, on loopback.
type Devnet struct {
	// Bootstrap is the network's only bootstrap node and authority.
	Bootstrap *Daemon
	// Nodes are the ordinary nodes; Nodes[i] registers Names[i].
	Nodes []*Daemon
	Names []string

	dir         string
	removeDir   bool
	parallelism int
	listen      []string
	tcpOnly     bool
	api         bool
}

// StartDevnet starts a bootstrap node and cfg.Nodes ordinary nodes that
// join through it. Nodes are started concurrently.
func StartDevnet(ctx context.Context, cfg DevnetConfig) (_ *Devnet, err error) {
	if cfg.Nodes <= 0 {
		cfg.Nodes = 5
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = 8
	}
	d := &Devnet{dir: cfg.Dir, parallelism: cfg.Parallelism}
	if d.dir == "" {
		if d.dir, err = os.MkdirTemp("", "vmdt-devnet-"); err != nil {
			return nil, fmt.Errorf("node: devnet: %w", err)
		}
		d.removeDir = true
	}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()

	d.listen = []string{"/ip4/127.0.0.1/tcp/0"}
	if !cfg.TCPOnly {
		d.listen = append(d.listen, "/ip4/127.0.0.1/udp/0/quic-v1")
	}
	d.tcpOnly, d.api = cfg.TCPOnly, cfg.API
	start := func(name string, role Role, boot []peer.AddrInfo) (*Daemon, error) {
		return d.startDaemon(ctx, name, role, boot)
	}

	if d.Bootstrap, err = start("bootstrap", RoleBootstrap, nil); err != nil {
		return nil, fmt.Errorf("node: devnet bootstrap: %w", err)
	}
	boot := []peer.AddrInfo{d.Bootstrap.Node().AddrInfo()}

	d.Nodes = make([]*Daemon, cfg.Nodes)
	d.Names = make([]string, cfg.Nodes)
	errs := make([]error, cfg.Nodes)
	d.forEach(cfg.Nodes, func(i int) {
		d.Names[i] = fmt.Sprintf("node%d", i+1)
		d.Nodes[i], errs[i] = start(d.Names[i], RoleNode, boot)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("node: devnet: %w", err)
	}
	return d, nil
}

// startDaemon starts the daemon of repository name in the devnet's
// directory.
func (d *Devnet) startDaemon(ctx context.Context, name string, role Role, boot []peer.AddrInfo) (*Daemon, error) {
	r, err := openOrInitRepo(filepath.Join(d.dir, name))
	if err != nil {
		return nil, err
	}
	c := DefaultConfig()
	c.Listen = d.listen
	o, err := OptionsFromRepo(r, c, role)
	if err != nil {
		return nil, err
	}
	o.TCPOnly = d.tcpOnly
	o.Bootstrap = boot
	o.DialTimeout = devnetDialTimeout
	// Joining is bounded by ctx; many nodes starting at once on a busy
	// machine may need longer than a lone daemon's default.
	return StartDaemon(ctx, r, DaemonOptions{Node: o, NoAPI: !d.api, JoinTimeout: devnetJoinTimeout})
}

// StopNode stops Nodes[i]; its repository stays, for RestartNode.
func (d *Devnet) StopNode(i int) error {
	return d.Nodes[i].Close()
}

// RestartNode starts Nodes[i] again on its repository (same identity,
// friends and username, new addresses) after StopNode.
func (d *Devnet) RestartNode(ctx context.Context, i int) error {
	nd, err := d.startDaemon(ctx, d.Names[i], RoleNode, []peer.AddrInfo{d.Bootstrap.Node().AddrInfo()})
	if err != nil {
		return fmt.Errorf("node: devnet: restart %s: %w", d.Names[i], err)
	}
	d.Nodes[i] = nd
	return nil
}

// MakeFriends makes Nodes[i] and Nodes[j] friends, as their users would:
// i asks j, j accepts. It returns once both hold the other's token. Their
// names must be registered (RegisterAll). Friends already (a devnet
// directory reused), it only checks the tokens.
func (d *Devnet) MakeFriends(ctx context.Context, i, j int) error {
	a, b := d.Nodes[i].Node(), d.Nodes[j].Node()
	if _, err := a.CheckFriend(d.Names[j]); err != nil {
		if _, err := a.RequestFriend(ctx, d.Names[j]); err != nil {
			return fmt.Errorf("node: devnet: %s asks %s: %w", d.Names[i], d.Names[j], err)
		}
		ans, err := b.AcceptFriend(ctx, d.Names[i])
		if err != nil {
			return fmt.Errorf("node: devnet: %s accepts %s: %w", d.Names[j], d.Names[i], err)
		}
		if !ans.Delivered {
			return fmt.Errorf("node: devnet: %s's acceptance did not reach %s", d.Names[j], d.Names[i])
		}
	}
	if _, err := a.CheckFriend(d.Names[j]); err != nil {
		return fmt.Errorf("node: devnet: %s: %w", d.Names[i], err)
	}
	if _, ok := a.FriendToken(b.DDTAddr()); !ok {
		return fmt.Errorf("node: devnet: %s holds no token of %s", d.Names[i], d.Names[j])
	}
	if !b.IsFriend(a.DDTAddr()) {
		return fmt.Errorf("node: devnet: %s does not count %s as a friend", d.Names[j], d.Names[i])
	}
	if _, ok := b.FriendToken(a.DDTAddr()); !ok {
		return fmt.Errorf("node: devnet: %s holds no token of %s", d.Names[j], d.Names[i])
	}
	return nil
}

// openOrInitRepo opens the repository in dir, creating it if needed.
func openOrInitRepo(dir string) (*Repo, error) {
	r, err := OpenRepo(dir)
	if errors.Is(err, ErrNoRepo) {
		return InitRepo(dir, DefaultConfig())
	}
	return r, err
}

// Dir returns the directory that holds the nodes' repositories.
func (d *Devnet) Dir() string { return d.dir }

// BootstrapAddrs returns the bootstrap node's full multiaddrs.
func (d *Devnet) BootstrapAddrs() []ma.Multiaddr { return d.Bootstrap.Node().Addrs() }

// RegisterAll registers Names[i] for Nodes[i], at most Parallelism at a
// time, and returns how long each took.
func (d *Devnet) RegisterAll(ctx context.Context) ([]time.Duration, error) {
	took := make([]time.Duration, len(d.Nodes))
	errs := make([]error, len(d.Nodes))
	d.forEach(len(d.Nodes), func(i int) {
		start := time.Now()
		_, errs[i] = d.Nodes[i].RegisterName(ctx, d.Names[i])
		took[i] = time.Since(start)
	})
	return took, errors.Join(errs...)
}

// Lookup is the outcome of one node resolving one name.
type Lookup struct {
	From int    // index into Nodes
	Name string // the name looked up
	Info NameInfo
	Took time.Duration
	Err  error
}

// OK reports whether the lookup found the node that registered Name.
func (l Lookup) OK(d *Devnet) bool {
	if l.Err != nil {
		return false
	}
	for i, n := range d.Names {
		if n == l.Name {
			return l.Info.PeerID == d.Nodes[i].Node().ID() && l.Info.DDTAddr == d.Nodes[i].Node().DDTAddr()
		}
	}
	return false
}

// ResolveAll makes every node resolve the names of the nodes listed in
// targets(i) (all names when targets is nil), at most Parallelism lookups
// at a time, and returns every outcome.
func (d *Devnet) ResolveAll(ctx context.Context, targets func(from int) []int) []Lookup {
	type job struct{ from, to int }
	var jobs []job
	for i := range d.Nodes {
		if targets == nil {
			for j := range d.Nodes {
				jobs = append(jobs, job{i, j})
			}
			continue
		}
		for _, j := range targets(i) {
			jobs = append(jobs, job{i, j})
		}
	}
	out := make([]Lookup, len(jobs))
	d.forEach(len(jobs), func(k int) {
		jb := jobs[k]
		start := time.Now()
		info, err := d.Nodes[jb.from].Node().Resolve(ctx, d.Names[jb.to])
		out[k] = Lookup{From: jb.from, Name: d.Names[jb.to], Info: info, Took: time.Since(start), Err: err}
	})
	return out
}

// StopBootstrap stops the bootstrap node; the ordinary nodes keep running.
func (d *Devnet) StopBootstrap() error {
	return d.Bootstrap.Close()
}

// Close stops every node and removes a temporary directory.
func (d *Devnet) Close() error {
	errs := make([]error, len(d.Nodes)+2)
	d.forEach(len(d.Nodes), func(i int) {
		if d.Nodes[i] != nil {
			errs[i] = d.Nodes[i].Close()
		}
	})
	if d.Bootstrap != nil {
		errs[len(d.Nodes)] = d.Bootstrap.Close()
	}
	if d.removeDir {
		errs[len(d.Nodes)+1] = os.RemoveAll(d.dir)
	}
	return errors.Join(errs...)
}

// forEach calls f(0..n-1) with at most d.parallelism calls at a time and
// returns when all returned.
func (d *Devnet) forEach(n int, f func(i int)) {
	sem := make(chan struct{}, max(d.parallelism, 1))
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}

package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// DefaultAPIAddr is where the local API listens unless told otherwise:
// loopback, any free port.
const DefaultAPIAddr = "127.0.0.1:0"

// defaultJoinTimeout bounds joining the network at start.
const defaultJoinTimeout = 30 * time.Second

// DaemonOptions configure StartDaemon.
type DaemonOptions struct {
	// Node configures the node (see OptionsFromRepo).
	Node Options
	// APIAddr is the local API's loopback host:port; "" means
	// DefaultAPIAddr.
	APIAddr string
	// NoAPI runs the node without the local API (in-process networks).
	NoAPI bool
	// JoinTimeout bounds joining the network; 0 means 30 s.
	JoinTimeout time.Duration
}

// Daemon is a node running on a repository: it holds the repository's
// lock, keeps the repository's username published, serves the local API
// and advertises the API's address in the repository's "api" file.
type Daemon struct {
	repo *Repo
	lock *repoLock
	node *Node
	api  *API // nil with NoAPI

	closeOnce sync.Once
	closeErr  error
}

// StartDaemon locks the repository, starts the node, joins the network
// and starts the local API. The "api" file is written last, so a client
// that finds it can use the daemon. An ordinary node fails when it cannot
// reach any bootstrap node; a bootstrap node only logs that, since the
// other bootstrap nodes may start later.
func StartDaemon(ctx context.Context, r *Repo, o DaemonOptions) (_ *Daemon, err error) {
	d := &Daemon{repo: r}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.lock, err = lockRepo(r.Dir()); err != nil {
		return nil, err
	}
	var token string
	if !o.NoAPI {
		if token, err = r.Token(); err != nil {
			return nil, err
		}
	}
	if d.node, err = New(ctx, o.Node); err != nil {
		return nil, err
	}
	if err := d.join(ctx, o); err != nil {
		return nil, err
	}
	name, err := r.Name()
	if err != nil {
		return nil, err
	}
	if name != "" {
		d.node.KeepName(name)
	}
	if o.NoAPI {
		return d, nil
	}
	addr := o.APIAddr
	if addr == "" {
		addr = DefaultAPIAddr
	}
	if d.api, err = StartAPI(daemonBackend{d}, addr, token); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(r.Dir(), apiFile), []byte(d.api.Addr().String()+"\n")); err != nil {
		return nil, err
	}
	log.Infow("daemon ready", "repo", r.Dir(), "api", d.api.Addr())
	return d, nil
}

// join bootstraps the node into the network, if it knows other nodes.
func (d *Daemon) join(ctx context.Context, o DaemonOptions) error {
	others := 0
	for _, ai := range o.Node.Bootstrap {
		if ai.ID != d.node.ID() {
			others++
		}
	}
	if others == 0 {
		return nil
	}
	timeout := o.JoinTimeout
	if timeout <= 0 {
		timeout = defaultJoinTimeout
	}
	jctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := d.node.Bootstrap(jctx)
	if err != nil && d.node.Role() == RoleBootstrap {
		log.Warnw("bootstrap node could not reach the other bootstrap nodes yet", "err", err)
		return nil
	}
	return err
}

// Node returns the daemon's node.
func (d *Daemon) Node() *Node { return d.node }

// Repo returns the daemon's repository.
func (d *Daemon) Repo() *Repo { return d.repo }

// APIAddr returns the local API's address, or "" without an API.
func (d *Daemon) APIAddr() string {
	if d.api == nil {
		return ""
	}
	return d.api.Addr().String()
}

// RegisterName registers name for the node (see Node.RegisterName) and
// records it in the repository, so a restarted daemon keeps it published.
func (d *Daemon) RegisterName(ctx context.Context, name string) (NameInfo, error) {
	info, err := d.node.RegisterName(ctx, name)
	if err != nil {
		return info, err
	}
	if err := d.repo.SetName(info.Username); err != nil {
		return info, err
	}
	return info, nil
}

// Close removes the "api" file, stops the API and the node and releases
// the repository. It is idempotent.
func (d *Daemon) Close() error {
	d.closeOnce.Do(func() {
		var errs []error
		if d.api != nil {
			err := os.Remove(filepath.Join(d.repo.Dir(), apiFile))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			errs = append(errs, d.api.Close())
		}
		if d.node != nil {
			errs = append(errs, d.node.Close())
		}
		if d.lock != nil {
			errs = append(errs, d.lock.unlock())
		}
		d.closeErr = errors.Join(errs...)
		if d.closeErr != nil {
			d.closeErr = fmt.Errorf("node: daemon close: %w", d.closeErr)
		}
	})
	return d.closeErr
}

// daemonBackend serves the API from a daemon: the node's answers, with
// registrations recorded in the repository.
type daemonBackend struct{ d *Daemon }

func (b daemonBackend) Info() Info        { return b.d.node.Info() }
func (b daemonBackend) Peers() []PeerInfo { return b.d.node.Peers() }
func (b daemonBackend) RegisterName(ctx context.Context, name string) (NameInfo, error) {
	return b.d.RegisterName(ctx, name)
}
func (b daemonBackend) Resolve(ctx context.Context, name string) (NameInfo, error) {
	return b.d.node.Resolve(ctx, name)
}
func (b daemonBackend) RequestFriend(ctx context.Context, name string) (FriendInfo, error) {
	return b.d.node.RequestFriend(ctx, name)
}
func (b daemonBackend) AcceptFriend(ctx context.Context, name string) (FriendAnswer, error) {
	return b.d.node.AcceptFriend(ctx, name)
}
func (b daemonBackend) DenyFriend(ctx context.Context, name string) (FriendAnswer, error) {
	return b.d.node.DenyFriend(ctx, name)
}
func (b daemonBackend) Friends() []FriendInfo { return b.d.node.Friends() }
func (b daemonBackend) SendMessage(ctx context.Context, name string, msg []byte, o SendOptions) (SendReport, error) {
	return b.d.node.SendMessage(ctx, name, msg, o)
}
func (b daemonBackend) SendFile(ctx context.Context, name string, r io.ReaderAt, size int64, o SendOptions) (SendReport, error) {
	return b.d.node.SendFile(ctx, name, r, size, o)
}
func (b daemonBackend) SpoolDir() string             { return b.d.node.SpoolDir() }
func (b daemonBackend) Inbox() ([]InboxEntry, error) { return b.d.node.Inbox() }
func (b daemonBackend) OpenInboxMessage(id string) (InboxEntry, *os.File, error) {
	return b.d.node.OpenInboxMessage(id)
}
func (b daemonBackend) CreateCluster(ctx context.Context, n, k int) (ClusterView, error) {
	return b.d.node.CreateCluster(ctx, n, k)
}
func (b daemonBackend) JoinCluster(ctx context.Context, id string, via peer.ID) (ClusterView, error) {
	return b.d.node.JoinCluster(ctx, id, via)
}
func (b daemonBackend) Clusters() []ClusterView { return b.d.node.Clusters() }

// The daemon serves every part of the API.
var (
	_ DeliveryBackend = daemonBackend{}
	_ ClusterBackend  = daemonBackend{}
)

// Command vmdt runs and controls a VMDT node.
//
// vmdt init creates a repository; vmdt daemon and vmdt bootstrap run a
// node on it with a local API; the other commands talk to that API. All
// behaviour lives in package node; this command parses flags and prints.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `vmdt runs a VMDT peer-to-peer node.

Usage:
  vmdt [--repo DIR] <command> [flags] [args]

Commands:
  init                  create a repository: identity, seal key, config, API token
  daemon                run a node with its local API until SIGINT or SIGTERM
  bootstrap             run a bootstrap node (DHT server and name notary)
  id                    show the running node's peer ID, DDT address and addresses
  peers                 list the running node's connected peers
  name register <name>  claim a username; returns once the record is stored
  resolve <name>        look up a username
  friend add <name>     ask <name> to be friends (needs a registered name)
  friend accept <name>  accept <name>'s friend request
  friend deny <name>    deny <name>'s friend request, or drop <name>
  friend list           list friend requests and friends
  send <name> <file|->  send a file (or stdin) to the friend <name> through
                        --n relays, --k of whose shares suffice; --cluster ID
                        sends within a cluster (its members relay)
  inbox                 list received messages
  get <id> [-o FILE]    write a received message to FILE (default stdout)
  cluster create        create a cluster (--n, --k); prints its id
  cluster join <id>     join a cluster through a member (--via <peer ID>)
  cluster list          list this node's clusters and their members
  devnet                run a demonstration network on loopback

The repository is --repo, else $VMDT_REPO, else ~/.vmdt. Commands that
print data take --json. Run 'vmdt <command> -h' for a command's flags.
Logs go to stderr; GOLOG_LOG_LEVEL=info (or debug) shows them.
`

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, a second one kills the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand: it parses args and does its work.
type command func(ctx context.Context, env *env, args []string) error

var commands = map[string]command{
	"init":      cmdInit,
	"daemon":    cmdDaemon,
	"bootstrap": cmdBootstrap,
	"id":        cmdID,
	"peers":     cmdPeers,
	"name":      cmdName,
	"resolve":   cmdResolve,
	"friend":    cmdFriend,
	"devnet":    cmdDevnet,
	"send":      cmdSend,
	"inbox":     cmdInbox,
	"get":       cmdGet,
	"cluster":   cmdCluster,
}

// env is what every command gets: the outputs and the global --repo.
type env struct {
	stdout, stderr io.Writer
	repo           string // from the global --repo; "" = default
}

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	fs := newFlagSet("vmdt")
	fs.StringVar(&e.repo, "repo", "", "repository directory")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, errHelp) {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		return fail(stderr, "vmdt", usageErrorf("%v (run 'vmdt help')", err))
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	name := fs.Arg(0)
	if name == "help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := commands[name]
	if !ok {
		return fail(stderr, "vmdt", usageErrorf("unknown command %q (run 'vmdt help')", name))
	}
	if err := cmd(ctx, e, fs.Args()[1:]); err != nil {
		if errors.Is(err, errHelp) {
			return exitOK
		}
		return fail(stderr, "vmdt "+name, err)
	}
	return exitOK
}

// fail prints err as one line and returns its exit code.
func fail(stderr io.Writer, prefix string, err error) int {
	fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailure
}

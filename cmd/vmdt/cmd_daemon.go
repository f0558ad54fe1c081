package main

import (
	"context"
	"fmt"
	"io"

	"github.com/vmdt/vmdt/node"
)

// cmdDaemon runs an ordinary node until the context ends.
func cmdDaemon(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "daemon", "vmdt daemon [--repo DIR] [--listen MA]... [--bootstrap MA]... [--authority ID]... [--udp HOST:PORT] [--dht-mode MODE] [--api HOST:PORT] [--json]", true)
	nf := addNetFlags(f, true)
	api := f.String("api", node.DefaultAPIAddr, "loopback host:port of the local API")
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	return runDaemon(ctx, e, f, nf, *api, node.RoleNode)
}

// cmdBootstrap runs a bootstrap node until the context ends.
func cmdBootstrap(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "bootstrap", "vmdt bootstrap [--repo DIR] [--listen MA]... [--bootstrap MA]... [--authority ID]... [--api HOST:PORT] [--json]", true)
	nf := addNetFlags(f, false)
	api := f.String("api", node.DefaultAPIAddr, "loopback host:port of the local API")
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	return runDaemon(ctx, e, f, nf, *api, node.RoleBootstrap)
}

// runDaemon starts a daemon of role on the flags' repository, prints
// where it listens and stops it when ctx ends.
func runDaemon(ctx context.Context, e *env, f *cmdFlags, nf *netFlags, api string, role node.Role) error {
	dir, err := f.repoDir()
	if err != nil {
		return err
	}
	r, err := node.OpenRepo(dir)
	if err != nil {
		return err
	}
	cfg, err := r.Config()
	if err != nil {
		return err
	}
	nf.apply(&cfg)
	o, err := node.OptionsFromRepo(r, cfg, role)
	if err != nil {
		return err
	}
	d, err := node.StartDaemon(ctx, r, node.DaemonOptions{Node: o, APIAddr: api})
	if err != nil {
		return err
	}
	info := d.Node().Info()
	started := struct {
		node.Info
		API string `json:"api"`
	}{info, d.APIAddr()}
	if f.json {
		err = printJSON(e.stdout, started)
	} else {
		err = printStarted(e.stdout, started.Info, started.API)
	}
	if err != nil {
		d.Close()
		return err
	}
	<-ctx.Done()
	return d.Close()
}

func printStarted(w io.Writer, info node.Info, api string) error {
	fields := []field{
		kv("peer_id", info.PeerID.String()),
		kv("ddt_address", info.DDTAddr.String()),
		kv("role", info.Role),
	}
	if info.UDP != "" {
		fields = append(fields, kv("udp", info.UDP))
	}
	fields = append(fields, kv("api", api), kv("addrs", info.Addrs...))
	if err := printFields(w, fields...); err != nil {
		return err
	}
	if info.Role == node.RoleBootstrap.String() {
		_, err := fmt.Fprintln(w, "Nodes join this network with --bootstrap and one of the addrs above.")
		return err
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/vmdt/vmdt/node"
)

// Timeouts of the commands that call a daemon.
const (
	queryTimeout    = time.Minute
	registerTimeout = 3 * time.Minute
)

// client returns an API client for the flags' repository.
func client(f *cmdFlags) (*node.APIClient, error) {
	dir, err := f.repoDir()
	if err != nil {
		return nil, err
	}
	return node.NewAPIClient(dir)
}

// cmdID prints the running node's identity and addresses.
func cmdID(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "id", "vmdt id [--repo DIR] [--json]", true)
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := client(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	info, err := c.ID(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(e.stdout, info)
	}
	auth := make([]string, len(info.Authorities))
	for i, a := range info.Authorities {
		auth[i] = a.String()
	}
	fields := []field{
		kv("peer_id", info.PeerID.String()),
		kv("ddt_address", info.DDTAddr.String()),
		kv("role", info.Role),
	}
	if info.UDP != "" {
		fields = append(fields, kv("udp", info.UDP))
	}
	fields = append(fields,
		kv("seal_key", info.SealKey),
		kv("addrs", info.Addrs...),
		kv("authorities", auth...))
	return printFields(e.stdout, fields...)
}

// cmdPeers lists the running node's connected peers.
func cmdPeers(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "peers", "vmdt peers [--repo DIR] [--json]", true)
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := client(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	peers, err := c.Peers(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(e.stdout, peers)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER ID\tDIRECTION\tLATENCY\tADDRESS")
	for _, p := range peers {
		addr := "-"
		if len(p.Addrs) > 0 {
			addr = p.Addrs[0]
		}
		lat := "-"
		if p.LatencyMillis > 0 {
			lat = fmt.Sprintf("%.1fms", p.LatencyMillis)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.PeerID, p.Direction, lat, addr)
	}
	return tw.Flush()
}

// cmdName dispatches "vmdt name <subcommand>".
func cmdName(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "register" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(e.stdout, "Usage: vmdt name register [--repo DIR] [--json] <name>")
			return errHelp
		}
		return usageErrorf("usage: vmdt name register [--repo DIR] [--json] <name>")
	}
	f := newCmdFlags(e, "name register", "vmdt name register [--repo DIR] [--json] <name>", true)
	pos, err := f.parse(args[1:], 1, 1)
	if err != nil {
		return err
	}
	c, err := client(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	info, err := c.RegisterName(ctx, pos[0])
	if err != nil {
		return err
	}
	return printName(e, f.json, info)
}

// cmdResolve looks up a username.
func cmdResolve(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "resolve", "vmdt resolve [--repo DIR] [--json] <name>", true)
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	c, err := client(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	info, err := c.Resolve(ctx, pos[0])
	if err != nil {
		return err
	}
	return printName(e, f.json, info)
}

func printName(e *env, asJSON bool, info node.NameInfo) error {
	if asJSON {
		return printJSON(e.stdout, info)
	}
	return printFields(e.stdout,
		kv("username", info.Username),
		kv("ddt_address", info.DDTAddr.String()),
		kv("peer_id", info.PeerID.String()),
		kv("seal_key", info.SealKey),
		kv("expires", info.Expiry.Local().Format(time.RFC3339)),
		kv("countersignatures", fmt.Sprint(info.Countersignatures)))
}

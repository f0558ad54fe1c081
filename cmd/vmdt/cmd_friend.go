package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/vmdt/vmdt/node"
)

// friendTimeout bounds a friend request, acceptance or denial.
const friendTimeout = 2 * time.Minute

const friendUsage = `Usage:
  vmdt friend add [--repo DIR] [--json] <name>      ask <name> to be friends
  vmdt friend accept [--repo DIR] [--json] <name>   accept <name>'s request
  vmdt friend deny [--repo DIR] [--json] <name>     deny <name>'s request, or drop <name>
  vmdt friend list [--repo DIR] [--json]            list requests and friends`

// cmdFriend dispatches "vmdt friend <subcommand>".
func cmdFriend(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErrorf("usage: vmdt friend add|accept|deny <name>, or vmdt friend list")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "add", "accept", "deny":
		return friendCall(ctx, e, sub, rest)
	case "list":
		return friendList(ctx, e, rest)
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, friendUsage)
		return errHelp
	default:
		return usageErrorf("unknown friend command %q (want add, accept, deny or list)", sub)
	}
}

// friendCall runs "vmdt friend add|accept|deny <name>".
func friendCall(ctx context.Context, e *env, sub string, args []string) error {
	f := newCmdFlags(e, "friend "+sub, "vmdt friend "+sub+" [--repo DIR] [--json] <name>", true)
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	c, err := client(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, friendTimeout)
	defer cancel()
	name := pos[0]
	if sub == "add" {
		fi, err := c.RequestFriend(ctx, name)
		if err != nil {
			return err
		}
		if f.json {
			return printJSON(e.stdout, fi)
		}
		_, err = fmt.Fprintf(e.stdout, "friend request sent to %s (ddt %s); it waits for %s to accept\n", fi.Username, fi.DDTAddr, fi.Username)
		return err
	}
	var ans node.FriendAnswer
	if sub == "accept" {
		ans, err = c.AcceptFriend(ctx, name)
	} else {
		ans, err = c.DenyFriend(ctx, name)
	}
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(e.stdout, ans)
	}
	verb := map[string]string{"accept": "accepted", "deny": "denied"}[sub]
	switch ans.Delivery {
	case "delivered":
		_, err = fmt.Fprintf(e.stdout, "%s %s; %s's node has the answer\n", verb, ans.Username, ans.Username)
	case "none":
		// Dropped a friend who had not asked us: nothing to deliver.
		_, err = fmt.Fprintf(e.stdout, "%s %s\n", verb, ans.Username)
	default:
		_, err = fmt.Fprintf(e.stdout, "%s %s; %s's node is not reachable now, the answer will be delivered when it is back\n", verb, ans.Username, ans.Username)
	}
	return err
}

// friendList runs "vmdt friend list".
func friendList(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "friend list", "vmdt friend list [--repo DIR] [--json]", true)
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := client(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	list, err := c.Friends(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(e.stdout, list)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tDDT ADDRESS\tDIRECTION\tSTATE\tSINCE")
	for _, fi := range list {
		since := "-"
		if !fi.Since.IsZero() {
			since = fi.Since.Local().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", fi.Username, fi.DDTAddr, fi.Direction, fi.State, since)
	}
	return tw.Flush()
}

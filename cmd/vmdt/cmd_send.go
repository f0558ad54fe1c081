package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/vmdt/vmdt/node"
)

// sendTimeout bounds sending a message; a file gets one second more
// per MiB (sendRate), and a body of unknown size (stdin) sendStdinTimeout.
const (
	sendTimeout      = 3 * time.Minute
	sendRate         = 1 << 20
	sendStdinTimeout = 2 * time.Hour
)

// cmdSend runs "vmdt send <name> <file|->".
func cmdSend(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "send", "vmdt send [--repo DIR] [--n N] [--k K] [--cluster ID] [--json] <name> <file|->", true)
	n := f.Int("n", 0, "number of shares, each over its own relay (default: the cluster's n, else the node's default_n)")
	k := f.Int("k", 0, "shares the receiver needs (default: the cluster's k, else the node's default_k)")
	cluster := f.String("cluster", "", "send within this cluster: relays are its members, n and k its defaults")
	pos, err := f.parse(args, 2, 2)
	if err != nil {
		return err
	}
	if *cluster == "" && (*n == 0) != (*k == 0) {
		return usageErrorf("give both --n and --k, or neither")
	}
	c, err := client(f)
	if err != nil {
		return err
	}
	name, path := pos[0], pos[1]
	var in io.Reader = os.Stdin
	size := int64(-1)
	fileName := "-"
	if path != "-" {
		fh, err := os.Open(path)
		if err != nil {
			return err
		}
		defer fh.Close()
		st, err := fh.Stat()
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", path)
		}
		in, size, fileName = fh, st.Size(), filepath.Base(path)
	}
	timeout := sendStdinTimeout
	if size >= 0 {
		timeout = sendTimeout + time.Duration(size/sendRate)*time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p := node.SendParams{N: *n, K: *k, Cluster: *cluster, Name: fileName}
	var prog *progress
	if isTerminal(e.stderr) {
		prog = newProgress(e.stderr, in, size)
		in = prog
		p.Progress = prog.delivered
	}
	rep, err := c.Send(ctx, name, in, size, p)
	if prog != nil {
		prog.finish()
	}
	if err != nil {
		if rep.Status == "" {
			return err
		}
		// Relays had been chosen: say what became of each share.
		if f.json {
			if perr := printJSON(e.stdout, rep); perr != nil {
				return perr
			}
		} else {
			printShares(e.stderr, rep)
		}
		return err
	}
	if f.json {
		return printJSON(e.stdout, rep)
	}
	took := time.Duration(rep.TookMS * float64(time.Millisecond)).Round(time.Millisecond)
	what := fmt.Sprintf("message %s to %s (%s, n=%d k=%d)", rep.ID, rep.To, byteSize(int64(rep.Size)), rep.N, rep.K)
	if rep.FileSendReport != nil {
		what = fmt.Sprintf("file %s as message %s to %s (%s in %d chunks, %d already there, n=%d k=%d)",
			rep.FileSendReport.Name, rep.ID, rep.To, byteSize(int64(rep.Size)), rep.Chunks, rep.Skipped, rep.N, rep.K)
	}
	switch rep.Status {
	case "pooled":
		fmt.Fprintf(e.stdout, "held for an offline receiver: %s\n", what)
	default:
		fmt.Fprintf(e.stdout, "delivered %s in %v\n", what, took)
	}
	return printShares(e.stdout, rep)
}

// printShares writes which relay carried which share, and how it ended.
func printShares(w io.Writer, rep node.SendReport) error {
	if len(rep.Shares) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	title := "  SHARE\tRELAY\tOUTCOME"
	if rep.FileSendReport != nil {
		title += "  (last chunk)"
	}
	fmt.Fprintln(tw, title)
	for _, s := range rep.Shares {
		fmt.Fprintf(tw, "  %d\t%s\t%s\n", s.Index, s.RelayPeer, s.Outcome)
	}
	return tw.Flush()
}

// cmdInbox runs "vmdt inbox".
func cmdInbox(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "inbox", "vmdt inbox [--repo DIR] [--json]", true)
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := client(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	list, err := c.Inbox(ctx)
	if err != nil {
		return err
	}
	if f.json {
		if list == nil {
			list = []node.InboxEntry{}
		}
		return printJSON(e.stdout, list)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFROM\tSIZE\tTIME\tSHARES")
	for _, m := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.ID, m.From, byteSize(int64(m.Size)),
			m.Time.Local().Format(time.RFC3339), joinInts(m.Shares))
	}
	return tw.Flush()
}

// cmdGet runs "vmdt get <id> [-o file]".
func cmdGet(ctx context.Context, e *env, args []string) error {
	f := newCmdFlags(e, "get", "vmdt get [--repo DIR] [-o FILE|-] <id>", false)
	out := f.String("o", "-", "write the message to FILE (- for stdout)")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	c, err := client(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, sendStdinTimeout) // a file may be large
	defer cancel()
	if *out == "-" || *out == "" {
		_, err := c.InboxMessage(ctx, pos[0], e.stdout)
		return err
	}
	// Write next to the target and rename, so a failed download leaves
	// no partial file under the target's name.
	tmp, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := c.InboxMessage(ctx, pos[0], tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), *out)
}

func joinInts(v []int) string {
	if len(v) == 0 {
		return "-"
	}
	s := ""
	for i, x := range v {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(x)
	}
	return s
}

// byteSize formats n bytes as "512 B", "1.5 KiB", "3.2 MiB".
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/delivery"
)

// SendOptions tune SendMessage and SendFile; the zero value sends with
// DefaultShares over any peers.
type SendOptions struct {
	// N and K are the shares and the threshold; a zero takes the
	// cluster's value with Cluster, else DefaultShares'.
	N, K int
	// Cluster, if not "", is the id of a cluster this node is a member
	// of: the relays are chosen among its other members only.
	Cluster string
	// Name is the file name the receiver sees (SendFile only).
	Name string
	// Progress, if not nil, is called with the bytes of a file the
	// receiver holds and the file's size, after each chunk it confirms
	// (SendFile only). Calls do not overlap.
	Progress func(done, total int64)
}

// sendSetup is what every send needs: the engine, the receiver's
// normalized name, n and k, and ctx restricted to the cluster's members.
func (n *Node) sendSetup(ctx context.Context, name string, o SendOptions) (context.Context, *delivery.Engine, string, int, int, error) {
	e, err := n.engineOrErr()
	if err != nil {
		return ctx, nil, "", 0, 0, err
	}
	shares, threshold := n.defaultN, n.defaultK
	if o.Cluster != "" {
		c, err := n.cluster(o.Cluster)
		if err != nil {
			return ctx, nil, "", 0, 0, err
		}
		shares, threshold = c.N, c.K
		members := make([]peer.ID, len(c.Members))
		for i, m := range c.Members {
			members[i] = m.PeerID
		}
		ctx = delivery.WithRelayCandidates(ctx, members)
	}
	if o.N != 0 {
		shares = o.N
	}
	if o.K != 0 {
		threshold = o.K
	}
	name, err = dht.NormalizeName(name)
	if err != nil {
		return ctx, nil, "", 0, 0, fmt.Errorf("node: %w", err)
	}
	if _, err := n.CheckFriend(name); err != nil {
		return ctx, nil, "", 0, 0, err
	}
	return ctx, e, name, shares, threshold, nil
}

// sendError wraps the engine's ErrNotFriends in the node's.
func sendError(err error) error {
	if errors.Is(err, delivery.ErrNotFriends) && !errors.Is(err, ErrNotFriends) {
		// Friends in our store, but their token has not arrived.
		return fmt.Errorf("%w: %w", ErrNotFriends, err)
	}
	return err
}

// SendMessage delivers msg to the user name as one message: n shares
// over n distinct relays, k of which suffice. It requires name to be a
// friend (an error wrapping ErrNotFriends otherwise), and enough
// responsive relays (delivery.ErrNotEnoughRelays, saying how many were
// found); with o.Cluster, an unknown cluster fails with
// ErrUnknownCluster. The report says which relay carried which share,
// also when the send failed after relays were chosen (Status "failed",
// Error set). Status "pooled" means relays hold the shares for an
// offline receiver.
func (n *Node) SendMessage(ctx context.Context, name string, msg []byte, o SendOptions) (SendReport, error) {
	ctx, e, name, shares, threshold, err := n.sendSetup(ctx, name, o)
	if err != nil {
		return SendReport{}, err
	}
	start := time.Now()
	r, err := e.Send(ctx, name, msg, shares, threshold)
	rep := sendReport(name, shares, threshold, len(msg), r, time.Since(start))
	rep.Cluster = o.Cluster
	if err != nil {
		rep.Status, rep.Error = delivery.StatusFailed, err.Error()
		return rep, sendError(err)
	}
	return rep, nil
}

// SendFile delivers the size bytes of r to the user name as a file named
// o.Name, in chunks of delivery.DefaultChunkSize, each a k-of-n message
// over its own n relays; memory stays near a few chunks whatever the
// size. Sending the same file again resumes where an interrupted send
// stopped. The report's ID is the receiver's inbox id of the file; its
// Shares are those of the last message sent. Errors are SendMessage's.
func (n *Node) SendFile(ctx context.Context, name string, r io.ReaderAt, size int64, o SendOptions) (SendReport, error) {
	ctx, e, name, shares, threshold, err := n.sendSetup(ctx, name, o)
	if err != nil {
		return SendReport{}, err
	}
	var (
		mu     sync.Mutex
		last   delivery.Report
		pooled bool
	)
	ctx = delivery.WithReportObserver(ctx, func(r delivery.Report) {
		mu.Lock()
		defer mu.Unlock()
		last = r
		pooled = pooled || r.Status == delivery.StatusPooled
	})
	start := time.Now()
	fr, err := e.SendFile(ctx, name, r, size, o.Name, shares, threshold, &delivery.FileOptions{Progress: o.Progress})
	mu.Lock()
	rep := sendReport(name, shares, threshold, int(size), last, time.Since(start))
	isPooled := pooled
	mu.Unlock()
	rep.ID, rep.Used, rep.Cluster = fr.InboxID, nil, o.Cluster
	rep.FileSendReport = &FileSendReport{FileID: fr.FileID.String(), Name: fr.Name, Chunks: fr.Chunks, Sent: len(fr.Sent), Skipped: fr.Skipped}
	if fr.FileID == (delivery.FileID{}) {
		rep.FileSendReport.FileID = ""
	}
	switch {
	case err != nil:
		rep.Status, rep.Error = delivery.StatusFailed, err.Error()
		return rep, sendError(err)
	case isPooled:
		rep.Status = delivery.StatusPooled
	default:
		rep.Status = delivery.StatusDelivered
	}
	return rep, nil
}

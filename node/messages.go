package node

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/node/delivery"
)

// SendReport says what became of a message sent, as the API returns it.
type SendReport struct {
	ID string `json:"id"`
	To string `json:"to"`
	// Status is "delivered" (the receiver confirmed), "pooled" (held for
	// an offline receiver) or "failed".
	Status string `json:"status"`
	N      int    `json:"n"`
	K      int    `json:"k"`
	Size   int    `json:"size"`
	// TookMS is how long the send took, in milliseconds.
	TookMS float64       `json:"took_ms"`
	Shares []ShareReport `json:"shares"`
	// Used are the share indexes the receiver decoded from.
	Used []int `json:"used,omitempty"`
	// Error says why a failed send failed.
	Error string `json:"error,omitempty"`
	// Cluster is the cluster whose members were the relays, if any.
	Cluster string `json:"cluster,omitempty"`
	// File is set for a file sent in chunks; its fields appear at the top
	// level of the JSON report.
	*FileSendReport
}

// FileSendReport describes a file sent in chunks. The report's ID is the
// receiver's inbox id for the whole file; its Shares are those of the
// last chunk (or manifest) sent.
type FileSendReport struct {
	FileID string `json:"file_id"`
	Name   string `json:"name"`   // the sanitized name the receiver sees
	Chunks int    `json:"chunks"` // chunks in the file
	Sent   int    `json:"chunks_sent"`
	// Skipped counts the chunks the receiver held already (a resumed
	// send).
	Skipped int `json:"skipped"`
}

// ShareReport is the fate of one share: which relay carried it and how
// it ended (delivery.OutcomeUsed, OutcomeRelayed, ...).
type ShareReport struct {
	Index     int     `json:"index"`
	RelayPeer peer.ID `json:"relay_peer_id"`
	Outcome   string  `json:"outcome"`
	Detail    string  `json:"detail,omitempty"`
}

// InboxEntry describes a received message, as the API lists it.
type InboxEntry struct {
	// ID names the entry: the sender's message id, unless another
	// sender's message held it already (see delivery.Inbox.Put).
	ID        string    `json:"id"`
	MessageID string    `json:"message_id"` // the sender's message id
	From      string    `json:"from"`       // username, or DDT address if unknown
	Src       string    `json:"src"`        // the sender's DDT address
	Size      int       `json:"size"`
	Time      time.Time `json:"time"`
	// Name and FileID are set for a file sent in chunks.
	Name   string `json:"name,omitempty"`
	FileID string `json:"file_id,omitempty"`
	// Shares are the share indexes the message was decoded from.
	Shares []int `json:"shares_used"`
}

func sendReport(to string, n, k, size int, r delivery.Report, took time.Duration) SendReport {
	out := SendReport{
		To: to, Status: r.Status, N: n, K: k, Size: size,
		TookMS: float64(took.Microseconds()) / 1000,
		Shares: make([]ShareReport, len(r.Shares)),
		Used:   r.Used,
	}
	if r.ID != ([8]byte{}) {
		out.ID = r.ID.String()
	}
	for i, s := range r.Shares {
		out.Shares[i] = ShareReport{Index: s.Index, RelayPeer: s.RelayPeer, Outcome: s.Outcome, Detail: s.Detail}
	}
	return out
}

func inboxEntry(e delivery.Entry) InboxEntry {
	return InboxEntry{ID: e.ID, MessageID: e.MessageID, From: e.From, Src: e.Src, Size: e.Size, Time: e.Received, Shares: e.Used, Name: e.Name, FileID: e.FileID}
}

// engineOrErr returns the delivery engine, or why there is none.
func (n *Node) engineOrErr() (*delivery.Engine, error) {
	if n.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if n.engine == nil {
		return nil, ErrNoDataPlane
	}
	return n.engine, nil
}

// DefaultShares returns the n and k a Send uses when given zeros.
func (n *Node) DefaultShares() (shares, threshold int) { return n.defaultN, n.defaultK }

// Send delivers msg to the user name through shares relays, threshold of
// whose shares suffice (zeros mean DefaultShares); it is SendMessage
// with only N and K set.
func (n *Node) Send(ctx context.Context, name string, msg []byte, shares, threshold int) (SendReport, error) {
	return n.SendMessage(ctx, name, msg, SendOptions{N: shares, K: threshold})
}

// Inbox lists the received messages, oldest first.
func (n *Node) Inbox() ([]InboxEntry, error) {
	e, err := n.engineOrErr()
	if err != nil {
		return nil, err
	}
	list, err := e.Inbox().List()
	if err != nil {
		return nil, fmt.Errorf("node: inbox: %w", err)
	}
	out := make([]InboxEntry, len(list))
	for i, en := range list {
		out[i] = inboxEntry(en)
	}
	return out, nil
}

// InboxMessage returns a received message and its bytes, or an error
// wrapping delivery.ErrNotFound. OpenInboxMessage serves large files.
func (n *Node) InboxMessage(id string) (InboxEntry, []byte, error) {
	e, err := n.engineOrErr()
	if err != nil {
		return InboxEntry{}, nil, err
	}
	en, msg, err := e.Inbox().Get(id)
	if err != nil {
		return InboxEntry{}, nil, err
	}
	return inboxEntry(en), msg, nil
}

// OpenInboxMessage returns a received message's entry and its body for
// reading, so that a large file is never held in memory; the caller
// closes it. An unknown id fails with an error wrapping
// delivery.ErrNotFound.
func (n *Node) OpenInboxMessage(id string) (InboxEntry, *os.File, error) {
	e, err := n.engineOrErr()
	if err != nil {
		return InboxEntry{}, nil, err
	}
	en, err := e.Inbox().Entry(id)
	if err != nil {
		return InboxEntry{}, nil, err
	}
	f, err := e.Inbox().Open(id)
	if err != nil {
		return InboxEntry{}, nil, err
	}
	return inboxEntry(en), f, nil
}

// SpoolDir returns the directory where the API keeps a large message's
// body while it is sent (the delivery directory's "tmp"), or "" without
// a delivery engine.
func (n *Node) SpoolDir() string { return n.spoolDir }

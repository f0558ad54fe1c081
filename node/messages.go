package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht"
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
	ID   string    `json:"id"`
	From string    `json:"from"` // username, or DDT address if unknown
	Src  string    `json:"src"`  // the sender's DDT address
	Size int       `json:"size"`
	Time time.Time `json:"time"`
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
	return InboxEntry{ID: e.ID, From: e.From, Src: e.Src, Size: e.Size, Time: e.Received, Shares: e.Used}
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
// whose shares suffice (zeros mean DefaultShares). It requires name to be
// a friend (an error wrapping ErrNotFriends otherwise), and enough
// responsive relays (delivery.ErrNotEnoughRelays, saying how many were
// found). The report says which relay carried which share, also when
// the send failed after relays were chosen.
func (n *Node) Send(ctx context.Context, name string, msg []byte, shares, threshold int) (SendReport, error) {
	e, err := n.engineOrErr()
	if err != nil {
		return SendReport{}, err
	}
	if shares == 0 && threshold == 0 {
		shares, threshold = n.defaultN, n.defaultK
	}
	name, err = dht.NormalizeName(name)
	if err != nil {
		return SendReport{}, fmt.Errorf("node: %w", err)
	}
	if _, err := n.CheckFriend(name); err != nil {
		return SendReport{}, err
	}
	start := time.Now()
	r, err := e.Send(ctx, name, msg, shares, threshold)
	rep := sendReport(name, shares, threshold, len(msg), r, time.Since(start))
	if err != nil {
		if errors.Is(err, delivery.ErrNotFriends) {
			// Friends in our store, but their token has not arrived.
			err = fmt.Errorf("%w: %w", ErrNotFriends, err)
		}
		return rep, err
	}
	return rep, nil
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
// wrapping delivery.ErrNotFound.
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

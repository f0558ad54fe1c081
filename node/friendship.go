package node

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/consent"
	"github.com/vmdt/vmdt/node/friends"
	"github.com/vmdt/vmdt/protocol"
)

// FriendInfo is one record of the friend store, as the API returns it.
type FriendInfo struct {
	Username string           `json:"username"`
	DDTAddr  protocol.DDTAddr `json:"ddt_address"`
	PeerID   peer.ID          `json:"peer_id"`
	// Direction is who asked: "incoming" (they asked us), "outgoing" (we
	// asked them) or "both".
	Direction string `json:"direction"`
	// State sums up the record: "friends" (both consented), "pending"
	// (they asked, we have not decided), "requested" (we asked, no answer
	// yet), "denied" (Direction "incoming": we denied them; "outgoing":
	// they denied us) or "none".
	State string `json:"state"`
	// Since is when State began.
	Since time.Time `json:"since,omitzero"`
	// Incoming and Outgoing are the states of both requests
	// (friends.IncomingState and OutgoingState).
	Incoming string `json:"incoming"`
	Outgoing string `json:"outgoing"`
	// TokenExpires is when their token for us expires: until then we may
	// deposit shares for them at relays. Zero if we have none.
	TokenExpires time.Time `json:"token_expires,omitzero"`
}

// FriendAnswer is the outcome of accepting or denying a request.
type FriendAnswer struct {
	FriendInfo
	// Delivery is "delivered" when the requester's node acknowledged the
	// answer, "queued" when it was not reachable (the node keeps trying),
	// "none" when there was no request to answer (denying a friend who
	// had not asked us).
	Delivery string `json:"delivery"`
	// Delivered is Delivery == "delivered".
	Delivered bool `json:"delivered"`
}

func friendAnswer(f friends.Friend, d consent.Delivery) FriendAnswer {
	return FriendAnswer{FriendInfo: friendInfo(f), Delivery: d.String(), Delivered: d == consent.Delivered}
}

// friendInfo sums up a record.
func friendInfo(f friends.Friend) FriendInfo {
	fi := FriendInfo{
		Username: f.Username,
		DDTAddr:  f.DDT,
		PeerID:   f.PeerID,
		Incoming: f.Incoming.String(),
		Outgoing: f.Outgoing.String(),
	}
	if f.Token != nil {
		fi.TokenExpires = f.Token.ExpiresAt
	}
	in, out := f.Incoming == friends.InAccepted, f.Outgoing == friends.OutAccepted
	switch {
	case in && out:
		fi.Direction, fi.State, fi.Since = "both", "friends", later(f.IncomingAt, f.OutgoingAt)
	case in:
		fi.Direction, fi.State, fi.Since = "incoming", "friends", f.IncomingAt
	case out:
		fi.Direction, fi.State, fi.Since = "outgoing", "friends", f.OutgoingAt
	case f.Incoming == friends.InPending:
		fi.Direction, fi.State, fi.Since = "incoming", "pending", f.IncomingAt
	case f.Outgoing == friends.OutRequested:
		fi.Direction, fi.State, fi.Since = "outgoing", "requested", f.OutgoingAt
	case f.Outgoing == friends.OutDenied:
		fi.Direction, fi.State, fi.Since = "outgoing", "denied", f.OutgoingAt
	case f.Incoming == friends.InDenied:
		fi.Direction, fi.State, fi.Since = "incoming", "denied", f.IncomingAt
	default:
		fi.Direction, fi.State = "none", "none"
	}
	return fi
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// startFriends opens the friend store in dir and starts the friend
// protocol.
func (n *Node) startFriends(dir string) error {
	st, err := friends.Open(dir, friends.Config{Identity: n.priv})
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.friends = st
	n.consent, err = consent.New(consent.Config{
		Host:     n.h,
		Store:    st,
		Names:    n.dht,
		Peers:    n.dht.Kad(),
		Username: n.Username,
	})
	if err != nil {
		return fmt.Errorf("node: friend protocol: %w", err)
	}
	return nil
}

// friendService returns the friend protocol, or an error if the node has
// none or is closed.
func (n *Node) friendService() (*consent.Service, error) {
	if n.consent == nil {
		return nil, ErrNoFriends
	}
	if n.ctx.Err() != nil {
		return nil, ErrClosed
	}
	return n.consent, nil
}

// FriendStore returns the node's friend store, or nil on a node without
// one (a bootstrap node).
func (n *Node) FriendStore() *friends.Store { return n.friends }

// RequestFriend sends the user name a friend request (see
// consent.Service.Request): it resolves the name, connects to its node
// and returns once that node recorded the request as pending. It fails
// with ErrNoUsername if this node has no username, and with an error
// wrapping dht.ErrNameNotFound if nobody registered name.
func (n *Node) RequestFriend(ctx context.Context, name string) (FriendInfo, error) {
	svc, err := n.friendService()
	if err != nil {
		return FriendInfo{}, err
	}
	f, err := svc.Request(ctx, name)
	if err != nil {
		return FriendInfo{}, err
	}
	return friendInfo(f), nil
}

// AcceptFriend accepts name's request: from now on we receive their
// messages. The acceptance, with our token for them, goes to their node
// at once if it is online, otherwise later (the node keeps trying).
func (n *Node) AcceptFriend(ctx context.Context, name string) (FriendAnswer, error) {
	svc, err := n.friendService()
	if err != nil {
		return FriendAnswer{}, err
	}
	f, d, err := svc.Accept(ctx, name)
	if err != nil {
		return FriendAnswer{}, err
	}
	return friendAnswer(f, d), nil
}

// DenyFriend denies name's request, or drops name as a friend, and tells
// their node if they had asked us (friends.Store.Deny has the details).
func (n *Node) DenyFriend(ctx context.Context, name string) (FriendAnswer, error) {
	svc, err := n.friendService()
	if err != nil {
		return FriendAnswer{}, err
	}
	f, d, err := svc.Deny(ctx, name)
	if err != nil {
		return FriendAnswer{}, err
	}
	return friendAnswer(f, d), nil
}

// Friends lists the friend store's records, by username.
func (n *Node) Friends() []FriendInfo {
	if n.friends == nil {
		return nil
	}
	list := n.friends.List()
	out := make([]FriendInfo, len(list))
	for i, f := range list {
		out[i] = friendInfo(f)
	}
	return out
}

// IsFriend reports whether the user at addr is a friend: both consented
// (friends.Store.IsFriend). A receiver accepts messages and shares from
// friends only.
func (n *Node) IsFriend(addr protocol.DDTAddr) bool {
	return n.friends != nil && n.friends.IsFriend(addr)
}

// FriendToken returns the token the friend at dst gave us, if it is valid
// now: what we show a relay to deposit a share for dst.
func (n *Node) FriendToken(dst protocol.DDTAddr) (friends.Token, bool) {
	if n.friends == nil {
		return friends.Token{}, false
	}
	return n.friends.TokenFor(dst)
}

// CheckFriend returns our record of username if they are a friend, which
// is what sending to them requires; otherwise an error wrapping
// ErrNotFriends that says where things stand. The record's Token may
// still be nil (their token has not arrived yet); FriendToken tells.
func (n *Node) CheckFriend(username string) (friends.Friend, error) {
	if n.friends == nil {
		return friends.Friend{}, ErrNoFriends
	}
	name, err := dht.NormalizeName(username)
	if err != nil {
		return friends.Friend{}, fmt.Errorf("node: %w", err)
	}
	f, ok := n.friends.Get(name)
	if !ok {
		return friends.Friend{}, fmt.Errorf("%w: no friend request between %s and us (vmdt friend add %s)", ErrNotFriends, name, name)
	}
	if f.IsFriend() {
		return f, nil
	}
	var why string
	switch {
	case f.Incoming == friends.InPending:
		why = fmt.Sprintf("%s asked us and waits for our answer (vmdt friend accept %s)", name, name)
	case f.Outgoing == friends.OutRequested:
		why = fmt.Sprintf("%s has not accepted our request yet", name)
	case f.Outgoing == friends.OutDenied:
		why = fmt.Sprintf("%s denied our request", name)
	case f.Incoming == friends.InDenied:
		why = fmt.Sprintf("we denied %s", name)
	default:
		why = fmt.Sprintf("no open request between %s and us", name)
	}
	return friends.Friend{}, fmt.Errorf("%w: %s", ErrNotFriends, why)
}

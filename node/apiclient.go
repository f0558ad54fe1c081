package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/consent"
	"github.com/vmdt/vmdt/node/delivery"
	"github.com/vmdt/vmdt/node/friends"
)

// maxAPIResponse bounds a response the client reads.
const maxAPIResponse = 4 << 20

// APIError is an error answer of the local API.
type APIError struct {
	Status  int    // HTTP status
	Code    string // API error code, e.g. "not_found"
	Message string
}

func (e *APIError) Error() string { return e.Message }

// Is lets errors.Is match API errors against the sentinels they stand
// for: dht.ErrNameNotFound, dht.ErrInvalidName, ErrUnauthorized,
// ErrClosed, context.DeadlineExceeded, friends.ErrUnknown,
// friends.ErrState, ErrNoUsername, ErrNotFriends (and
// delivery.ErrNotFriends), consent.ErrRefused (and friends.ErrDenied for
// a denial), consent.ErrUnreachable, ErrNoFriends, ErrNoDataPlane and the
// delivery errors ErrNotEnoughRelays, ErrInvalidParams, ErrUndeliverable,
// ErrNoConfirmation and ErrNotFound, and ErrUnknownCluster.
func (e *APIError) Is(target error) bool {
	switch e.Code {
	case codeUnknownUser:
		return target == friends.ErrUnknown
	case codeConflict:
		return target == friends.ErrState
	case codeNoUsername:
		return target == ErrNoUsername
	case codeNotFriends:
		return target == ErrNotFriends || target == delivery.ErrNotFriends
	case codeNotEnoughRelays:
		return target == delivery.ErrNotEnoughRelays
	case codeInvalidParams:
		return target == delivery.ErrInvalidParams
	case codeUndeliverable:
		return target == delivery.ErrUndeliverable
	case codeNoConfirmation:
		return target == delivery.ErrNoConfirmation
	case codeNoMessage:
		return target == delivery.ErrNotFound
	case codeNoDataPlane:
		return target == ErrNoDataPlane
	case codeUnknownCluster:
		return target == ErrUnknownCluster
	case codeDenied:
		return target == friends.ErrDenied || target == consent.ErrRefused
	case codeRefused:
		return target == consent.ErrRefused
	case codeUnreachable:
		return target == consent.ErrUnreachable
	case codeUnsupported:
		return target == ErrNoFriends
	case codeNotFound:
		return target == dht.ErrNameNotFound
	case codeInvalidName:
		return target == dht.ErrInvalidName
	case codeUnauthorized:
		return target == ErrUnauthorized
	case codeUnavailable:
		return target == ErrClosed
	case codeTimeout:
		return target == context.DeadlineExceeded
	}
	return false
}

// APIClient calls a daemon's local API.
type APIClient struct {
	base  string // "http://host:port"
	token string
	hc    *http.Client
	// long carries sends and downloads, which may last much longer than
	// hc's overall timeout; their contexts bound them.
	long *http.Client
}

// NewAPIClient returns a client for the daemon running on the repository
// in dir: it reads the "api" file the daemon wrote and the api.token. It
// fails with ErrDaemonNotRunning when there is no "api" file.
func NewAPIClient(dir string) (*APIClient, error) {
	addr, err := readAPIAddr(dir)
	if err != nil {
		return nil, err
	}
	token, err := readToken(dir, false)
	if err != nil {
		return nil, err
	}
	return NewAPIClientAddr(addr, token), nil
}

// NewAPIClientAddr returns a client for the API at host:port addr.
func NewAPIClientAddr(addr, token string) *APIClient {
	tr := &http.Transport{
		Proxy:             nil, // never send the token through a proxy
		DisableKeepAlives: false,
		MaxIdleConns:      2,
	}
	return &APIClient{
		base:  "http://" + addr,
		token: token,
		hc: &http.Client{
			// Calls are bounded by their contexts; this only stops a
			// client whose context has no deadline from waiting forever.
			Timeout:   registerTimeout + 30*time.Second,
			Transport: tr,
		},
		long: &http.Client{Transport: tr},
	}
}

// ID returns the daemon's node information.
func (c *APIClient) ID(ctx context.Context) (Info, error) {
	var v Info
	err := c.call(ctx, http.MethodGet, "/v1/id", nil, &v)
	return v, err
}

// Peers returns the daemon's connected peers.
func (c *APIClient) Peers(ctx context.Context) ([]PeerInfo, error) {
	var v []PeerInfo
	err := c.call(ctx, http.MethodGet, "/v1/peers", nil, &v)
	return v, err
}

// RegisterName registers name for the daemon's node and returns once the
// record is stored.
func (c *APIClient) RegisterName(ctx context.Context, name string) (NameInfo, error) {
	var v NameInfo
	err := c.call(ctx, http.MethodPost, "/v1/name/register", RegisterRequest{Name: name}, &v)
	return v, err
}

// Resolve looks up name through the daemon.
func (c *APIClient) Resolve(ctx context.Context, name string) (NameInfo, error) {
	var v NameInfo
	err := c.call(ctx, http.MethodGet, "/v1/resolve/"+url.PathEscape(name), nil, &v)
	return v, err
}

// RequestFriend sends name a friend request through the daemon.
func (c *APIClient) RequestFriend(ctx context.Context, name string) (FriendInfo, error) {
	var v FriendInfo
	err := c.call(ctx, http.MethodPost, "/v1/friends/add", FriendName{Name: name}, &v)
	return v, err
}

// AcceptFriend accepts name's friend request.
func (c *APIClient) AcceptFriend(ctx context.Context, name string) (FriendAnswer, error) {
	var v FriendAnswer
	err := c.call(ctx, http.MethodPost, "/v1/friends/accept", FriendName{Name: name}, &v)
	return v, err
}

// DenyFriend denies name's friend request (or drops name as a friend).
func (c *APIClient) DenyFriend(ctx context.Context, name string) (FriendAnswer, error) {
	var v FriendAnswer
	err := c.call(ctx, http.MethodPost, "/v1/friends/deny", FriendName{Name: name}, &v)
	return v, err
}

// Friends lists the daemon's friend records.
func (c *APIClient) Friends(ctx context.Context) ([]FriendInfo, error) {
	var v []FriendInfo
	err := c.call(ctx, http.MethodGet, "/v1/friends", nil, &v)
	return v, err
}

// call sends one request and decodes the answer into out.
func (c *APIClient) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("node: API request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("node: API request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("%w: nothing listens at %s", ErrDaemonNotRunning, c.base)
		}
		return fmt.Errorf("node: API: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		return fmt.Errorf("node: API response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e apiErrorBody
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e = apiErrorBody{Error: fmt.Sprintf("API answered %s", resp.Status), Code: codeInternal}
		}
		return &APIError{Status: resp.StatusCode, Code: e.Code, Message: e.Error}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("node: API response: %w", err)
	}
	return nil
}

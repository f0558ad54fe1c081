package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/consent"
	"github.com/vmdt/vmdt/node/friends"
)

// fakeBackend answers the API from a fixed table of names.
type fakeBackend struct {
	info  Info
	names map[string]NameInfo
}

func newFakeBackend(t testing.TB) *fakeBackend {
	id := randomPeerID(t)
	return &fakeBackend{
		info: Info{PeerID: id, Role: "node"},
		names: map[string]NameInfo{
			"alice": {Username: "alice", PeerID: id},
		},
	}
}

func (f *fakeBackend) Info() Info        { return f.info }
func (f *fakeBackend) Peers() []PeerInfo { return nil }
func (f *fakeBackend) RegisterName(ctx context.Context, name string) (NameInfo, error) {
	if name == "" || strings.ToLower(name) != name {
		return NameInfo{}, fmt.Errorf("register: %w", dht.ErrInvalidName)
	}
	info := NameInfo{Username: name, PeerID: f.info.PeerID}
	return info, nil
}

// The fake's friend calls answer from the name: "bob" works, others fail
// the way the node would.
func (f *fakeBackend) RequestFriend(ctx context.Context, name string) (FriendInfo, error) {
	switch name {
	case "bob":
		return FriendInfo{Username: "bob", PeerID: f.info.PeerID, Direction: "outgoing", State: "requested"}, nil
	case "mallory":
		return FriendInfo{}, fmt.Errorf("request: %w", &consent.RefusedError{Code: consent.CodeDenied, Reason: "denied"})
	case "offline":
		return FriendInfo{}, fmt.Errorf("request: %w", consent.ErrUnreachable)
	case "self":
		return FriendInfo{}, ErrNoUsername
	}
	return FriendInfo{}, fmt.Errorf("resolve: %w", dht.ErrNameNotFound)
}
func (f *fakeBackend) AcceptFriend(ctx context.Context, name string) (FriendAnswer, error) {
	if name == "bob" {
		return FriendAnswer{FriendInfo: FriendInfo{Username: "bob", PeerID: f.info.PeerID, State: "friends"}, Delivered: true}, nil
	}
	return FriendAnswer{}, fmt.Errorf("accept: %w", friends.ErrUnknown)
}
func (f *fakeBackend) DenyFriend(ctx context.Context, name string) (FriendAnswer, error) {
	return FriendAnswer{}, fmt.Errorf("deny: %w", friends.ErrState)
}
func (f *fakeBackend) Friends() []FriendInfo { return nil }

func (f *fakeBackend) Resolve(ctx context.Context, name string) (NameInfo, error) {
	if info, ok := f.names[name]; ok {
		return info, nil
	}
	if strings.ToLower(name) != name {
		return NameInfo{}, fmt.Errorf("resolve: %w", dht.ErrInvalidName)
	}
	return NameInfo{}, fmt.Errorf("resolve: %w", dht.ErrNameNotFound)
}

const testToken = "0123456789abcdef0123456789abcdef"

func TestAPIRejectsRequestsWithoutValidToken(t *testing.T) {
	srv := httptest.NewServer(NewAPIHandler(newFakeBackend(t), testToken))
	defer srv.Close()
	for name, header := range map[string]string{
		"no token":        "",
		"wrong token":     "Bearer fedcba9876543210fedcba9876543210",
		"token prefix":    "Bearer " + testToken[:10],
		"token suffixed":  "Bearer " + testToken + "x",
		"wrong scheme":    "Basic " + testToken,
		"no scheme":       testToken,
		"lower-case kind": "bearer " + testToken,
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/v1/id", "/v1/peers", "/v1/resolve/alice", "/nothing"} {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
				if header != "" {
					req.Header.Set("Authorization", header)
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s: status %d, want 401", path, resp.StatusCode)
				}
				if strings.Contains(string(body), "alice") {
					t.Errorf("%s: unauthorized answer leaks data: %s", path, body)
				}
			}
		})
	}
}

func TestAPIClientAgainstHandler(t *testing.T) {
	b := newFakeBackend(t)
	srv := httptest.NewServer(NewAPIHandler(b, testToken))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	c := NewAPIClientAddr(addr, testToken)
	ctx := context.Background()

	info, err := c.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.PeerID != b.info.PeerID {
		t.Fatalf("id: peer %s, want %s", info.PeerID, b.info.PeerID)
	}
	peers, err := c.Peers(ctx)
	if err != nil || peers == nil || len(peers) != 0 {
		t.Fatalf("peers = %v, %v; want an empty list", peers, err)
	}
	got, err := c.Resolve(ctx, "alice")
	if err != nil || got.Username != "alice" || got.PeerID != b.info.PeerID {
		t.Fatalf("resolve alice = %+v, %v", got, err)
	}
	if _, err := c.Resolve(ctx, "bob"); !errors.Is(err, dht.ErrNameNotFound) {
		t.Fatalf("resolve bob: %v, want ErrNameNotFound", err)
	}
	var ae *APIError
	if _, err := c.Resolve(ctx, "Bob"); !errors.Is(err, dht.ErrInvalidName) || !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Fatalf("resolve Bob: %v, want ErrInvalidName with status 400", err)
	}
	reg, err := c.RegisterName(ctx, "carol")
	if err != nil || reg.Username != "carol" {
		t.Fatalf("register carol = %+v, %v", reg, err)
	}
	if _, err := c.RegisterName(ctx, "Carol"); !errors.Is(err, dht.ErrInvalidName) {
		t.Fatalf("register Carol: %v, want ErrInvalidName", err)
	}

	bad := NewAPIClientAddr(addr, "wrong")
	if _, err := bad.ID(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong token: %v, want ErrUnauthorized", err)
	}
}

func TestAPIFriendEndpoints(t *testing.T) {
	srv := httptest.NewServer(NewAPIHandler(newFakeBackend(t), testToken))
	defer srv.Close()
	c := NewAPIClientAddr(strings.TrimPrefix(srv.URL, "http://"), testToken)
	ctx := context.Background()
	list, err := c.Friends(ctx)
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("friends = %v, %v; want an empty list", list, err)
	}
	fi, err := c.RequestFriend(ctx, "bob")
	if err != nil || fi.Username != "bob" || fi.State != "requested" {
		t.Fatalf("add bob = %+v, %v", fi, err)
	}
	ans, err := c.AcceptFriend(ctx, "bob")
	if err != nil || !ans.Delivered || ans.State != "friends" {
		t.Fatalf("accept bob = %+v, %v", ans, err)
	}
	var ae *APIError
	for _, tc := range []struct {
		call   func() error
		want   error
		status int
	}{
		{func() error { _, err := c.RequestFriend(ctx, "nobody"); return err }, dht.ErrNameNotFound, http.StatusNotFound},
		{func() error { _, err := c.RequestFriend(ctx, "mallory"); return err }, friends.ErrDenied, http.StatusForbidden},
		{func() error { _, err := c.RequestFriend(ctx, "offline"); return err }, consent.ErrUnreachable, http.StatusBadGateway},
		{func() error { _, err := c.RequestFriend(ctx, "self"); return err }, ErrNoUsername, http.StatusConflict},
		{func() error { _, err := c.AcceptFriend(ctx, "carol"); return err }, friends.ErrUnknown, http.StatusNotFound},
		{func() error { _, err := c.DenyFriend(ctx, "carol"); return err }, friends.ErrState, http.StatusConflict},
	} {
		err := tc.call()
		if !errors.Is(err, tc.want) || !errors.As(err, &ae) || ae.Status != tc.status {
			t.Errorf("got %v, want %v with status %d", err, tc.want, tc.status)
		}
	}
}

func TestAPIRequestBodies(t *testing.T) {
	srv := httptest.NewServer(NewAPIHandler(newFakeBackend(t), testToken))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"valid", `{"name":"dave"}`, http.StatusOK},
		{"too large", `{"name":"` + strings.Repeat("a", MaxAPIBody) + `"}`, http.StatusRequestEntityTooLarge},
		{"unknown field", `{"name":"dave","admin":true}`, http.StatusBadRequest},
		{"two objects", `{"name":"dave"}{"name":"eve"}`, http.StatusBadRequest},
		{"not json", `name=dave`, http.StatusBadRequest},
		{"empty", ``, http.StatusBadRequest},
		{"invalid name", `{"name":""}`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/name/register", strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	// Wrong method and unknown paths.
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/v1/name/register"},
		{http.MethodPost, "/v1/id"},
		{http.MethodGet, "/v1/send"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: status %d, want 404 or 405", tc.method, tc.path, resp.StatusCode)
		}
	}
}

func TestStartAPIRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", ":0", "nohost"} {
		if a, err := StartAPI(newFakeBackend(t), addr, testToken); err == nil {
			a.Close()
			t.Errorf("StartAPI(%q) succeeded, want an error", addr)
		}
	}
	if a, err := StartAPI(newFakeBackend(t), "127.0.0.1:0", ""); err == nil {
		a.Close()
		t.Error("StartAPI with an empty token succeeded")
	}
}

func TestAPIServesAndCloses(t *testing.T) {
	a, err := StartAPI(newFakeBackend(t), "127.0.0.1:0", testToken)
	if err != nil {
		t.Fatal(err)
	}
	c := NewAPIClientAddr(a.Addr().String(), testToken)
	if _, err := c.Resolve(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.ID(context.Background()); err == nil {
		t.Fatal("API answered after Close")
	}
}

func TestNewAPIClientWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	if _, err := InitRepo(dir, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	if _, err := NewAPIClient(dir); !errors.Is(err, ErrDaemonNotRunning) {
		t.Fatalf("no api file: %v, want ErrDaemonNotRunning", err)
	}
	// A stale api file: nothing listens at the address any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stale := ln.Addr().String()
	ln.Close()
	if err := os.WriteFile(filepath.Join(dir, apiFile), []byte(stale+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := NewAPIClient(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ID(context.Background()); !errors.Is(err, ErrDaemonNotRunning) {
		t.Fatalf("stale api file: %v, want ErrDaemonNotRunning", err)
	}
}

// FuzzAPIRegisterBody sends arbitrary bodies to the registration endpoint:
// the handler must answer 200, 400 or 413 and never panic.
func FuzzAPIRegisterBody(f *testing.F) {
	f.Add([]byte(`{"name":"alice"}`))
	f.Add([]byte(`{"name":"Alice"}`))
	f.Add([]byte(`{"name":""}`))
	f.Add([]byte(`{}`))
	h := NewAPIHandler(newFakeBackend(f), testToken)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/name/register", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for body %q", rec.Code, body)
		}
	})
}

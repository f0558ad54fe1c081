package node

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vmdt/vmdt/dht"
	"github.com/vmdt/vmdt/node/consent"
	"github.com/vmdt/vmdt/node/delivery"
	"github.com/vmdt/vmdt/node/friends"
	"github.com/vmdt/vmdt/protocol/ctl"
)

// The local API is HTTP on a loopback address. Every request carries
// "Authorization: Bearer <token>" with the repository's api.token; bodies
// and responses are JSON. Errors answer {"error": reason, "code": code}.
//
//	GET  /v1/id                 -> Info
//	GET  /v1/peers              -> []PeerInfo
//	POST /v1/name/register      {"name": "alice"} -> NameInfo, once stored
//	GET  /v1/resolve/{name}     -> NameInfo
//	POST /v1/friends/add        {"name": "bob"} -> FriendInfo, once bob's node has the request
//	POST /v1/friends/accept     {"name": "alice"} -> FriendAnswer
//	POST /v1/friends/deny       {"name": "alice"} -> FriendAnswer
//	GET  /v1/friends            -> []FriendInfo
//	POST /v1/send?to=NAME[&n=N&k=K][&cluster=ID][&name=FILE][&progress=1]
//	                            body: the message bytes (up to 4 GiB) -> SendReport
//	GET  /v1/inbox              -> []InboxEntry
//	GET  /v1/inbox/{id}         -> the message bytes (application/octet-stream)
//	POST /v1/clusters           {"n": 3, "k": 2} -> ClusterView
//	POST /v1/clusters/join      {"id": "...", "via": "<peer ID>"} -> ClusterView
//	GET  /v1/clusters           -> []ClusterView
//
// A send's body up to 4 MiB goes as one message; a larger one is written
// to the repository's delivery/tmp and sent as a file in 4 MiB chunks
// named by ?name=. The answer comes once the receiver confirmed (status
// "delivered") or relays hold the shares for an offline receiver
// ("pooled"); a failed send answers an error whose body also carries the
// report ("report") when relays had been chosen. With ?progress=1 or
// "Accept: application/x-ndjson" the answer is NDJSON instead: SendEvent
// lines {"sent", "total"} as the receiver confirms chunks, then one with
// "report" (and "error" and "code" if the send failed).
//
// The send and inbox endpoints need a backend that implements
// DeliveryBackend, the cluster endpoints a ClusterBackend. Unknown paths answer 404 with code "no_route".
const (
	// MaxAPIBody bounds a request body.
	MaxAPIBody = 4 << 10
	// registerTimeout bounds a name registration.
	registerTimeout = 2 * time.Minute
	// resolveTimeout bounds a name lookup.
	resolveTimeout = time.Minute
	// friendTimeout bounds a friend request, acceptance or denial: a name
	// lookup, finding and connecting the peer, one exchange.
	friendTimeout = 90 * time.Second
)

// API error codes.
const (
	codeUnauthorized = "unauthorized"
	codeBadRequest   = "bad_request"
	codeTooLarge     = "too_large"
	codeInvalidName  = "invalid_name"
	codeNotFound     = "not_found"
	codeNoRoute      = "no_route"
	codeTimeout      = "timeout"
	codeUnavailable  = "unavailable"
	codeInternal     = "internal"
	codeUnknownUser  = "unknown_user"
	codeConflict     = "conflict"
	codeNoUsername   = "no_username"
	codeNotFriends   = "not_friends"
	codeDenied       = "denied"
	codeRefused      = "refused"
	codeUnreachable  = "unreachable"
	codeUnsupported  = "unsupported"

	codeNotEnoughRelays = "not_enough_relays"
	codeInvalidParams   = "invalid_params"
	codeUndeliverable   = "undeliverable"
	codeNoConfirmation  = "no_confirmation"
	codeNoMessage       = "no_message"
	codeNoDataPlane     = "no_data_plane"
	codeUnknownCluster  = "unknown_cluster"
)

// APIBackend is what the local API serves; *Node implements it.
type APIBackend interface {
	Info() Info
	Peers() []PeerInfo
	RegisterName(ctx context.Context, name string) (NameInfo, error)
	Resolve(ctx context.Context, name string) (NameInfo, error)

	RequestFriend(ctx context.Context, name string) (FriendInfo, error)
	AcceptFriend(ctx context.Context, name string) (FriendAnswer, error)
	DenyFriend(ctx context.Context, name string) (FriendAnswer, error)
	Friends() []FriendInfo
}

// RegisterRequest is the body of POST /v1/name/register.
type RegisterRequest struct {
	Name string `json:"name"`
}

// FriendName is the body of POST /v1/friends/{add,accept,deny}.
type FriendName struct {
	Name string `json:"name"`
}

// apiErrorBody is the JSON body of an error response.
type apiErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// NewAPIHandler returns the API's HTTP handler for b, accepting only
// requests that carry token.
func NewAPIHandler(b APIBackend, token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/id", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, b.Info())
	})
	mux.HandleFunc("GET /v1/peers", func(w http.ResponseWriter, r *http.Request) {
		peers := b.Peers()
		if peers == nil {
			peers = []PeerInfo{}
		}
		writeJSON(w, http.StatusOK, peers)
	})
	mux.HandleFunc("POST /v1/name/register", func(w http.ResponseWriter, r *http.Request) {
		var req RegisterRequest
		if !readJSON(w, r, &req) {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), registerTimeout)
		defer cancel()
		info, err := b.RegisterName(ctx, req.Name)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, info)
	})
	mux.HandleFunc("GET /v1/resolve/{name}", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), resolveTimeout)
		defer cancel()
		info, err := b.Resolve(ctx, r.PathValue("name"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, info)
	})
	friendCall := func(call func(context.Context, string) (any, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var req FriendName
			if !readJSON(w, r, &req) {
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), friendTimeout)
			defer cancel()
			v, err := call(ctx, req.Name)
			if err != nil {
				writeError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, v)
		}
	}
	mux.HandleFunc("POST /v1/friends/add", friendCall(func(ctx context.Context, name string) (any, error) {
		return b.RequestFriend(ctx, name)
	}))
	mux.HandleFunc("POST /v1/friends/accept", friendCall(func(ctx context.Context, name string) (any, error) {
		return b.AcceptFriend(ctx, name)
	}))
	mux.HandleFunc("POST /v1/friends/deny", friendCall(func(ctx context.Context, name string) (any, error) {
		return b.DenyFriend(ctx, name)
	}))
	mux.HandleFunc("GET /v1/friends", func(w http.ResponseWriter, r *http.Request) {
		list := b.Friends()
		if list == nil {
			list = []FriendInfo{}
		}
		writeJSON(w, http.StatusOK, list)
	})
	if db, ok := b.(DeliveryBackend); ok {
		handleDelivery(mux, db)
	}
	if cb, ok := b.(ClusterBackend); ok {
		handleClusters(mux, cb)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErrorCode(w, http.StatusNotFound, codeNoRoute, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
	})
	return requireToken(token, mux)
}

// requireToken answers 401 to requests without "Authorization: Bearer
// token". The comparison takes the same time for every wrong token of
// the right length.
func requireToken(token string, next http.Handler) http.Handler {
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || len(want) == 0 || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vmdt"`)
			writeErrorCode(w, http.StatusUnauthorized, codeUnauthorized, "missing or wrong API token")
			return
		}
		limit := int64(MaxAPIBody)
		if r.URL.Path == sendPath {
			limit = MaxSendBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// readJSON decodes exactly one JSON object from the request body into v,
// rejecting unknown fields; on failure it answers the request and returns
// false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeErrorCode(w, http.StatusRequestEntityTooLarge, codeTooLarge, fmt.Sprintf("body larger than %d bytes", MaxAPIBody))
			return false
		}
		writeErrorCode(w, http.StatusBadRequest, codeBadRequest, "bad request body: "+err.Error())
		return false
	}
	return true
}

// writeError answers with the status and code err maps to.
func writeError(w http.ResponseWriter, err error) {
	status, code := errorStatus(err)
	writeErrorCode(w, status, code, err.Error())
}

// errorStatus returns the HTTP status and API code err maps to.
func errorStatus(err error) (status int, code string) {
	status, code = http.StatusInternalServerError, codeInternal
	var ce *ctl.Error
	switch {
	case errors.Is(err, ErrUnknownCluster):
		status, code = http.StatusNotFound, codeUnknownCluster
	case errors.Is(err, delivery.ErrNotEnoughRelays):
		status, code = http.StatusServiceUnavailable, codeNotEnoughRelays
	case errors.Is(err, delivery.ErrInvalidParams):
		status, code = http.StatusBadRequest, codeInvalidParams
	case errors.Is(err, delivery.ErrUndeliverable):
		status, code = http.StatusBadGateway, codeUndeliverable
	case errors.Is(err, delivery.ErrNoConfirmation):
		status, code = http.StatusGatewayTimeout, codeNoConfirmation
	case errors.Is(err, delivery.ErrNotFound):
		status, code = http.StatusNotFound, codeNoMessage
	case errors.Is(err, delivery.ErrNotFriends):
		status, code = http.StatusForbidden, codeNotFriends
	case errors.Is(err, ErrNoDataPlane):
		status, code = http.StatusNotImplemented, codeNoDataPlane
	// The peer's refusals first: their codes also match the sentinels
	// below, which would describe our own state.
	case errors.Is(err, consent.ErrRefused) && errors.Is(err, friends.ErrDenied):
		status, code = http.StatusForbidden, codeDenied
	case errors.Is(err, consent.ErrRefused):
		status, code = http.StatusForbidden, codeRefused
	case errors.Is(err, dht.ErrInvalidName):
		status, code = http.StatusBadRequest, codeInvalidName
	case errors.Is(err, dht.ErrNameNotFound):
		status, code = http.StatusNotFound, codeNotFound
	case errors.Is(err, context.DeadlineExceeded):
		status, code = http.StatusGatewayTimeout, codeTimeout
	case errors.Is(err, ErrClosed), errors.Is(err, context.Canceled):
		status, code = http.StatusServiceUnavailable, codeUnavailable
	case errors.Is(err, friends.ErrUnknown):
		status, code = http.StatusNotFound, codeUnknownUser
	case errors.Is(err, friends.ErrState), errors.Is(err, friends.ErrKeyMismatch):
		status, code = http.StatusConflict, codeConflict
	case errors.Is(err, ErrNoUsername):
		status, code = http.StatusConflict, codeNoUsername
	case errors.Is(err, ErrNotFriends):
		status, code = http.StatusForbidden, codeNotFriends
	case errors.Is(err, consent.ErrUnreachable):
		status, code = http.StatusBadGateway, codeUnreachable
	case errors.Is(err, ErrNoFriends):
		status, code = http.StatusNotImplemented, codeUnsupported
	case errors.As(err, &ce) && ce.Code == ctl.CodeMalformed:
		status, code = http.StatusBadRequest, codeInvalidParams
	case errors.As(err, &ce) && ce.Code == ctl.CodeUnknown:
		status, code = http.StatusNotFound, codeUnknownCluster
	case errors.As(err, &ce): // a peer's refusal in the control protocol
		status, code = http.StatusBadGateway, codeRefused
	}
	return status, code
}

func writeErrorCode(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiErrorBody{Error: msg, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(apiErrorBody{Error: "encode response: " + err.Error(), Code: codeInternal})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// API is the local API server.
type API struct {
	ln     net.Listener
	srv    *http.Server
	cancel context.CancelFunc
	done   chan struct{} // closed when Serve returned

	closeOnce sync.Once
	closeErr  error
}

// StartAPI serves the API for b on addr (a loopback host:port; port 0
// picks one) with token.
func StartAPI(b APIBackend, addr, token string) (*API, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: empty API token", ErrBadConfig)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: API address %q: %v", ErrBadConfig, addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%w: API address %q is not loopback", ErrBadConfig, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("node: API listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &API{
		ln:     ln,
		cancel: cancel,
		done:   make(chan struct{}),
		srv: &http.Server{
			Handler:           NewAPIHandler(b, token),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			IdleTimeout:       time.Minute,
			MaxHeaderBytes:    8 << 10,
			BaseContext:       func(net.Listener) context.Context { return ctx },
			ErrorLog:          stdlog.New(debugWriter{}, "api: ", 0),
		},
	}
	go func() {
		defer close(a.done)
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Errorw("API server", "err", err)
		}
	}()
	return a, nil
}

// Addr returns the address the API listens on.
func (a *API) Addr() net.Addr { return a.ln.Addr() }

// Close stops the API: it cancels requests in flight, waits up to five
// seconds for their answers and closes the listener. It is idempotent.
func (a *API) Close() error {
	a.closeOnce.Do(func() {
		a.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.srv.Shutdown(ctx); err != nil {
			a.closeErr = errors.Join(err, a.srv.Close())
		}
		<-a.done
	})
	return a.closeErr
}

// debugWriter forwards the HTTP server's own log lines to the debug level.
type debugWriter struct{}

func (debugWriter) Write(p []byte) (int, error) {
	log.Debug(strings.TrimSpace(string(p)))
	return len(p), nil
}

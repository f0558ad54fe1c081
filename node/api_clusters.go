package node

import (
	"context"
	"net/http"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// ClusterBackend is what the cluster endpoints serve; *Node implements
// it.
type ClusterBackend interface {
	CreateCluster(ctx context.Context, n, k int) (ClusterView, error)
	JoinCluster(ctx context.Context, id string, via peer.ID) (ClusterView, error)
	Clusters() []ClusterView
}

// ClusterCreateRequest is the body of POST /v1/clusters.
type ClusterCreateRequest struct {
	N int `json:"n"`
	K int `json:"k"`
}

// ClusterJoinRequest is the body of POST /v1/clusters/join.
type ClusterJoinRequest struct {
	ID  string `json:"id"`
	Via string `json:"via"` // the peer ID of a member
}

// clusterTimeout bounds creating or joining a cluster (joining contacts
// every member).
const clusterTimeout = 2 * time.Minute

// handleClusters adds the cluster endpoints to mux.
func handleClusters(mux *http.ServeMux, b ClusterBackend) {
	mux.HandleFunc("POST /v1/clusters", func(w http.ResponseWriter, r *http.Request) {
		var req ClusterCreateRequest
		if !readJSON(w, r, &req) {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), clusterTimeout)
		defer cancel()
		c, err := b.CreateCluster(ctx, req.N, req.K)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
	mux.HandleFunc("POST /v1/clusters/join", func(w http.ResponseWriter, r *http.Request) {
		var req ClusterJoinRequest
		if !readJSON(w, r, &req) {
			return
		}
		via, err := peer.Decode(req.Via)
		if err != nil {
			writeErrorCode(w, http.StatusBadRequest, codeBadRequest, "bad peer ID in \"via\": "+err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), clusterTimeout)
		defer cancel()
		c, err := b.JoinCluster(ctx, req.ID, via)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
	mux.HandleFunc("GET /v1/clusters", func(w http.ResponseWriter, r *http.Request) {
		list := b.Clusters()
		if list == nil {
			list = []ClusterView{}
		}
		writeJSON(w, http.StatusOK, list)
	})
}

// CreateCluster creates a cluster with default n and k through the
// daemon.
func (c *APIClient) CreateCluster(ctx context.Context, n, k int) (ClusterView, error) {
	var v ClusterView
	err := c.call(ctx, http.MethodPost, "/v1/clusters", ClusterCreateRequest{N: n, K: k}, &v)
	return v, err
}

// JoinCluster joins cluster id through via, one of its members.
func (c *APIClient) JoinCluster(ctx context.Context, id string, via peer.ID) (ClusterView, error) {
	var v ClusterView
	err := c.call(ctx, http.MethodPost, "/v1/clusters/join", ClusterJoinRequest{ID: id, Via: via.String()}, &v)
	return v, err
}

// Clusters lists the daemon's clusters.
func (c *APIClient) Clusters(ctx context.Context) ([]ClusterView, error) {
	var v []ClusterView
	err := c.call(ctx, http.MethodGet, "/v1/clusters", nil, &v)
	return v, err
}

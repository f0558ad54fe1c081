package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// DeliveryBackend is what the send and inbox endpoints serve; *Node
// implements it.
type DeliveryBackend interface {
	Send(ctx context.Context, name string, msg []byte, n, k int) (SendReport, error)
	Inbox() ([]InboxEntry, error)
	InboxMessage(id string) (InboxEntry, []byte, error)
}

const (
	// MaxSendBody bounds a message sent through the API. A message
	// travels as one share per relay, and a share may not exceed
	// rdt.DefaultMaxShareLen (64 MiB) including its envelope, so the
	// bound stays well below that until messages are chunked.
	MaxSendBody = 32 << 20
	// sendPath is the send endpoint, the only one with a large body.
	sendPath = "/v1/send"
	// sendTimeout bounds one send: finding relays, transfer, the
	// receiver's confirmation.
	sendTimeout = 2 * time.Minute
	// sendReadTimeout bounds reading a send's body.
	sendReadTimeout = 5 * time.Minute
)

// Headers of GET /v1/inbox/{id}, describing the message in the body.
const (
	HeaderMessageFrom = "X-Vmdt-From"
	HeaderMessageSrc  = "X-Vmdt-Src"
	HeaderMessageTime = "X-Vmdt-Time"
)

// handleDelivery adds the send and inbox endpoints to mux.
func handleDelivery(mux *http.ServeMux, b DeliveryBackend) {
	mux.HandleFunc("POST "+sendPath, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		to := q.Get("to")
		if to == "" {
			writeErrorCode(w, http.StatusBadRequest, codeBadRequest, "missing ?to=<name>")
			return
		}
		n, err1 := queryInt(q.Get("n"))
		k, err2 := queryInt(q.Get("k"))
		if err := errors.Join(err1, err2); err != nil {
			writeErrorCode(w, http.StatusBadRequest, codeInvalidParams, err.Error())
			return
		}
		// The server's ReadTimeout fits small bodies; a message may be
		// larger.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(sendReadTimeout))
		msg, err := io.ReadAll(r.Body)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeErrorCode(w, http.StatusRequestEntityTooLarge, codeTooLarge,
					fmt.Sprintf("message larger than %d bytes", MaxSendBody))
				return
			}
			writeErrorCode(w, http.StatusBadRequest, codeBadRequest, "reading the message: "+err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), sendTimeout)
		defer cancel()
		rep, err := b.Send(ctx, to, msg, n, k)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, rep)
	})
	mux.HandleFunc("GET /v1/inbox", func(w http.ResponseWriter, r *http.Request) {
		list, err := b.Inbox()
		if err != nil {
			writeError(w, err)
			return
		}
		if list == nil {
			list = []InboxEntry{}
		}
		writeJSON(w, http.StatusOK, list)
	})
	mux.HandleFunc("GET /v1/inbox/{id}", func(w http.ResponseWriter, r *http.Request) {
		e, msg, err := b.InboxMessage(r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Length", strconv.Itoa(len(msg)))
		h.Set("Cache-Control", "no-store")
		h.Set(HeaderMessageFrom, e.From)
		h.Set(HeaderMessageSrc, e.Src)
		h.Set(HeaderMessageTime, e.Time.UTC().Format(time.RFC3339Nano))
		w.WriteHeader(http.StatusOK)
		w.Write(msg)
	})
}

// queryInt parses an optional small count; "" is 0.
func queryInt(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > 255 {
		return 0, fmt.Errorf("n and k must be numbers from 2 to 255, have %q", s)
	}
	return v, nil
}

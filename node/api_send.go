package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/vmdt/vmdt/node/delivery"
)

// DeliveryBackend is what the send and inbox endpoints serve; *Node
// implements it.
type DeliveryBackend interface {
	SendMessage(ctx context.Context, name string, msg []byte, o SendOptions) (SendReport, error)
	SendFile(ctx context.Context, name string, r io.ReaderAt, size int64, o SendOptions) (SendReport, error)
	// SpoolDir is where a large body waits while it is sent; "" means
	// the system's temporary directory.
	SpoolDir() string
	Inbox() ([]InboxEntry, error)
	OpenInboxMessage(id string) (InboxEntry, *os.File, error)
}

const (
	// MaxSendBody bounds a message sent through the API (4 GiB). A body
	// larger than one chunk (delivery.DefaultChunkSize, 4 MiB) is
	// written to a file in the repository (delivery/tmp, mode 0600,
	// removed after the send) and sent as a file in chunks, so the
	// daemon's memory stays near a few chunks whatever the size.
	MaxSendBody = 4 << 30
	// sendChunk is the largest body sent as one message.
	sendChunk = delivery.DefaultChunkSize
	// sendPath is the send endpoint, the only one with a large body.
	sendPath = "/v1/send"
	// sendTimeout bounds one message: finding relays, transfer, the
	// receiver's confirmation. A file gets sendTimeout plus one second
	// per MiB (sendFileRate).
	sendTimeout  = 2 * time.Minute
	sendFileRate = 1 << 20
	// sendReadTimeout bounds reading a send's body.
	sendReadTimeout = time.Hour
	// ContentTypeNDJSON asks POST /v1/send for a stream of progress
	// lines (SendEvent) ending with the report.
	ContentTypeNDJSON = "application/x-ndjson"
)

// SendEvent is one line of POST /v1/send's NDJSON answer: a progress
// line {"sent": bytes the receiver holds, "total": size}, or the last
// line, with Report (and for a failed send Error and Code, as an error
// answer would have them).
type SendEvent struct {
	Sent   int64       `json:"sent"`
	Total  int64       `json:"total"`
	Report *SendReport `json:"report,omitempty"`
	Error  string      `json:"error,omitempty"`
	Code   string      `json:"code,omitempty"`
}

// sendErrorBody is the error answer of POST /v1/send: the usual error
// and code, and the report when relays had been chosen.
type sendErrorBody struct {
	Error  string      `json:"error"`
	Code   string      `json:"code"`
	Report *SendReport `json:"report,omitempty"`
}

// Headers of GET /v1/inbox/{id}, describing the message in the body.
const (
	HeaderMessageFrom = "X-Vmdt-From"
	HeaderMessageSrc  = "X-Vmdt-Src"
	HeaderMessageTime = "X-Vmdt-Time"
	HeaderMessageName = "X-Vmdt-Name" // a file's name, if any
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
		o := SendOptions{N: n, K: k, Cluster: q.Get("cluster"), Name: q.Get("name")}
		if o.Name == "" || o.Name == "-" {
			o.Name = "stdin"
		}
		// The server's ReadTimeout fits small bodies; a message may be
		// larger.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(sendReadTimeout))
		body, err := spoolBody(r.Body, b.SpoolDir())
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
		defer body.close()

		var ev *eventWriter
		if q.Get("progress") == "1" || r.Header.Get("Accept") == ContentTypeNDJSON {
			ev = startEvents(w)
			o.Progress = func(done, total int64) { ev.write(SendEvent{Sent: done, Total: total}) }
		}
		timeout := sendTimeout
		var rep SendReport
		if body.file != nil {
			timeout += time.Duration(body.size/sendFileRate) * time.Second
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if body.file != nil {
			rep, err = b.SendFile(ctx, to, body.file, body.size, o)
		} else {
			rep, err = b.SendMessage(ctx, to, body.msg, o)
		}
		var repp *SendReport
		if rep.Status != "" {
			repp = &rep
		}
		switch {
		case ev != nil && err != nil:
			_, code := errorStatus(err)
			ev.write(SendEvent{Total: body.size, Report: repp, Error: err.Error(), Code: code})
		case ev != nil:
			ev.write(SendEvent{Sent: body.size, Total: body.size, Report: &rep})
		case err != nil:
			status, code := errorStatus(err)
			writeJSON(w, status, sendErrorBody{Error: err.Error(), Code: code, Report: repp})
		default:
			writeJSON(w, http.StatusOK, rep)
		}
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
		e, f, err := b.OpenInboxMessage(r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			writeError(w, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Length", strconv.FormatInt(st.Size(), 10))
		h.Set("Cache-Control", "no-store")
		h.Set(HeaderMessageFrom, e.From)
		h.Set(HeaderMessageSrc, e.Src)
		h.Set(HeaderMessageTime, e.Time.UTC().Format(time.RFC3339Nano))
		if e.Name != "" {
			h.Set(HeaderMessageName, e.Name)
		}
		w.WriteHeader(http.StatusOK)
		io.Copy(w, f)
	})
}

// sendBody is a send's body: in memory up to one chunk, else in a
// temporary file.
type sendBody struct {
	msg  []byte
	file *os.File
	size int64
}

// spoolBody reads a send's body: up to sendChunk bytes into memory, a
// larger body into a new file in dir (mode 0600), which close removes.
func spoolBody(r io.Reader, dir string) (*sendBody, error) {
	head, err := io.ReadAll(io.LimitReader(r, sendChunk+1))
	if err != nil {
		return nil, err
	}
	if len(head) <= sendChunk {
		return &sendBody{msg: head, size: int64(len(head))}, nil
	}
	f, err := os.CreateTemp(dir, "send-*")
	if err != nil {
		return nil, fmt.Errorf("node: spool: %w", err)
	}
	b := &sendBody{file: f}
	if _, err := f.Write(head); err != nil {
		b.close()
		return nil, fmt.Errorf("node: spool: %w", err)
	}
	head = nil
	rest, err := io.Copy(f, r)
	if err != nil {
		b.close()
		return nil, err
	}
	b.size = int64(sendChunk+1) + rest
	return b, nil
}

// close removes the temporary file, if any.
func (b *sendBody) close() {
	if b.file != nil {
		b.file.Close()
		os.Remove(b.file.Name())
	}
}

// eventWriter writes the NDJSON lines of a send, one at a time, flushing
// each.
type eventWriter struct {
	mu sync.Mutex
	w  http.ResponseWriter
	rc *http.ResponseController
}

// startEvents answers 200 with an NDJSON body; errors from here on are
// events.
func startEvents(w http.ResponseWriter) *eventWriter {
	w.Header().Set("Content-Type", ContentTypeNDJSON)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	ev := &eventWriter{w: w, rc: http.NewResponseController(w)}
	_ = ev.rc.Flush()
	return ev
}

func (ev *eventWriter) write(e SendEvent) {
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.w.Write(append(b, '\n'))
	_ = ev.rc.Flush()
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

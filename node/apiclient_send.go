package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// SendParams tune APIClient.Send; the zero value uses the daemon's
// defaults.
type SendParams struct {
	N, K    int    // shares and threshold; zeros: the cluster's or the daemon's defaults
	Cluster string // relays among this cluster's members only
	Name    string // the file name the receiver sees ("" or "-": "stdin")
	// Progress, if not nil, asks for NDJSON progress and is called with
	// the bytes the receiver confirmed and the total, for a body larger
	// than one chunk.
	Progress func(sent, total int64)
}

// Send sends the message read from body to name through the daemon and
// returns once the receiver confirmed it or relays hold it for an
// offline receiver (Status "pooled"). size is body's length, or -1 if
// unknown. When the send fails after relays were chosen, it returns the
// report (Status "failed") along with the error.
func (c *APIClient) Send(ctx context.Context, name string, body io.Reader, size int64, p SendParams) (SendReport, error) {
	q := url.Values{"to": {name}}
	if p.N != 0 {
		q.Set("n", strconv.Itoa(p.N))
	}
	if p.K != 0 {
		q.Set("k", strconv.Itoa(p.K))
	}
	if p.Cluster != "" {
		q.Set("cluster", p.Cluster)
	}
	if p.Name != "" {
		q.Set("name", p.Name)
	}
	if p.Progress != nil {
		q.Set("progress", "1")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+sendPath+"?"+q.Encode(), body)
	if err != nil {
		return SendReport{}, fmt.Errorf("node: API request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	if size >= 0 {
		req.ContentLength = size
	}
	if p.Progress != nil {
		req.Header.Set("Accept", ContentTypeNDJSON)
	}
	resp, err := c.long.Do(req)
	if err != nil {
		return SendReport{}, apiDoError(err, c.base)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
		var e sendErrorBody
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e = sendErrorBody{Error: fmt.Sprintf("API answered %s", resp.Status), Code: codeInternal}
		}
		var rep SendReport
		if e.Report != nil {
			rep = *e.Report
		}
		return rep, &APIError{Status: resp.StatusCode, Code: e.Code, Message: e.Error}
	}
	if resp.Header.Get("Content-Type") != ContentTypeNDJSON {
		var rep SendReport
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxAPIResponse)).Decode(&rep); err != nil {
			return SendReport{}, fmt.Errorf("node: API response: %w", err)
		}
		return rep, nil
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var ev SendEvent
		if err := dec.Decode(&ev); err != nil {
			return SendReport{}, fmt.Errorf("node: API response ended without a report: %w", err)
		}
		var rep SendReport
		if ev.Report != nil {
			rep = *ev.Report
		}
		switch {
		case ev.Error != "":
			return rep, &APIError{Status: http.StatusOK, Code: ev.Code, Message: ev.Error}
		case ev.Report != nil:
			return rep, nil
		case p.Progress != nil:
			p.Progress(ev.Sent, ev.Total)
		}
	}
}

// Inbox lists the daemon's received messages.
func (c *APIClient) Inbox(ctx context.Context) ([]InboxEntry, error) {
	var v []InboxEntry
	err := c.call(ctx, http.MethodGet, "/v1/inbox", nil, &v)
	return v, err
}

// InboxMessage writes the bytes of received message id to w and returns
// its entry (ID, From, Src, Size and Time). An unknown id fails with an
// error matching delivery.ErrNotFound.
func (c *APIClient) InboxMessage(ctx context.Context, id string, w io.Writer) (InboxEntry, error) {
	resp, err := c.raw(ctx, http.MethodGet, "/v1/inbox/"+url.PathEscape(id), nil, 0)
	if err != nil {
		return InboxEntry{}, err
	}
	defer resp.Body.Close()
	e := InboxEntry{ID: id, From: resp.Header.Get(HeaderMessageFrom), Src: resp.Header.Get(HeaderMessageSrc),
		Name: resp.Header.Get(HeaderMessageName)}
	e.Time, _ = time.Parse(time.RFC3339Nano, resp.Header.Get(HeaderMessageTime))
	got, err := io.Copy(w, resp.Body)
	if err != nil {
		return e, fmt.Errorf("node: API response: %w", err)
	}
	if resp.ContentLength >= 0 && got != resp.ContentLength {
		return e, fmt.Errorf("node: API response: message cut short at %d of %d bytes", got, resp.ContentLength)
	}
	e.Size = int(got)
	return e, nil
}

// raw sends one request with an arbitrary body and returns the response
// if its status is 200; otherwise the API's error.
func (c *APIClient) raw(ctx context.Context, method, path string, body io.Reader, size int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("node: API request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
		if size >= 0 {
			req.ContentLength = size
		}
	}
	resp, err := c.long.Do(req)
	if err != nil {
		return nil, apiDoError(err, c.base)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	var e apiErrorBody
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		e = apiErrorBody{Error: fmt.Sprintf("API answered %s", resp.Status), Code: codeInternal}
	}
	return nil, &APIError{Status: resp.StatusCode, Code: e.Code, Message: e.Error}
}

// apiDoError explains a request that got no answer.
func apiDoError(err error, base string) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w: nothing listens at %s", ErrDaemonNotRunning, base)
	}
	return fmt.Errorf("node: API: %w", err)
}

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

// Send sends the message read from body to name through the daemon,
// with n shares and threshold k (zeros mean the daemon's defaults), and
// returns once the receiver confirmed it. size is body's length, or -1
// if unknown.
func (c *APIClient) Send(ctx context.Context, name string, body io.Reader, size int64, n, k int) (SendReport, error) {
	q := url.Values{"to": {name}}
	if n != 0 {
		q.Set("n", strconv.Itoa(n))
	}
	if k != 0 {
		q.Set("k", strconv.Itoa(k))
	}
	resp, err := c.raw(ctx, http.MethodPost, sendPath+"?"+q.Encode(), body, size)
	if err != nil {
		return SendReport{}, err
	}
	defer resp.Body.Close()
	var rep SendReport
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAPIResponse)).Decode(&rep); err != nil {
		return SendReport{}, fmt.Errorf("node: API response: %w", err)
	}
	return rep, nil
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
	e := InboxEntry{ID: id, From: resp.Header.Get(HeaderMessageFrom), Src: resp.Header.Get(HeaderMessageSrc)}
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
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w: nothing listens at %s", ErrDaemonNotRunning, c.base)
		}
		return nil, fmt.Errorf("node: API: %w", err)
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

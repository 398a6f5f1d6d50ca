// Package upstream is the SeaTable REST client: it builds requests, forwards
// the caller's token, decodes every known generation of SeaTable's responses
// into typed models, and classifies failures into apperr codes through one
// table (errors.go).
//
// It never logs, and never puts a token into an error string: errors it
// returns may be logged in full by callers.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// Defaults for a Client.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultMaxBytes = 64 << 20
	userAgent       = "seatable-graphql"
)

// Client talks to one SeaTable server. It is safe for concurrent use and holds
// no per-user state: every call takes the caller's token.
type Client struct {
	base     *url.URL
	http     *http.Client
	timeout  time.Duration
	maxBytes int64
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (transport, pool); its Timeout should be
// zero, since the per-call timeout is applied through the context.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout bounds each upstream call.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithMaxBytes caps the size of a response body.
func WithMaxBytes(n int64) Option { return func(c *Client) { c.maxBytes = n } }

// New returns a client for the SeaTable server at baseURL (for example
// https://cloud.seatable.io or https://host/seatable/).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("parse SeaTable URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("SeaTable URL %q: want http(s)://host[/path]", u.Redacted())
	}
	if u.User != nil {
		return nil, errors.New("SeaTable URL must not carry credentials; use SEATABLE_TOKEN")
	}
	// Relative API paths must resolve below a base path, not replace it.
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment = "", ""
	c := &Client{base: u, http: http.DefaultClient, timeout: DefaultTimeout, maxBytes: DefaultMaxBytes}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL returns the server's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// ListWorkspaces calls GET /api/v2.1/workspaces/ with the caller's token.
// With detail false SeaTable omits base lists, which is much cheaper.
func (c *Client) ListWorkspaces(ctx context.Context, token string, detail bool) (*WorkspaceList, error) {
	list, _, err := c.ListWorkspacesWithBody(ctx, token, detail)
	return list, err
}

// ListWorkspacesWithBody is ListWorkspaces that also returns the raw
// (uncompressed) body, for a cache that shares bodies between replicas.
func (c *Client) ListWorkspacesWithBody(ctx context.Context, token string, detail bool) (*WorkspaceList, []byte, error) {
	q := url.Values{"detail": {fmt.Sprint(detail)}}
	var (
		list *WorkspaceList
		body []byte
	)
	err := c.do(ctx, token, http.MethodGet, "api/v2.1/workspaces/", q, func(r io.Reader) error {
		var err error
		if body, err = readBody(r, sizeHint(r)); err != nil {
			return err
		}
		list, err = DecodeWorkspaceListBytes(body)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list workspaces: %w", err)
	}
	list.Detail = detail
	return list, body, nil
}

// do runs one request and hands a 2xx body to decode; every failure comes
// back as an *apperr.Error.
func (c *Client) do(ctx context.Context, token, method, path string, query url.Values, decode func(io.Reader) error) error {
	if token == "" {
		return apperr.New(apperr.Unauthenticated, "no SeaTable token given")
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	u := c.base.JoinPath(path)
	// JoinPath drops the trailing slash SeaTable's routes require.
	if strings.HasSuffix(path, "/") && !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "could not build upstream request", err)
	}
	req.Header.Set("Authorization", "Token "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)

	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(ctx, err)
	}
	defer func() {
		// Drain a little so the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		_ = resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(resp, c.maxBytes)
	}
	body := &limitedReader{r: resp.Body, left: c.maxBytes, sizeHint: resp.ContentLength}
	if err := decode(body); err != nil {
		switch {
		case body.exceeded:
			return &apperr.Error{Code: apperr.UpstreamBadResponse, Message: "SeaTable response too large", UpstreamStatus: resp.StatusCode, Err: err}
		case ctx.Err() != nil:
			return transportError(ctx, err)
		}
		return &apperr.Error{Code: apperr.UpstreamBadResponse, Message: "SeaTable sent a response this server cannot read", UpstreamStatus: resp.StatusCode, Err: err}
	}
	return nil
}

// transportError classifies a failure to get a response at all.
func transportError(ctx context.Context, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return apperr.Wrap(apperr.UpstreamTimeout, "SeaTable did not answer in time", err)
	case errors.Is(ctx.Err(), context.Canceled):
		return apperr.Wrap(apperr.UpstreamUnavailable, "request cancelled", err)
	}
	return apperr.Wrap(apperr.UpstreamUnavailable, "SeaTable is unreachable", err)
}

// limitedReader fails once more than left bytes are read, and remembers it,
// so an oversized body is told apart from a malformed one.
type limitedReader struct {
	r        io.Reader
	left     int64
	exceeded bool
	// sizeHint is the body's announced length (-1 when unknown, as for a
	// gzipped body), so a decoder can size its buffer once.
	sizeHint int64
}

// SizeHint returns the announced body length, or -1.
func (l *limitedReader) SizeHint() int64 { return min(l.sizeHint, l.left+1) }

var errTooLarge = errors.New("response body exceeds size limit")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Probe one byte: a body of exactly the limit is fine.
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			l.exceeded = true
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// Package upstream is the SeaTable REST client: it builds requests, forwards
// the caller's token, decodes every known generation of SeaTable's responses
// into typed models, and classifies failures into apperr codes through one
// table (errors.go).
//
// It never logs, and never puts a token into an error string: errors it
// returns may be logged in full by callers.
package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/semaphore"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
)

// Defaults for a Client.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultMaxBytes = 64 << 20
	// DefaultRetries is how many times an idempotent call is repeated after
	// a connection error or a 502/503/504.
	DefaultRetries = 2
	// DefaultBreakerFailures consecutive failures open the circuit.
	DefaultBreakerFailures = 5
	// DefaultBreakerCallers is how many distinct callers (tokens) must have
	// failed within breakerCallerWindow before failures count toward the
	// breaker: one user whose own calls fail (their 5xx, their hanging
	// call) must not cut everyone off.
	DefaultBreakerCallers = 3
	// breakerProbes is how many calls a half-open breaker lets through; all
	// must succeed to close it, so one hanging probe cannot hold the only
	// slot.
	breakerProbes = 3
	// breakerCallerWindow is how long a failing caller is remembered.
	breakerCallerWindow = time.Minute
	// DefaultBreakerOpen is how long an open circuit fails fast before one
	// probe call is let through.
	DefaultBreakerOpen = 15 * time.Second
	// DefaultMaxInflightBytes bounds the response bytes being read by all
	// calls together; each call alone stops at DefaultMaxBytes, but
	// sixteen gzip bombs at once would still hold a gigabyte.
	DefaultMaxInflightBytes = 256 << 20
	userAgent               = "seatable-graphql"
)

// Lister is the read of a caller's workspace list: the client implements
// it, and so does each decorator that wraps it (coalescing, caching).
//
// Everything a read depends on is in its arguments, never on ctx (which
// carries only its deadline, cancellation and tracing), and everything a
// layer may need of the answer is in the returned list: its Body too,
// where it came from one. So decorators compose in any order.
type Lister interface {
	ListWorkspaces(ctx context.Context, token string, r Read) (*WorkspaceList, error)
}

// Read is what one read of a workspace list asks for. The zero value asks
// for the summary (detail=false) with every field, from any layer that
// keeps answers; the full list is Read{Detail: true}.
type Read struct {
	// Detail asks for base lists (detail=true), which SeaTable charges
	// much more time for.
	Detail bool
	// Omit is the optional base fields the reader has no use for: the
	// decoder may leave them out, which saves most of its time on lists
	// that show names only. A layer that keeps answers for other readers
	// (the response cache) asks for all of them instead.
	Omit Fields
	// Fresh asks for SeaTable's answer now, not one a layer kept (the
	// client sent Cache-Control: no-cache, or a live poll); the fresh
	// answer may still be kept for later reads.
	Fresh bool
}

// Fields returns the optional base fields the read needs decoded.
func (r Read) Fields() Fields { return AllFields &^ r.Omit }

// Invalidator is implemented by decorators that keep or share answers: a
// write through token calls it, so that later reads see the write.
type Invalidator interface {
	Invalidate(ctx context.Context, token string)
}

var _ Lister = (*Client)(nil)

// Client talks to one SeaTable server. It is safe for concurrent use and holds
// no per-user state: every call takes the caller's token. Its circuit breaker
// is per server, shared by all tokens: a SeaTable that is down is down for
// everyone. Failures count toward it only once several distinct callers
// have failed (WithBreakerCallers), so one user whose own calls fail cannot
// open it for all.
type Client struct {
	base     *url.URL
	http     *http.Client
	timeout  time.Duration
	maxBytes int64
	inflight *inflightBudget // nil: unbounded
	retries  int
	backoff  func(retry int) time.Duration

	breakerFailures uint32
	breakerOpen     time.Duration
	breakerCallers  int
	failing         *failingCallers
	onStateChange   func(from, to string)
	onFailure       func(ctx context.Context, endpoint string, err error)
	breaker         *gobreaker.CircuitBreaker[struct{}]
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (transport, pool); its Timeout should be
// zero, since the per-call timeout is applied through the context.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout bounds each upstream attempt; the caller's context bounds the
// whole call, retries included.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithMaxBytes caps the size of a response body.
func WithMaxBytes(n int64) Option { return func(c *Client) { c.maxBytes = n } }

// WithMaxInflightBytes bounds the response bytes being read by all calls
// at once (0: no bound). A call that would go over fails at once with
// UPSTREAM_UNAVAILABLE rather than wait: waiting for bytes other calls hold
// while holding some itself could deadlock them all until their timeouts.
func WithMaxInflightBytes(n int64) Option {
	return func(c *Client) {
		c.inflight = nil
		if n > 0 {
			c.inflight = &inflightBudget{sem: semaphore.NewWeighted(n)}
		}
	}
}

// WithRetries sets how many times an idempotent call is retried (0 = never).
func WithRetries(n int) Option { return func(c *Client) { c.retries = n } }

// withBackoff replaces the wait before retry number retry (0-based); tests
// use it to make retries instant or deliberately longer than a deadline.
func withBackoff(f func(retry int) time.Duration) Option { return func(c *Client) { c.backoff = f } }

// WithBreaker sets the circuit breaker: after failures consecutive failed
// attempts (5xx, timeouts, connection errors) calls fail fast for open, then
// one probe decides. failures 0 disables the breaker.
func WithBreaker(failures int, open time.Duration) Option {
	return func(c *Client) {
		c.breakerFailures = uint32(max(failures, 0))
		c.breakerOpen = open
	}
}

// WithBreakerCallers sets how many distinct callers must have failed within
// a minute before failures count toward the breaker (1: any failure
// counts, as in a single-user deployment).
func WithBreakerCallers(n int) Option { return func(c *Client) { c.breakerCallers = max(n, 1) } }

// WithBreakerStateHook is told about every breaker state change ("closed",
// "open", "half-open"), for logs and metrics.
func WithBreakerStateHook(f func(from, to string)) Option {
	return func(c *Client) { c.onStateChange = f }
}

// WithFailureHook is told about every call that failed, after its last
// attempt, with the call's endpoint (see Endpoint) and error: the package
// never logs, its user does (Cause says why in a few words).
func WithFailureHook(f func(ctx context.Context, endpoint string, err error)) Option {
	return func(c *Client) { c.onFailure = f }
}

// CheckBaseURL says what is wrong with baseURL as New's argument, or
// returns nil. The error never repeats the URL, which may hold a password.
func CheckBaseURL(baseURL string) error {
	u, err := url.Parse(baseURL)
	switch {
	case err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return errors.New("want http(s)://host[/path], such as https://cloud.seatable.io")
	case u.User != nil:
		return errors.New("must not carry credentials; use SEATABLE_TOKEN")
	}
	return nil
}

// New returns a client for the SeaTable server at baseURL (for example
// https://cloud.seatable.io or https://host/seatable/).
func New(baseURL string, opts ...Option) (*Client, error) {
	if err := CheckBaseURL(baseURL); err != nil {
		return nil, fmt.Errorf("SeaTable URL: %w", err)
	}
	u, _ := url.Parse(baseURL) // CheckBaseURL parsed it
	// Relative API paths must resolve below a base path, not replace it.
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment = "", ""
	c := &Client{
		base: u, http: http.DefaultClient, timeout: DefaultTimeout, maxBytes: DefaultMaxBytes,
		inflight: &inflightBudget{sem: semaphore.NewWeighted(DefaultMaxInflightBytes)},
		retries:  DefaultRetries, backoff: jitteredBackoff(100*time.Millisecond, 2*time.Second),
		breakerFailures: DefaultBreakerFailures, breakerOpen: DefaultBreakerOpen, breakerCallers: DefaultBreakerCallers,
	}
	for _, o := range opts {
		o(c)
	}
	c.breaker = c.newBreaker(u.Host)
	// Never follow redirects: Go keeps the Authorization header on a redirect
	// to the same host name (any port or scheme), so following one could hand
	// the token to another server or send it unencrypted. A 3xx means a wrong
	// SEATABLE_URL and is reported as such.
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &hc
	return c, nil
}

// newBreaker returns a circuit breaker named name with c's settings (nil
// when disabled) and gives c its own record of failing callers.
func (c *Client) newBreaker(name string) *gobreaker.CircuitBreaker[struct{}] {
	c.failing = nil
	if c.breakerFailures > 0 {
		c.failing = newFailingCallers(breakerCallerWindow)
		return gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
			Name:         name,
			MaxRequests:  breakerProbes,
			Timeout:      c.breakerOpen,
			ReadyToTrip:  func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= c.breakerFailures },
			IsSuccessful: func(err error) bool { return err == nil || !breakerFailure(err) },
			// A caller that went away says nothing about SeaTable's health,
			// nor does a failure while too few callers fail.
			IsExcluded: func(err error) bool {
				_, solo := errors.AsType[*soloFailure](err)
				return solo || errors.Is(err, errCancelled)
			},
			OnStateChange: func(_ string, from, to gobreaker.State) {
				if c.onStateChange != nil {
					c.onStateChange(from.String(), to.String())
				}
			},
		})
	}
	return nil
}

// jitteredBackoff waits base*2^retry, capped at limit, scaled by a random
// factor in [0.5, 1) so that many clients retrying together spread out.
func jitteredBackoff(base, limit time.Duration) func(retry int) time.Duration {
	return func(retry int) time.Duration {
		d := base << min(retry, 30)
		if d > limit || d <= 0 {
			d = limit
		}
		return d/2 + rand.N(d/2+1)
	}
}

// BaseURL returns the server's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// ListWorkspaces calls GET /api/v2.1/workspaces/ with the caller's token.
// Without read.Detail SeaTable omits base lists, which is much cheaper.
// The list carries the raw (uncompressed) body as Body, for a cache that
// shares bodies between replicas. read.Fresh means nothing here: every
// call asks SeaTable.
func (c *Client) ListWorkspaces(ctx context.Context, token string, read Read) (*WorkspaceList, error) {
	detail := read.Detail
	q := url.Values{"detail": {fmt.Sprint(detail)}}
	var (
		list *WorkspaceList
		body []byte
	)
	err := c.do(ctx, token, http.MethodGet, "api/v2.1/workspaces/", q, nil, func(r io.Reader) error {
		var err error
		if body, err = readBody(r, sizeHint(r)); err != nil {
			return err
		}
		list, err = decodeWorkspaceList(body, read.Fields())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	list.Detail = detail
	list.Body = body
	return list, nil
}

var (
	// errUnreachable marks failures to get any response (refused, reset,
	// closed before the status line): safe to retry for an idempotent call.
	errUnreachable = errors.New("no response from SeaTable")
	// errCancelled marks calls abandoned by our own caller.
	errCancelled = errors.New("call cancelled by the client")
	// errBusy marks calls refused because other calls' responses already
	// use the in-flight byte budget: this server's load, not SeaTable's
	// health, so it never counts toward the circuit breaker.
	errBusy = errors.New("too many response bytes in flight")
)

// requestBody is what a write sends: encoded bytes and their content type.
type requestBody struct {
	contentType string
	data        []byte
}

// formBody encodes v the way SeaTable's Django views read write parameters.
func formBody(v url.Values) *requestBody {
	return &requestBody{contentType: "application/x-www-form-urlencoded", data: []byte(v.Encode())}
}

// do runs one logical call made with the caller's token; see send.
func (c *Client) do(ctx context.Context, token, method, path string, query url.Values, body *requestBody, decode func(io.Reader) error) error {
	if token == "" {
		return apperr.New(apperr.Unauthenticated, "no SeaTable token given")
	}
	// Only GET and HEAD are ever retried: a write that timed out may still
	// have happened upstream, and repeating a create or copy would duplicate
	// a base.
	retry := method == http.MethodGet || method == http.MethodHead
	return c.send(ctx, token, method, path, query, body, retry, decode)
}

// send runs one logical call: attempts through the circuit breaker, retried
// with backoff while retry is set, the failure is transient and the caller's
// deadline leaves room. decode gets a 2xx body; every failure comes back as
// an *apperr.Error. body is nil for reads; token "" sends no Authorization
// header (ping).
func (c *Client) send(ctx context.Context, token, method, path string, query url.Values, body *requestBody, retry bool, decode func(io.Reader) error) error {
	u := c.base.JoinPath(path)
	// JoinPath drops the trailing slash SeaTable's routes require.
	if strings.HasSuffix(path, "/") && !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery = query.Encode()
	return c.sendTo(ctx, token, method, u.String(), body, retry, decode)
}

// sendTo is send to an absolute URL (a base's server, base.go).
func (c *Client) sendTo(ctx context.Context, token, method, target string, body *requestBody, retry bool, decode func(io.Reader) error) (err error) {
	if c.onFailure != nil {
		defer func() {
			if err == nil {
				return
			}
			// The endpoint as metrics name it: a route template, never the
			// URL (a base call's URL holds the base's name).
			endpoint := method + " ?"
			if u, perr := url.Parse(target); perr == nil {
				endpoint = c.Endpoint((&http.Request{Method: method, URL: u}).WithContext(ctx))
			}
			c.onFailure(ctx, endpoint, err)
		}()
	}
	for n := 0; ; n++ {
		err := c.guarded(token, func(timeout time.Duration) error {
			return c.attempt(ctx, timeout, token, method, target, body, decode)
		})
		if err == nil || !retry || n >= c.retries || !transient(err) {
			return err
		}
		wait := c.backoff(n)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			return err // a retry could not finish in time; answer now
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// guarded runs one attempt through the circuit breaker, if there is one,
// with the attempt's timeout. A probe of a half-open breaker gets half the
// timeout (at most 5 s): a caller whose call hangs holds a probe slot that
// long, not the full timeout.
func (c *Client) guarded(token string, attempt func(timeout time.Duration) error) error {
	if c.breaker == nil {
		return attempt(c.timeout)
	}
	timeout := c.timeout
	if c.breaker.State() == gobreaker.StateHalfOpen && timeout > 0 {
		timeout = min(timeout/2, 5*time.Second)
	}
	_, err := c.breaker.Execute(func() (struct{}, error) {
		err := attempt(timeout)
		if breakerFailure(err) && token != "" && c.failing.add(token) < c.breakerCallers {
			return struct{}{}, &soloFailure{err}
		}
		return struct{}{}, err
	})
	if sf, ok := errors.AsType[*soloFailure](err); ok {
		return sf.err
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return apperr.Wrap(apperr.UpstreamUnavailable, "SeaTable is unavailable (circuit open)", err)
	}
	return err
}

// soloFailure marks a failed attempt while fewer than breakerCallers
// callers have failed: the breaker excludes it, the caller gets err.
type soloFailure struct{ err error }

func (s *soloFailure) Error() string { return s.err.Error() }

// failingCallers remembers, by keyed hash, which callers had a failing
// attempt in the last window.
type failingCallers struct {
	key    []byte
	window time.Duration

	mu   sync.Mutex
	last map[string]time.Time
}

// maxTrackedCallers bounds the map; past it every caller counts as another
// one, which only makes the breaker behave as it did before (any failure
// counts).
const maxTrackedCallers = 4096

func newFailingCallers(window time.Duration) *failingCallers {
	return &failingCallers{key: tokenhash.NewKey(), window: window, last: map[string]time.Time{}}
}

// add records a failure of token's caller and returns how many distinct
// callers failed within the window, this one included.
func (f *failingCallers) add(token string) int {
	h := tokenhash.Sum(f.key, token)
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, t := range f.last {
		if now.Sub(t) > f.window {
			delete(f.last, k)
		}
	}
	if len(f.last) >= maxTrackedCallers {
		return math.MaxInt
	}
	f.last[h] = now
	return len(f.last)
}

// transient reports whether a failed attempt may succeed if repeated: no
// response at all, or a 502/503/504 from SeaTable or a proxy in front of it.
// Our own per-attempt timeout is not retried: it already took the full time.
func transient(err error) bool {
	ae, ok := apperr.As(err)
	if !ok {
		return false
	}
	switch ae.UpstreamStatus {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return errors.Is(err, errUnreachable)
}

// breakerFailure reports whether an attempt's failure says SeaTable is
// unhealthy. 4xx (a bad token, a rate limit) and unreadable bodies do not:
// one user's bad token must not cut off everyone.
func breakerFailure(err error) bool {
	switch apperr.CodeOf(err) {
	case apperr.UpstreamTimeout, apperr.UpstreamUnavailable:
		return !errors.Is(err, errCancelled) && !errors.Is(err, errBusy)
	}
	return false
}

// attempt makes one HTTP request, bounded by timeout.
func (c *Client) attempt(ctx context.Context, timeout time.Duration, token, method, target string, body *requestBody, decode func(io.Reader) error) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var reqBody io.Reader
	if body != nil {
		reqBody = bytes.NewReader(body.data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reqBody)
	if err != nil {
		return apperr.Wrap(apperr.Internal, "could not build upstream request", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", body.contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
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
		return statusError(resp, c.maxBytes, token)
	}
	// The two refusals are built only when returned: two allocations on
	// every call otherwise.
	tooLarge := func(err error) error {
		return &apperr.Error{Code: apperr.UpstreamBadResponse, Message: "SeaTable response too large", UpstreamStatus: resp.StatusCode, Err: err}
	}
	busy := func(err error) error {
		return &apperr.Error{Code: apperr.UpstreamUnavailable, Message: "this server is busy reading other SeaTable responses; retry shortly", UpstreamStatus: resp.StatusCode, Err: err}
	}
	if c.maxBytes > 0 && resp.ContentLength > c.maxBytes {
		return tooLarge(fmt.Errorf("Content-Length %d: %w", resp.ContentLength, errTooLarge))
	}
	lr := &limitedReader{r: resp.Body, left: c.maxBytes, sizeHint: resp.ContentLength, budget: c.inflight}
	if c.maxBytes <= 0 {
		lr.left = math.MaxInt64 / 2 // no limit; SizeHint adds one
	}
	defer lr.release()
	// A known length is reserved whole: the decoder allocates it at once.
	if resp.ContentLength > 0 && !lr.reserve(resp.ContentLength) {
		return busy(errBusy)
	}
	if err := decode(lr); err != nil {
		switch {
		case lr.exceeded:
			return tooLarge(err)
		case lr.busy:
			return busy(fmt.Errorf("%w: %w", errBusy, err))
		case ctx.Err() != nil:
			return transportError(ctx, err)
		}
		return &apperr.Error{Code: apperr.UpstreamBadResponse, Message: "SeaTable sent a response this server cannot read", UpstreamStatus: resp.StatusCode, Err: err}
	}
	return nil
}

// transportError classifies a failure to get (or finish reading) a response.
// ctx is the attempt's context, whose deadline is the per-attempt timeout.
func transportError(ctx context.Context, err error) error {
	if e := CancelledError(ctx, err); e != nil {
		return e
	}
	if e, ok := apperr.As(err); ok {
		return e // a transport of ours refused the call (a rate limit): no SeaTable failure
	}
	return apperr.Wrap(apperr.UpstreamUnavailable, "SeaTable is unreachable", fmt.Errorf("%w: %w", errUnreachable, err))
}

// CancelledError classifies err, the failure of an upstream call (or of a
// wait for one), when a context ended it: past a deadline, SeaTable did not
// answer in time (UPSTREAM_TIMEOUT); cancelled, our own caller went away
// (UPSTREAM_UNAVAILABLE). It returns nil when ctx has not ended and err is
// no deadline. It is the one place these cases get their codes and
// messages; the client and its decorators all use it.
func CancelledError(ctx context.Context, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return apperr.Wrap(apperr.UpstreamTimeout, safeMessages[apperr.UpstreamTimeout], err)
	case errors.Is(ctx.Err(), context.Canceled):
		return apperr.Wrap(apperr.UpstreamUnavailable, "request cancelled", fmt.Errorf("%w: %w", errCancelled, err))
	}
	return nil
}

// inflightBudget is the byte budget shared by all calls' response reads.
type inflightBudget struct {
	sem  *semaphore.Weighted
	used atomic.Int64 // what is reserved now, for tests and metrics
}

// limitedReader fails once more than left bytes are read, and remembers it,
// so an oversized body is told apart from a malformed one. With a budget it
// also reserves what it reads from the budget, in steps of reserveStep, and
// fails (busy) when the budget is spent.
type limitedReader struct {
	r        io.Reader
	left     int64
	exceeded bool
	budget   *inflightBudget
	read     int64 // bytes read so far
	held     int64 // bytes reserved from budget
	busy     bool
	// sizeHint is the body's announced length (-1 when unknown, as for a
	// gzipped body), so a decoder can size its buffer once.
	sizeHint int64
}

// SizeHint returns the announced body length, or -1.
func (l *limitedReader) SizeHint() int64 { return min(l.sizeHint, l.left+1) }

var errTooLarge = errors.New("response body exceeds size limit")

// reserveStep is the least reserved at a time, so that a body of unknown
// length costs a semaphore operation per 64 KiB, not per read.
const reserveStep = 64 << 10

// reserve takes n more bytes from the budget.
func (l *limitedReader) reserve(n int64) bool {
	if l.budget == nil {
		return true
	}
	if !l.budget.sem.TryAcquire(n) {
		l.busy = true
		return false
	}
	l.held += n
	l.budget.used.Add(n)
	return true
}

// release returns what the call reserved; the attempt calls it when done.
func (l *limitedReader) release() {
	if l.budget != nil && l.held > 0 {
		l.budget.sem.Release(l.held)
		l.budget.used.Add(-l.held)
		l.held = 0
	}
}

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
	l.read += int64(n)
	if l.read > l.held && !l.reserve(max(l.read-l.held, reserveStep)) {
		return 0, errBusy
	}
	return n, err
}

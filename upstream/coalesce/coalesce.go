// Package coalesce shares one upstream call between concurrent requests
// that make the same call with the same token: the first caller (the
// leader) runs it, the others wait for its result. Callers with different
// tokens never share anything; the token itself is never kept, only a keyed
// hash of it with a per-process random key.
package coalesce

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Fetcher is the upstream read being coalesced (the loaders' Fetcher).
type Fetcher interface {
	ListWorkspaces(ctx context.Context, token string, detail bool) (*upstream.WorkspaceList, error)
}

// Coalescer shares in-flight calls. The shared result is read-only (see
// upstream.WorkspaceList).
type Coalescer struct {
	next    Fetcher
	timeout time.Duration
	key     []byte
	onJoin  func()

	mu    sync.Mutex
	calls map[string]*call
	// partition adds the caller's cache preference to the key, so a request
	// that asked to bypass the cache never waits on one that reads it.
	partition func(ctx context.Context) string
}

// Option configures a Coalescer.
type Option func(*Coalescer)

// call is one shared upstream call; done is closed once list/err are set.
type call struct {
	done chan struct{}
	list *upstream.WorkspaceList
	err  error

	waiters int                // requests waiting for it; guarded by Coalescer.mu
	cancel  context.CancelFunc // ends the call once no request waits any more
}

// WithJoinHook calls f each time a request joins a call already in flight
// (for statistics, and for tests to know a follower is waiting).
func WithJoinHook(f func()) Option { return func(c *Coalescer) { c.onJoin = f } }

// WithPartition adds a per-request string to the coalescing key.
func WithPartition(f func(ctx context.Context) string) Option {
	return func(c *Coalescer) { c.partition = f }
}

// New wraps next. timeout bounds a shared call, which runs detached from
// its leader's cancellation: a leader that goes away must not fail the
// requests waiting on it. Once every waiting request has gone away, the
// call is cancelled: nobody is left to use its answer.
func New(next Fetcher, timeout time.Duration, opts ...Option) *Coalescer {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	c := &Coalescer{next: next, timeout: timeout, key: key, calls: map[string]*call{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// ListWorkspaces returns the result of an identical call in flight, or
// starts one.
func (c *Coalescer) ListWorkspaces(ctx context.Context, token string, detail bool) (*upstream.WorkspaceList, error) {
	key := c.callKey(ctx, token, detail)
	c.mu.Lock()
	cl, joined := c.calls[key]
	if !joined {
		cl = &call{done: make(chan struct{})}
		var shared context.Context
		shared, cl.cancel = context.WithCancel(context.WithoutCancel(ctx))
		c.calls[key] = cl
		go c.run(shared, key, cl, token, detail)
	}
	cl.waiters++
	c.mu.Unlock()
	if joined && c.onJoin != nil {
		c.onJoin()
	}
	select {
	case <-cl.done:
		return cl.list, cl.err
	case <-ctx.Done():
		c.mu.Lock()
		if cl.waiters--; cl.waiters == 0 {
			cl.cancel()
			if c.calls[key] == cl {
				delete(c.calls, key)
			}
		}
		c.mu.Unlock()
		return nil, cancelled(ctx)
	}
}

// run makes the shared call, bounded by the timeout.
func (c *Coalescer) run(ctx context.Context, key string, cl *call, token string, detail bool) {
	defer cl.cancel()
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	defer func() {
		c.mu.Lock()
		if c.calls[key] == cl {
			delete(c.calls, key)
		}
		c.mu.Unlock()
		close(cl.done)
	}()
	defer func() {
		// A panic must not leave followers waiting forever.
		if r := recover(); r != nil {
			cl.list, cl.err = nil, apperr.New(apperr.Internal, "upstream call panicked")
		}
	}()
	cl.list, cl.err = c.next.ListWorkspaces(ctx, token, detail)
}

// Invalidate forgets the token's calls in flight, so requests after a write
// start a fresh call instead of joining one that began before it, and
// passes the invalidation on.
func (c *Coalescer) Invalidate(ctx context.Context, token string) {
	prefix := c.tokenKey(token)
	c.mu.Lock()
	for k := range c.calls {
		if strings.HasPrefix(k, prefix) {
			delete(c.calls, k)
		}
	}
	c.mu.Unlock()
	if inv, ok := c.next.(interface {
		Invalidate(ctx context.Context, token string)
	}); ok {
		inv.Invalidate(ctx, token)
	}
}

func (c *Coalescer) tokenKey(token string) string {
	return tokenhash.Sum(c.key, token) + "|"
}

func (c *Coalescer) callKey(ctx context.Context, token string, detail bool) string {
	k := c.tokenKey(token)
	if detail {
		k += "|detail"
	}
	// A list decoded with fewer fields serves only reads that need no more.
	if f := upstream.FieldsFrom(ctx); f != upstream.AllFields {
		k += "|fields=" + strconv.FormatUint(uint64(f), 16)
	}
	if c.partition != nil {
		k += "|" + c.partition(ctx)
	}
	return k
}

// cancelled classifies a caller that stopped waiting, as the upstream
// client classifies its own cancelled calls.
func cancelled(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return apperr.Wrap(apperr.UpstreamTimeout, "SeaTable did not answer in time", ctx.Err())
	}
	return apperr.Wrap(apperr.UpstreamUnavailable, "request cancelled", ctx.Err())
}

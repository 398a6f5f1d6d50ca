// Package coalesce shares one upstream call between concurrent requests
// that make the same call with the same token: the first caller (the
// leader) runs it, the others wait for its result (see internal/flight).
// Callers with different tokens never share anything; the token itself is
// never kept, only a keyed hash of it with a per-process random key.
package coalesce

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/flight"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Coalescer shares in-flight calls. The shared result is read-only (see
// upstream.WorkspaceList).
type Coalescer struct {
	next    upstream.Lister
	timeout time.Duration
	key     []byte
	calls   flight.Group[*upstream.WorkspaceList]
	// partition adds a per-request string to the key, for callers that
	// must not share a call although they make the same read (they spend
	// different budgets).
	partition func(ctx context.Context) string
}

var (
	_ upstream.Lister      = (*Coalescer)(nil)
	_ upstream.Invalidator = (*Coalescer)(nil)
)

// Option configures a Coalescer.
type Option func(*Coalescer)

// WithPartition adds a per-request string to the coalescing key.
func WithPartition(f func(ctx context.Context) string) Option {
	return func(c *Coalescer) { c.partition = f }
}

// New wraps next. timeout bounds a shared call, which runs detached from
// its leader's cancellation: a leader that goes away must not fail the
// requests waiting on it. Once every waiting request has gone away, the
// call is cancelled: nobody is left to use its answer.
func New(next upstream.Lister, timeout time.Duration, opts ...Option) *Coalescer {
	c := &Coalescer{next: next, timeout: timeout, key: tokenhash.NewKey()}
	for _, o := range opts {
		o(c)
	}
	return c
}

// ListWorkspaces returns the result of an identical call in flight, or
// starts one.
func (c *Coalescer) ListWorkspaces(ctx context.Context, token string, r upstream.Read) (*upstream.WorkspaceList, error) {
	l, err, _ := c.calls.Do(ctx, c.callKey(ctx, token, r), func(ctx context.Context) (*upstream.WorkspaceList, error) {
		if c.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.timeout)
			defer cancel()
		}
		return c.next.ListWorkspaces(ctx, token, r)
	})
	switch {
	case errors.Is(err, flight.ErrLeft):
		return nil, upstream.CancelledError(ctx, ctx.Err())
	case errors.Is(err, flight.ErrPanicked):
		return nil, apperr.Wrap(apperr.Internal, "upstream call panicked", err)
	}
	return l, err
}

// Invalidate forgets the token's calls in flight, so requests after a write
// start a fresh call instead of joining one that began before it, and
// passes the invalidation on.
func (c *Coalescer) Invalidate(ctx context.Context, token string) {
	c.calls.Forget(c.tokenKey(token))
	if inv, ok := c.next.(upstream.Invalidator); ok {
		inv.Invalidate(ctx, token)
	}
}

func (c *Coalescer) tokenKey(token string) string {
	return tokenhash.Sum(c.key, token) + "|"
}

// callKey is the read (all of it) under the token's key: reads that differ
// in anything never share a call.
func (c *Coalescer) callKey(ctx context.Context, token string, r upstream.Read) string {
	// Assembled in one buffer (on the stack when short): a string per part
	// would allocate for each on every request. The layout is tokenKey's
	// then the parts, so Forget's prefix still matches.
	var stack [128]byte
	k := append(append(stack[:0], tokenhash.Sum(c.key, token)...), '|')
	if r.Detail {
		k = append(k, "|detail"...)
	}
	// A list decoded with fewer fields serves only reads that need no more.
	if r.Omit != 0 {
		k = strconv.AppendUint(append(k, "|omit="...), uint64(r.Omit), 16)
	}
	// A fresh read never waits on a call that a cache's answer may yet
	// serve (the cache may sit on either side of this layer).
	if r.Fresh {
		k = append(k, "|fresh"...)
	}
	if c.partition != nil {
		k = append(append(k, '|'), c.partition(ctx)...)
	}
	return string(k)
}

// Package cache keeps SeaTable answers across requests, for replicas that
// opt in (CACHE_TTL): a response cache in front of the upstream client,
// in process or shared through Redis, and the store of automatic persisted
// queries. Every entry is keyed by a keyed hash (HMAC) of the caller's token
// plus the call, never by the token itself, so one token's data can only be
// found again with the same token. Errors are never cached.
package cache

import (
	"context"
	"crypto/rand"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Upstream is the read being cached (the loaders' Fetcher).
type Upstream interface {
	ListWorkspaces(ctx context.Context, token string, detail bool) (*upstream.WorkspaceList, error)
}

// bodyUpstream also returns the raw body; the shared cache stores bodies,
// which any replica can decode.
type bodyUpstream interface {
	ListWorkspacesWithBody(ctx context.Context, token string, detail bool) (*upstream.WorkspaceList, []byte, error)
}

// Stats receives cache events; Counters is a ready implementation. It is a
// hook rather than a metrics dependency, so any metrics package can adapt it.
type Stats interface {
	Hit()
	Miss()
}

// Counters counts hits and misses.
type Counters struct{ hits, misses atomic.Int64 }

func (c *Counters) Hit()  { c.hits.Add(1) }
func (c *Counters) Miss() { c.misses.Add(1) }

// Hits returns the number of answers served from the cache.
func (c *Counters) Hits() int64 { return c.hits.Load() }

// Misses returns the number of answers fetched from upstream.
func (c *Counters) Misses() int64 { return c.misses.Load() }

// Options configure a Cache.
type Options struct {
	// TTL is how long an answer is served; it must be positive.
	TTL time.Duration
	// MaxBytes bounds the in-process entries by their estimated size; an
	// answer larger than this is never stored.
	MaxBytes int64
	// Redis, when set, is where answers live, shared by all replicas; the
	// in-process store then only saves decoding a body again.
	Redis *redis.Client
	Stats Stats
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Cache is a response cache wrapping an Upstream; it implements the
// loaders' Fetcher and Invalidator.
type Cache struct {
	next  Upstream
	ttl   time.Duration
	stats Stats
	now   func() time.Time
	local *byteLRU[*upstream.WorkspaceList]
	// processKey keys the in-process entries; the shared store uses a key
	// kept in Redis, so that replicas find each other's entries.
	processKey []byte
	shared     *redisStore
	// epoch changes on every invalidation: an answer fetched across one is
	// not stored, since it may predate the write.
	epoch atomic.Uint64
}

// New wraps next.
func New(next Upstream, o Options) *Cache {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	c := &Cache{next: next, ttl: o.TTL, stats: o.Stats, local: newByteLRU[*upstream.WorkspaceList](o.MaxBytes), processKey: key}
	if c.stats == nil {
		c.stats = &Counters{}
	}
	c.now = o.Now
	if c.now == nil {
		c.now = time.Now
	}
	if o.Redis != nil {
		c.shared = newRedisStore(o.Redis, o.MaxBytes)
	}
	return c
}

type bypassKey struct{}

// WithBypass marks a request that must not be answered from the cache (the
// client sent Cache-Control: no-cache); its fresh answer is still stored.
func WithBypass(ctx context.Context) context.Context {
	return context.WithValue(ctx, bypassKey{}, true)
}

// Bypassed reports whether ctx was marked by WithBypass.
func Bypassed(ctx context.Context) bool {
	b, _ := ctx.Value(bypassKey{}).(bool)
	return b
}

// estimatedSize is what an entry costs in memory: the decoded models take
// about twice the JSON they came from.
func estimatedSize(l *upstream.WorkspaceList) int64 { return 2*int64(l.BodyBytes) + 512 }

// ListWorkspaces serves a fresh cached answer or fetches and stores one.
// Answers are kept whole: a read that asked for fewer fields
// (upstream.WithFields) is served, and fetched, with all of them.
func (c *Cache) ListWorkspaces(ctx context.Context, token string, detail bool) (*upstream.WorkspaceList, error) {
	ctx = upstream.WithFields(ctx, upstream.AllFields)
	if c.shared != nil {
		return c.listShared(ctx, token, detail)
	}
	epoch := c.epoch.Load()
	key := c.localKey(token, detail)
	if !Bypassed(ctx) {
		if l, ok := c.local.get(key, c.now()); ok {
			c.stats.Hit()
			return l, nil
		}
	}
	c.stats.Miss()
	l, err := c.next.ListWorkspaces(ctx, token, detail)
	if err != nil {
		return nil, err
	}
	if c.epoch.Load() == epoch {
		c.local.add(key, l, estimatedSize(l), c.now().Add(c.ttl))
	}
	return l, nil
}

func (c *Cache) listShared(ctx context.Context, token string, detail bool) (*upstream.WorkspaceList, error) {
	key, ok := c.shared.entryKey(ctx, token, detail)
	if !ok {
		// Redis is unreachable: serve from upstream, never fail.
		c.stats.Miss()
		return c.next.ListWorkspaces(ctx, token, detail)
	}
	if !Bypassed(ctx) {
		if l, ok := c.local.get(key, c.now()); ok {
			c.stats.Hit()
			return l, nil
		}
		if body, ttl, ok := c.shared.get(ctx, key); ok {
			if l, err := upstream.DecodeWorkspaceListBytes(body); err == nil {
				l.Detail = detail
				c.local.add(key, l, estimatedSize(l), c.now().Add(ttl))
				c.stats.Hit()
				return l, nil
			}
		}
	}
	c.stats.Miss()
	bu, ok := c.next.(bodyUpstream)
	if !ok {
		return c.next.ListWorkspaces(ctx, token, detail)
	}
	l, body, err := bu.ListWorkspacesWithBody(ctx, token, detail)
	if err != nil {
		return nil, err
	}
	// The key carries the token's generation as read before the call, so an
	// answer that raced a write lands under a generation no one reads.
	c.shared.set(ctx, key, body, c.ttl)
	c.local.add(key, l, estimatedSize(l), c.now().Add(c.ttl))
	return l, nil
}

// Invalidate drops what is cached for token (after a write through it).
func (c *Cache) Invalidate(ctx context.Context, token string) {
	c.epoch.Add(1)
	for _, detail := range []bool{true, false} {
		c.local.remove(c.localKey(token, detail))
	}
	if c.shared != nil {
		c.shared.invalidate(ctx, token, c.ttl)
	}
}

func (c *Cache) localKey(token string, detail bool) string {
	return tokenHash(c.processKey, token) + callSuffix(detail)
}

func tokenHash(key []byte, token string) string { return tokenhash.Sum(key, token) }

func callSuffix(detail bool) string {
	if detail {
		return ":workspaces:detail"
	}
	return ":workspaces:summary"
}

// Package cache keeps SeaTable answers across requests, for replicas that
// opt in (CACHE_TTL): a response cache in front of the upstream client,
// in process or shared through Redis. Every entry is keyed by a keyed hash (HMAC) of the caller's token
// plus the call, never by the token itself, so one token's data can only be
// found again with the same token. Errors are never cached.
package cache

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/internal/lru"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Stats receives cache events. It is a hook rather than a metrics
// dependency, so any metrics package can adapt it.
type Stats interface {
	Hit()
	Miss()
}

// unobserved is the Stats of a cache nobody observes.
type unobserved struct{}

func (unobserved) Hit()  {}
func (unobserved) Miss() {}

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
	// Stats, when set, learns about every hit and miss.
	Stats Stats
}

// Cache is a response cache wrapping an upstream.Lister; it is one too, and
// an upstream.Invalidator.
type Cache struct {
	next  upstream.Lister
	ttl   time.Duration
	stats Stats
	now   func() time.Time // the clock; tests set their own
	local *lru.Cache[*upstream.WorkspaceList]
	// processKey keys the in-process entries; the shared store uses a key
	// kept in Redis, so that replicas find each other's entries.
	processKey []byte
	shared     *redisStore
	// epoch changes on every invalidation: an answer fetched across one is
	// not stored, since it may predate the write.
	epoch atomic.Uint64
}

var (
	_ upstream.Lister      = (*Cache)(nil)
	_ upstream.Invalidator = (*Cache)(nil)
)

// New wraps next.
func New(next upstream.Lister, o Options) *Cache {
	c := &Cache{next: next, ttl: o.TTL, stats: o.Stats, now: time.Now, local: lru.New[*upstream.WorkspaceList](o.MaxBytes, 0), processKey: tokenhash.NewKey()}
	if c.stats == nil {
		c.stats = unobserved{}
	}
	if o.Redis != nil {
		c.shared = newRedisStore(o.Redis, o.MaxBytes)
	}
	return c
}

// estimatedSize is what an entry costs in memory: the decoded models take
// about twice the JSON they came from.
func estimatedSize(l *upstream.WorkspaceList) int64 { return 2*int64(l.BodyBytes) + 512 }

// ListWorkspaces serves a fresh cached answer or fetches and stores one;
// a Fresh read is never served from the cache, but its answer is stored.
// Answers are kept whole: a read that can do without some fields (Omit)
// is served, and fetched, with all of them.
func (c *Cache) ListWorkspaces(ctx context.Context, token string, r upstream.Read) (*upstream.WorkspaceList, error) {
	r.Omit = 0
	if c.shared != nil {
		return c.listShared(ctx, token, r)
	}
	epoch := c.epoch.Load()
	key := c.localKey(token, r.Detail)
	if !r.Fresh {
		if l, ok := c.local.Get(key, c.now()); ok {
			c.stats.Hit()
			return l, nil
		}
	}
	c.stats.Miss()
	l, err := c.next.ListWorkspaces(ctx, token, r)
	if err != nil {
		return nil, err
	}
	if c.epoch.Load() == epoch {
		c.local.Add(key, l, estimatedSize(l), c.now().Add(c.ttl))
	}
	return l, nil
}

func (c *Cache) listShared(ctx context.Context, token string, r upstream.Read) (*upstream.WorkspaceList, error) {
	key, ok := c.shared.entryKey(ctx, token, r.Detail)
	if !ok {
		// Redis is unreachable: serve from upstream, never fail.
		c.stats.Miss()
		return c.next.ListWorkspaces(ctx, token, r)
	}
	if !r.Fresh {
		if l, ok := c.local.Get(key, c.now()); ok {
			c.stats.Hit()
			return l, nil
		}
		if body, ttl, ok := c.shared.get(ctx, key); ok {
			if l, err := upstream.DecodeWorkspaceListBytes(body); err == nil {
				l.Detail = r.Detail
				l.Body = body
				c.local.Add(key, l, estimatedSize(l), c.now().Add(ttl))
				c.stats.Hit()
				return l, nil
			}
		}
	}
	c.stats.Miss()
	l, err := c.next.ListWorkspaces(ctx, token, r)
	if err != nil {
		return nil, err
	}
	// The key carries the token's generation as read before the call, so an
	// answer that raced a write lands under a generation no one reads. A
	// list that came with no body (a layer below made it) is kept here only.
	if l.Body != nil {
		c.shared.set(ctx, key, l.Body, c.ttl)
	}
	c.local.Add(key, l, estimatedSize(l), c.now().Add(c.ttl))
	return l, nil
}

// Invalidate drops what is cached for token (after a write through it) and
// passes the invalidation on, so that a layer below that keeps or shares
// answers (coalescing, when it sits inside the cache) forgets them too.
func (c *Cache) Invalidate(ctx context.Context, token string) {
	c.epoch.Add(1)
	for _, detail := range []bool{true, false} {
		c.local.Remove(c.localKey(token, detail))
	}
	if c.shared != nil {
		c.shared.invalidate(ctx, token, c.ttl)
	}
	if inv, ok := c.next.(upstream.Invalidator); ok {
		inv.Invalidate(ctx, token)
	}
}

func (c *Cache) localKey(token string, detail bool) string {
	return tokenhash.Sum(c.processKey, token) + callSuffix(detail)
}

func callSuffix(detail bool) string {
	if detail {
		return ":workspaces:detail"
	}
	return ":workspaces:summary"
}

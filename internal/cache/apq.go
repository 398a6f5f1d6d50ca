package cache

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/redis/go-redis/v9"
)

// apqTTL is how long Redis keeps a persisted query no one uses.
const apqTTL = 24 * time.Hour

// PersistedQueries is the store of gqlgen's automatic persisted queries: an
// in-process LRU, in front of Redis when one is given so that a query
// persisted through one replica is known to all. A query is immutable under
// its hash, so the in-process copy can never be stale. Redis failures count
// as misses: the client then sends the full query, as the protocol expects.
type PersistedQueries struct {
	local *lru.LRU[string]
	redis *redisGuard
}

var _ graphql.Cache[string] = (*PersistedQueries)(nil)

// NewPersistedQueries keeps up to size queries in process; rc may be nil.
func NewPersistedQueries(size int, rc *redis.Client) *PersistedQueries {
	p := &PersistedQueries{local: lru.New[string](size)}
	if rc != nil {
		p.redis = &redisGuard{client: rc}
	}
	return p
}

// Get implements graphql.Cache.
func (p *PersistedQueries) Get(ctx context.Context, hash string) (string, bool) {
	if q, ok := p.local.Get(ctx, hash); ok {
		return q, true
	}
	if p.redis == nil || !p.redis.available() {
		return "", false
	}
	rctx, cancel := p.redis.ctx(ctx)
	defer cancel()
	q, err := p.redis.client.GetEx(rctx, prefix+"apq:"+hash, apqTTL).Result()
	if p.redis.failed(err) || err != nil {
		return "", false
	}
	p.local.Add(ctx, hash, q)
	return q, true
}

// Add implements graphql.Cache.
func (p *PersistedQueries) Add(ctx context.Context, hash, query string) {
	p.local.Add(ctx, hash, query)
	if p.redis == nil || !p.redis.available() {
		return
	}
	rctx, cancel := p.redis.ctx(ctx)
	defer cancel()
	p.redis.failed(p.redis.client.Set(rctx, prefix+"apq:"+hash, query, apqTTL).Err())
}

package cache

import (
	"context"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
)

// apqTTL is how long Redis keeps a persisted query. Reads do not extend it:
// the Redis budget below assumes nothing outlives the window it was written
// in, and a client whose query expired simply sends it again.
const apqTTL = time.Hour

// apqEntryOverhead is what an in-process entry costs beyond its text (list
// element, map slot, key).
const apqEntryOverhead = 256

// APQOptions bound the store of persisted queries.
type APQOptions struct {
	// MaxEntries and MaxBytes bound the in-process copy (MaxEntries 0: only
	// bytes bound it).
	MaxEntries int
	MaxBytes   int64
	// MaxQueryBytes is the longest query stored; longer ones are not
	// persisted (0: no bound besides MaxBytes).
	MaxQueryBytes int
	// Redis, when set, shares queries between replicas. At most MaxBytes of
	// query text is written there per apqTTL window, so what Redis holds
	// for APQ stays under twice MaxBytes whatever clients send.
	Redis *redis.Client
}

// PersistedQueries is the store of automatic persisted queries: an
// in-process LRU bounded by bytes, in front of Redis when one is given so
// that a query persisted through one replica is known to all. A query is
// immutable under its hash, so the in-process copy can never be stale.
// Redis failures count as misses: the client then sends the full query, as
// the protocol expects. Only queries that parsed and validated should be
// added (graph.persistedQueries sees to it).
type PersistedQueries struct {
	local    *byteLRU[string]
	maxQuery int
	budget   int64
	redis    *redisGuard
	now      func() time.Time
}

var _ graphql.Cache[string] = (*PersistedQueries)(nil)

// NewPersistedQueries returns a store bounded as o says.
func NewPersistedQueries(o APQOptions) *PersistedQueries {
	local := newByteLRU[string](o.MaxBytes)
	local.maxItems = o.MaxEntries
	p := &PersistedQueries{local: local, maxQuery: o.MaxQueryBytes, budget: o.MaxBytes, now: time.Now}
	if o.Redis != nil {
		p.redis = &redisGuard{client: o.Redis}
	}
	return p
}

// Get implements graphql.Cache.
func (p *PersistedQueries) Get(ctx context.Context, hash string) (string, bool) {
	if q, ok := p.local.get(hash, time.Time{}); ok {
		return q, true
	}
	if p.redis == nil || !p.redis.available() {
		return "", false
	}
	rctx, cancel := p.redis.ctx(ctx)
	defer cancel()
	q, err := p.redis.client.Get(rctx, prefix+"apq:"+hash).Result()
	if p.redis.failed(err) || err != nil {
		return "", false
	}
	p.add(hash, q)
	return q, true
}

// Add implements graphql.Cache.
func (p *PersistedQueries) Add(ctx context.Context, hash, query string) {
	if p.maxQuery > 0 && len(query) > p.maxQuery {
		return
	}
	if _, ok := p.local.get(hash, time.Time{}); ok {
		return // already known here, and so already written to Redis
	}
	p.add(hash, query)
	if p.redis == nil || !p.redis.available() {
		return
	}
	rctx, cancel := p.redis.ctx(ctx)
	defer cancel()
	// Charge the text to this window's budget first; over budget, the query
	// stays in process only (another replica answers
	// PERSISTED_QUERY_NOT_FOUND and the client sends the text again). A
	// window's counter lives two windows, as long as what it paid for.
	window := p.now().Unix() / int64(apqTTL/time.Second)
	budgetKey := prefix + "apq-bytes:" + strconv.FormatInt(window, 10)
	var spent *redis.IntCmd
	_, err := p.redis.client.Pipelined(rctx, func(pl redis.Pipeliner) error {
		spent = pl.IncrBy(rctx, budgetKey, int64(len(query)))
		pl.Expire(rctx, budgetKey, 2*apqTTL)
		return nil
	})
	if p.redis.failed(err) || err != nil || spent.Val() > p.budget {
		return
	}
	p.redis.failed(p.redis.client.Set(rctx, prefix+"apq:"+hash, query, apqTTL).Err())
}

func (p *PersistedQueries) add(hash, query string) {
	p.local.add(hash, query, int64(len(hash)+len(query))+apqEntryOverhead, time.Time{})
}

// bytes returns the estimated size of the in-process copy.
func (p *PersistedQueries) bytes() int64 { return p.local.bytes() }

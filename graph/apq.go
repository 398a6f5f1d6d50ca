package graph

import (
	"context"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/redis/go-redis/v9"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seatable-graphql/seatable-graphql/graph/trusted"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/lru"
	"github.com/seatable-graphql/seatable-graphql/internal/ratelimit"
	"github.com/seatable-graphql/seatable-graphql/internal/redisguard"
)

// persistedQueries is gqlgen's APQ extension with two changes.
//
// It persists a query only once the document has parsed and validated and
// its variables have been coerced: gqlgen's extension stores the text as
// soon as its hash matches, before parsing or authentication, so anyone
// could fill the store with junk. gqlgen's extension is given a cache whose
// Add does nothing; MutateOperationContext, which gqlgen calls only for
// operations that passed every check, stores the text.
//
// And it sets a code on the one error gqlgen returns without one: a hash
// that does not match the query sent with it is the client's mistake
// (BAD_USER_INPUT), not an INTERNAL error. PERSISTED_QUERY_NOT_FOUND, which
// clients rely on to resend the query, passes through unchanged.
type persistedQueries struct {
	apq   extension.AutomaticPersistedQuery
	store graphql.Cache[string]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = persistedQueries{}

func newPersistedQueries(store graphql.Cache[string]) persistedQueries {
	return persistedQueries{apq: extension.AutomaticPersistedQuery{Cache: readOnly{store}}, store: store}
}

func (p persistedQueries) ExtensionName() string { return p.apq.ExtensionName() }

func (p persistedQueries) Validate(s graphql.ExecutableSchema) error { return p.apq.Validate(s) }

func (p persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if h := apqHash(raw); h != "" {
		// GraphQL Code Generator's client-preset 6 sends "sha256:<hex>";
		// gqlgen compares bare hex.
		setAPQHash(raw, trusted.NormalizeHash(h))
	}
	err := p.apq.MutateOperationParameters(ctx, raw)
	if err != nil && err.Extensions[apperr.ExtCode] == nil {
		errcode.Set(err, string(apperr.Rejected.Code()))
	}
	return err
}

// MutateOperationContext persists a query sent with its hash, now that it
// is known to be a valid operation.
func (p persistedQueries) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if s := extension.GetApqStats(ctx); s != nil && s.SentQuery {
		p.store.Add(ctx, s.Hash, oc.RawQuery)
	}
	return nil
}

// apqHash is the sha256Hash of an APQ request, "" for none.
func apqHash(raw *graphql.RawParams) string {
	pq, _ := raw.Extensions["persistedQuery"].(map[string]any)
	h, _ := pq["sha256Hash"].(string)
	return h
}

// setAPQHash replaces an APQ request's sha256Hash. The maps are copied:
// they are the request's, and a batch's elements must not share edits.
func setAPQHash(raw *graphql.RawParams, h string) {
	pq, _ := raw.Extensions["persistedQuery"].(map[string]any)
	if pq == nil || pq["sha256Hash"] == h {
		return
	}
	ext := make(map[string]any, len(raw.Extensions))
	for k, v := range raw.Extensions {
		ext[k] = v
	}
	npq := make(map[string]any, len(pq))
	for k, v := range pq {
		npq[k] = v
	}
	npq["sha256Hash"] = h
	ext["persistedQuery"] = npq
	raw.Extensions = ext
}

// dropAPQ removes an APQ request's persistedQuery extension (copying the
// map, as setAPQHash does).
func dropAPQ(raw *graphql.RawParams) {
	if _, ok := raw.Extensions["persistedQuery"]; !ok {
		return
	}
	ext := make(map[string]any, len(raw.Extensions))
	for k, v := range raw.Extensions {
		if k != "persistedQuery" {
			ext[k] = v
		}
	}
	raw.Extensions = ext
}

// readOnly is the store as gqlgen's extension sees it: lookups only.
type readOnly struct{ graphql.Cache[string] }

func (readOnly) Add(context.Context, string, string) {}

// apqTTL is how long Redis keeps a persisted query. Reads do not extend it:
// the Redis budget below assumes nothing outlives the window it was written
// in, and a client whose query expired simply sends it again.
const apqTTL = time.Hour

// The store's keys in Redis: a query under its hash, and what this window
// wrote (see Add).
const (
	apqPrefix      = redisguard.Prefix + "apq:"
	apqBytesPrefix = redisguard.Prefix + "apq-bytes:"
)

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

// APQStore is the store of automatic persisted queries: an
// in-process LRU bounded by bytes, in front of Redis when one is given so
// that a query persisted through one replica is known to all. A query is
// immutable under its hash, so the in-process copy can never be stale.
// Redis failures count as misses: the client then sends the full query, as
// the protocol expects. Only queries that parsed and validated should be
// added (the persistedQueries extension above sees to it).
type APQStore struct {
	local    *lru.Cache[string]
	maxQuery int
	budget   int64
	redis    *redisguard.Guard
	now      func() time.Time
}

var _ graphql.Cache[string] = (*APQStore)(nil)

// NewAPQStore returns a store bounded as o says.
func NewAPQStore(o APQOptions) *APQStore {
	p := &APQStore{local: lru.New[string](o.MaxBytes, o.MaxEntries), maxQuery: o.MaxQueryBytes, budget: o.MaxBytes, now: time.Now}
	if o.Redis != nil {
		p.redis = redisguard.New(o.Redis)
	}
	return p
}

// Get implements graphql.Cache.
func (p *APQStore) Get(ctx context.Context, hash string) (string, bool) {
	if q, ok := p.local.Get(hash, time.Time{}); ok {
		return q, true
	}
	if p.redis == nil || !p.redis.Available() {
		return "", false
	}
	rctx, cancel := p.redis.Context(ctx)
	defer cancel()
	q, err := p.redis.Client.Get(rctx, apqPrefix+hash).Result()
	if p.redis.Failed(err) || err != nil {
		return "", false
	}
	p.add(hash, q)
	return q, true
}

// Add implements graphql.Cache.
func (p *APQStore) Add(ctx context.Context, hash, query string) {
	if p.maxQuery > 0 && len(query) > p.maxQuery {
		return
	}
	if _, ok := p.local.Get(hash, time.Time{}); ok {
		return // already known here, and so already written to Redis
	}
	p.add(hash, query)
	if p.redis == nil || !p.redis.Available() {
		return
	}
	rctx, cancel := p.redis.Context(ctx)
	defer cancel()
	// Charge the text to this window's budget first; over budget, the query
	// stays in process only (another replica answers
	// PERSISTED_QUERY_NOT_FOUND and the client sends the text again). A
	// window's counter lives two windows, as long as what it paid for.
	// The client's own share is charged before the shared budget, so one
	// client (a token, else an address, anonymous ones included) cannot
	// spend what the others are owed.
	window := strconv.FormatInt(p.now().Unix()/int64(apqTTL/time.Second), 10)
	if client := ratelimit.Client(ctx); client != "" {
		if !p.charge(rctx, apqBytesPrefix+window+":"+client, len(query), p.clientShare()) {
			return
		}
	}
	if !p.charge(rctx, apqBytesPrefix+window, len(query), p.budget) {
		return
	}
	p.redis.Failed(p.redis.Client.Set(rctx, apqPrefix+hash, query, apqTTL).Err())
}

// apqClientShares is how many clients' shares the hourly Redis budget
// holds: a client may write at most that fraction of it.
const apqClientShares = 16

// clientShare is what one client may write to Redis per window: its
// fraction of the budget, and never less than the longest query stored.
func (p *APQStore) clientShare() int64 {
	return max(p.budget/apqClientShares, int64(p.maxQuery))
}

// charge adds n bytes to the counter at key (kept two windows) and
// reports whether the total stays within limit; a Redis failure is a no.
func (p *APQStore) charge(ctx context.Context, key string, n int, limit int64) bool {
	var spent *redis.IntCmd
	_, err := p.redis.Client.Pipelined(ctx, func(pl redis.Pipeliner) error {
		spent = pl.IncrBy(ctx, key, int64(n))
		pl.Expire(ctx, key, 2*apqTTL)
		return nil
	})
	return !p.redis.Failed(err) && err == nil && spent.Val() <= limit
}

func (p *APQStore) add(hash, query string) {
	p.local.Add(hash, query, apqEntrySize(hash, query), time.Time{})
}

// apqEntrySize is what an in-process entry is counted as.
func apqEntrySize(hash, query string) int64 { return int64(len(hash)+len(query)) + apqEntryOverhead }

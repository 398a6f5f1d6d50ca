package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/graph"
	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream/cache"
	"github.com/seatable-graphql/seatable-graphql/upstream/coalesce"
	"github.com/seatable-graphql/seatable-graphql/internal/metrics"
	"github.com/seatable-graphql/seatable-graphql/graph/replay"
)

// perfOptions are the settings that trade memory or shared state for
// fewer upstream calls (see docs/performance.md), with the Redis
// client they use. The handler takes them in four places: newFetcher (what
// the loaders read through), configureGraph (GraphQL options), replay
// (around the GraphQL handler, inside the loaders) and cacheControl (around
// the loaders).
type perfOptions struct {
	Coalesce        bool
	ShareQueries    bool // run identical concurrent queries of one caller once
	FastPath        bool // answer list queries without gqlgen's generic executor
	UpstreamTimeout time.Duration
	CacheTTL        time.Duration // 0: no response cache
	CacheMaxBytes   int64
	APQCacheSize    int           // 0: no persisted queries
	MaxQueryBytes   int           // the longest query persisted
	Redis           *redis.Client // nil: everything in process
	CacheStats      cache.Stats   // nil: not observed
}

// defaultPerfOptions are the settings of a default configuration.
func defaultPerfOptions() perfOptions { return newPerfOptions(defaultConfig()) }

// newPerfOptions takes the settings from the configuration, without Redis.
func newPerfOptions(cfg config) perfOptions {
	return perfOptions{
		Coalesce:        cfg.Coalesce,
		ShareQueries:    cfg.ShareQueries,
		FastPath:        cfg.FastPath,
		UpstreamTimeout: cfg.UpstreamTimeout,
		CacheTTL:        cfg.CacheTTL,
		CacheMaxBytes:   cfg.CacheMaxBytes,
		APQCacheSize:    cfg.APQCacheSize,
		MaxQueryBytes:   cfg.MaxQueryBytes,
	}
}

// perfOptionsFrom turns the configuration into perfOptions, connecting to
// Redis (lazily) when REDIS_URL is set; close releases that connection.
func perfOptionsFrom(cfg config) (p perfOptions, close func(), err error) {
	p, close = newPerfOptions(cfg), func() {}
	if cfg.RedisURL != "" {
		rc, err := newRedisClient(cfg.RedisURL)
		if err != nil {
			return p, close, err
		}
		p.Redis, close = rc, func() { _ = rc.Close() }
	}
	return p, close, nil
}

func (p perfOptions) log(log *slog.Logger) {
	log.Info("performance settings", "coalesce", p.Coalesce, "share_queries", p.ShareQueries, "fast_path", p.FastPath, "cache_ttl", p.CacheTTL,
		"cache_max_bytes", p.CacheMaxBytes, "redis", p.Redis != nil, "apq_cache_size", p.APQCacheSize)
}

// newFetcher stacks what the loaders read through: coalescing, then the
// response cache, then the client. The cache sits inside coalescing so a
// burst of identical requests makes one cache lookup and one store.
func newFetcher(client loaders.Fetcher, p perfOptions) loaders.Fetcher {
	fetcher := client
	if p.CacheTTL > 0 {
		answers, _ := cacheShares(p.CacheMaxBytes)
		fetcher = cache.New(fetcher, cache.Options{TTL: p.CacheTTL, MaxBytes: answers,
			Redis: p.Redis, Stats: p.CacheStats})
	}
	if p.Coalesce {
		fetcher = coalesce.New(fetcher, p.UpstreamTimeout, coalesce.WithPartition(cachePartition))
	}
	return fetcher
}

// configureGraph sets the GraphQL options these settings need: shared
// execution, the fast path, replay reports, persisted queries.
func (p perfOptions) configureGraph(o *graph.ServerOptions) {
	o.ShareIdenticalQueries = p.ShareQueries
	o.FastPath = p.FastPath
	o.SharePartition = cachePartition
	o.ReportReplayable = p.CacheTTL > 0
	o.PersistedQueries = nil
	if p.APQCacheSize > 0 {
		o.PersistedQueries = cache.NewPersistedQueries(cache.APQOptions{MaxEntries: p.APQCacheSize,
			MaxBytes: graph.DefaultAPQBytes, MaxQueryBytes: p.MaxQueryBytes, Redis: p.Redis})
	}
}

// replay wraps the GraphQL handler (inside loaders.Middleware) so that, with
// the cache on, responses of list-only queries are replayed while their
// upstream answer is current (internal/replay).
//
// observe is told about each replay, as gqlgen's observers are about each
// response it makes.
func (p perfOptions) replay(gql http.Handler, observe graph.Observer) http.Handler {
	if p.CacheTTL <= 0 {
		return gql
	}
	_, replays := cacheShares(p.CacheMaxBytes)
	store := replay.New(replays, p.CacheTTL, cachePartition)
	store.OnReplay = func(ctx context.Context, operation string, d time.Duration) {
		observe(ctx, graph.Operation{Name: operation, Type: "query", Duration: d})
	}
	return store.Middleware(gql)
}

// cacheShares splits CACHE_MAX_BYTES between the two in-process stores of
// the cache, decoded answers and replayable responses, so that together
// they stay within it (each used to get the whole setting).
func cacheShares(total int64) (answers, replays int64) {
	return total / 2, total - total/2
}

// routeRedisLogs sends go-redis's own log lines (dial and pool failures)
// through slog, at warn, instead of its default logger on stderr. go-redis
// keeps its logger in a package variable, so this is global: main calls it
// once, before any client exists.
func routeRedisLogs(log *slog.Logger) { redis.SetLogger(redisLogger{log}) }

type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// cachePartition keeps requests that bypass the cache from sharing work
// with requests that read it.
func cachePartition(ctx context.Context) string {
	if cache.Bypassed(ctx) {
		return "fresh"
	}
	return ""
}

// cacheControl honours a client's Cache-Control: no-cache (or Pragma:
// no-cache) by having the request skip the response cache, for requests
// with their own token only: one served with SEATABLE_TOKEN would spend
// that shared account's SeaTable rate limit on every anonymous caller's
// whim. It goes around loaders.Middleware.
func cacheControl(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		own, err := auth.Token(r.Header)
		if err == nil && own != "" && (hasToken(r.Header.Values("Cache-Control"), "no-cache") || hasToken(r.Header.Values("Pragma"), "no-cache")) {
			r = r.WithContext(cache.WithBypass(r.Context()))
		}
		next.ServeHTTP(w, r)
	})
}

// hasToken reports whether a comma-separated header lists tok.
func hasToken(values []string, tok string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), tok) {
				return true
			}
		}
	}
	return false
}

// newRedisClient connects lazily with short timeouts: Redis holds only
// what can be fetched again, so a slow or absent Redis must cost requests
// milliseconds, never fail them.
func newRedisClient(url string) (*redis.Client, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("REDIS_URL: cannot parse")
	}
	o.DialTimeout = 250 * time.Millisecond
	o.ReadTimeout = 250 * time.Millisecond
	o.WriteTimeout = 250 * time.Millisecond
	o.PoolTimeout = 250 * time.Millisecond
	o.MaxRetries = 1
	o.DisableIdentity = true
	return redis.NewClient(o), nil
}

// cacheMetrics counts response cache hits and misses in the metrics.
type cacheMetrics struct{ m *metrics.Metrics }

func (c cacheMetrics) Hit()  { c.m.CacheHit() }
func (c cacheMetrics) Miss() { c.m.CacheMiss() }

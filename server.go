// Command seatable-graphql serves a GraphQL API over SeaTable's REST API for
// workspaces and bases. Reading order: this file (config, wiring, HTTP) ->
// graph (schema, resolvers, errors) -> graph/loaders (per-request
// dataloaders) -> upstream (SeaTable client, models, fake server).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/graph"
	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/internal/cache"
	"github.com/seatable-graphql/seatable-graphql/internal/coalesce"
	"github.com/seatable-graphql/seatable-graphql/internal/resultcache"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// demoToken is sent to the embedded demo upstream when a request has no
// token; the demo accepts any token.
const demoToken = "demo"

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, log); err != nil {
		log.Error("exiting", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx is cancelled, then drains requests in flight.
func run(ctx context.Context, getenv func(string) string, log *slog.Logger) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	seatableURL, fallbackToken := cfg.SeaTableURL, cfg.Token
	if seatableURL == "" {
		demo, closeDemo, err := startDemoUpstream()
		if err != nil {
			return err
		}
		// Closed after the drain below: requests in flight still need it.
		defer closeDemo()
		seatableURL = demo
		if fallbackToken == "" {
			fallbackToken = demoToken
		}
	}
	client, err := upstream.New(seatableURL,
		upstream.WithTimeout(cfg.UpstreamTimeout),
		upstream.WithHTTPClient(&http.Client{Transport: newTransport()}))
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.Port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	perf := perfOptions{
		Coalesce:        cfg.Coalesce,
		ShareQueries:    cfg.ShareQueries,
		UpstreamTimeout: cfg.UpstreamTimeout,
		CacheTTL:        cfg.CacheTTL,
		CacheMaxBytes:   cfg.CacheMaxBytes,
		APQCacheSize:    cfg.APQCacheSize,
	}
	if cfg.RedisURL != "" {
		rc, err := newRedisClient(cfg.RedisURL)
		if err != nil {
			return err
		}
		defer rc.Close()
		perf.Redis = rc
	}
	srv := &http.Server{
		Handler:           buildHandler(client, fallbackToken, log, perf),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.UpstreamTimeout + 30*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	playgroundURL := fmt.Sprintf("http://localhost:%d/", ln.Addr().(*net.TCPAddr).Port)
	if cfg.SeaTableURL == "" {
		log.Info("demo mode: serving an embedded fake SeaTable with sample data (set SEATABLE_URL for a real server); open the playground", "playground", playgroundURL)
	} else {
		log.Info("serving", "playground", playgroundURL, "seatable", client.BaseURL())
	}
	log.Info("performance settings", "coalesce", perf.Coalesce, "share_queries", perf.ShareQueries, "cache_ttl", perf.CacheTTL,
		"cache_max_bytes", perf.CacheMaxBytes, "redis", perf.Redis != nil, "apq_cache_size", perf.APQCacheSize)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests in flight", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// newHandler wires the HTTP routes with the default performance settings
// (coalescing on, no response cache, in-process APQ).
func newHandler(client *upstream.Client, fallbackToken string, log *slog.Logger) http.Handler {
	return buildHandler(client, fallbackToken, log, defaultPerfOptions())
}

// perfOptions are the settings that trade memory or shared state for
// fewer upstream calls (see README, Performance and scaling).
type perfOptions struct {
	Coalesce        bool
	ShareQueries    bool // run identical concurrent queries of one caller once
	UpstreamTimeout time.Duration
	CacheTTL        time.Duration // 0: no response cache
	CacheMaxBytes   int64
	APQCacheSize    int           // 0: no persisted queries
	Redis           *redis.Client // nil: everything in process
	CacheStats      cache.Stats   // nil: not observed
}

func defaultPerfOptions() perfOptions {
	return perfOptions{Coalesce: true, ShareQueries: true, UpstreamTimeout: upstream.DefaultTimeout,
		CacheMaxBytes: defaultCacheMaxBytes, APQCacheSize: defaultAPQCacheSize}
}

// buildHandler wires the HTTP routes. Reads go loaders -> coalescing ->
// response cache -> SeaTable client: the cache sits inside coalescing so a
// burst of identical requests makes one cache lookup and one store.
func buildHandler(client *upstream.Client, fallbackToken string, log *slog.Logger, perf perfOptions) http.Handler {
	fetcher := newFetcher(client, perf)
	opts := graph.DefaultServerOptions(log)
	opts.ShareIdenticalQueries = perf.ShareQueries
	opts.SharePartition = cachePartition
	opts.ReportReplayable = perf.CacheTTL > 0
	opts.PersistedQueries = nil
	if perf.APQCacheSize > 0 {
		opts.PersistedQueries = cache.NewPersistedQueries(perf.APQCacheSize, perf.Redis)
	}
	gql := graph.NewServer(opts)
	mux := http.NewServeMux()
	var api http.Handler = gql
	if perf.CacheTTL > 0 {
		api = resultcache.New(perf.CacheMaxBytes, perf.CacheTTL, cachePartition).Middleware(api)
	}
	mux.Handle("/graphql", cacheControl(loaders.Middleware(fetcher, fallbackToken)(api)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /{$}", playground.Handler("seatable-graphql", "/graphql"))
	return mux
}

// newFetcher stacks what the loaders read through: coalescing, then the
// response cache, then the client.
func newFetcher(client loaders.Fetcher, perf perfOptions) loaders.Fetcher {
	fetcher := client
	if perf.CacheTTL > 0 {
		fetcher = cache.New(fetcher, cache.Options{TTL: perf.CacheTTL, MaxBytes: perf.CacheMaxBytes,
			Redis: perf.Redis, Stats: perf.CacheStats})
	}
	if perf.Coalesce {
		fetcher = coalesce.New(fetcher, perf.UpstreamTimeout, coalesce.WithPartition(cachePartition))
	}
	return fetcher
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
// no-cache) by having the request skip the response cache.
func cacheControl(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hasToken(r.Header.Values("Cache-Control"), "no-cache") || hasToken(r.Header.Values("Pragma"), "no-cache") {
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

// newTransport is the upstream connection pool: keep-alive connections sized
// for a busy facade talking to one host.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// startDemoUpstream runs the fake SeaTable with the demo dataset on a
// loopback port and returns its URL and a function that stops it.
func startDemoUpstream() (string, func(), error) {
	fake := fakeseatable.New()
	fake.AcceptAnyToken(fakeseatable.Fixture(fakeseatable.Demo))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("demo upstream: %w", err)
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

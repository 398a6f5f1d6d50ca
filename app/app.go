// Package app assembles the server: New builds the whole HTTP handler from
// one Config (pipeline.go lists its steps in the order a request meets
// them), and Run serves it until its context ends, then drains. The command
// in the repository root only reads flags and the environment and calls
// Run; the end-to-end tests in this package build the same App.
//
// Layers, and what each may import: app (this package) -> graph (GraphQL:
// schema, executor, loaders, replay, subscriptions) -> upstream (SeaTable
// client and its decorators); internal/ holds the parts every layer shares
// (errors, the caller's identity, HTTP rules, observability).
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/netutil"

	"github.com/seatable-graphql/seatable-graphql/app/internal/metrics"
	"github.com/seatable-graphql/seatable-graphql/app/internal/playground"
	"github.com/seatable-graphql/seatable-graphql/app/internal/readiness"
	"github.com/seatable-graphql/seatable-graphql/app/internal/tracing"
	"github.com/seatable-graphql/seatable-graphql/internal/ratelimit"
	"github.com/seatable-graphql/seatable-graphql/internal/requestlog"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Options are what New takes besides the configuration.
type Options struct {
	Log *slog.Logger // nil: logs are discarded
	// Tracer, when set, is used instead of the OTLP exporter that
	// cfg.OTLPEndpoint would start (and the App would own).
	Tracer trace.TracerProvider
}

// seams are the parts the end-to-end tests replace; production uses none.
type seams struct {
	liveClock func(time.Duration) <-chan time.Time // the pollers' clock; nil: time.After
	// liveKeepAlive is the streams' ping interval; zero: graph.DefaultKeepAlive.
	liveKeepAlive time.Duration
	ready         func(ping func(context.Context) error) *readiness.Probe
	wrapFetcher   func(upstream.Lister) upstream.Lister // around what the loaders read through
}

// App is one assembled server: its handler and what must be stopped with it.
type App struct {
	// Handler serves every route of the public port.
	Handler http.Handler

	cfg     Config
	log     *slog.Logger
	metrics *metrics.Metrics
	client  *upstream.Client
	bases   *upstream.BaseClient // reads inside bases; keeps base tokens per caller and base
	live    *liveServer
	redis   *redis.Client // nil without REDIS_URL
	closers []func(context.Context)
	// draining is set once the server is stopping: /readyz then fails, so
	// load balancers take this replica out before its listener closes.
	draining atomic.Bool
}

// New builds the server for cfg. cfg.SeaTableURL must be set (the command
// starts the demo upstream when it is not). Close releases what New opened.
func New(ctx context.Context, cfg Config, o Options) (*App, error) {
	return build(ctx, cfg, o, seams{})
}

func build(ctx context.Context, cfg Config, o Options, s seams) (a *App, err error) {
	if cfg.SeaTableURL == "" {
		return nil, errors.New("app: no SeaTable URL (SEATABLE_URL)")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a = &App{cfg: cfg, log: log, metrics: metrics.New()}
	defer func() {
		if err != nil {
			a.Close(context.Background())
		}
	}()
	tracer := o.Tracer // nil: tracing off, no tracing layers at all
	if tracer == nil && cfg.OTLPEndpoint != "" {
		tp, err := tracing.NewOTLPProvider(ctx, "seatable-graphql")
		if err != nil {
			return nil, err
		}
		// Last to close: the last requests' spans are sent.
		a.closers = append(a.closers, func(ctx context.Context) {
			if err := tp.Shutdown(ctx); err != nil {
				log.Warn("flushing traces", "err", err)
			}
		})
		tracer = tp
		log.Info("tracing: exporting spans over OTLP/HTTP", "endpoint", cfg.OTLPEndpoint)
	}
	if cfg.RedisURL != "" {
		rc, err := newRedisClient(cfg.RedisURL)
		if err != nil {
			return nil, err
		}
		a.redis = rc
		a.closers = append(a.closers, func(context.Context) { _ = rc.Close() })
	}
	a.client, err = newUpstreamClient(cfg, a.metrics, tracer, log)
	if err != nil {
		return nil, err
	}
	a.bases = upstream.NewBaseClient(a.client, upstream.WithAllowedBaseHosts(cfg.BaseHosts))
	pg, err := playground.New(playground.Options{
		AssetsDir: cfg.PlaygroundAssetsDir, Endpoint: "/graphql", Title: "seatable-graphql", Log: log,
	})
	if err != nil {
		return nil, err
	}
	ready := readiness.New(a.client.Ping)
	if s.ready != nil {
		ready = s.ready(a.client.Ping)
	}
	ready.Describe = upstream.Cause
	var fetcher upstream.Lister = fetchStack(a.client, cfg, a.redis, a.metrics)
	if s.wrapFetcher != nil {
		fetcher = s.wrapFetcher(fetcher)
	}
	a.live = newLiveServer(fetcher, liveOptions{Interval: cfg.LivePollInterval, MaxConns: cfg.LiveMaxConns,
		After: s.liveClock, Metrics: a.metrics, Redis: a.redis, KeepAlive: s.liveKeepAlive, WriteTimeout: cfg.LiveWriteTimeout, MaxBodyBytes: cfg.MaxBodyBytes, MaxPerClient: cfg.LiveMaxPerClient, TrustedProxies: cfg.TrustedProxies}, log)
	// Before Redis closes (closers run last to first): the pollers release
	// their Redis locks.
	a.closers = append(a.closers, a.live.Shutdown)
	a.Handler = a.pipeline(fetcher, tracer, pg, a.unlessDraining(ready))
	return a, nil
}

// Drain makes /readyz answer 503 from now on, while every other route goes
// on serving: the first step of stopping a replica behind a load balancer.
func (a *App) Drain() { a.draining.Store(true) }

// unlessDraining answers readiness probes with 503 once Drain was called,
// without asking ready (whose answer is about SeaTable, not this process).
func (a *App) unlessDraining(ready http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.draining.Load() {
			ready.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready: shutting down\n"))
	})
}

// EndStreams ends every subscription stream: http.Server.Shutdown waits for
// handlers, and streams end only when told to (RegisterOnShutdown).
func (a *App) EndStreams(ctx context.Context) { a.live.Shutdown(ctx) }

// Close stops the pollers and closes Redis and the trace exporter, in that
// order; call it after the HTTP server has drained.
func (a *App) Close(ctx context.Context) {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i](ctx)
	}
	a.closers = nil
}

// Run serves cfg on its listen address until ctx is cancelled (SIGINT or
// SIGTERM in the command), then stops accepting connections, waits up to
// SHUTDOWN_TIMEOUT for requests in flight, and closes the App.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	a, err := New(ctx, cfg, Options{Log: log})
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Close(closeCtx)
	}()
	ln, err := listen(cfg)
	if err != nil {
		return err
	}
	if cfg.MetricsAddr != "" {
		_, stopMetrics, err := serveMetrics(cfg, a.metrics, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	srv := newHTTPServer(cfg, a.Handler, log)
	srv.RegisterOnShutdown(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		a.EndStreams(ctx)
	})
	playgroundURL := "http://" + browsableAddr(ln.Addr().(*net.TCPAddr)) + "/"
	if cfg.Demo {
		log.Info("demo mode: serving an embedded fake SeaTable with sample data (set SEATABLE_URL for a real server); open the playground", "playground", playgroundURL)
	} else {
		log.Info("serving", "playground", playgroundURL, "seatable", a.client.BaseURL())
	}
	log.Info("performance settings", "coalesce", cfg.Coalesce, "share_queries", cfg.ShareQueries, "fast_path", cfg.FastPath,
		"cache_ttl", cfg.CacheTTL, "cache_max_bytes", cfg.CacheMaxBytes, "redis", a.redis != nil, "apq_cache_size", cfg.APQCacheSize)
	if cfg.TrustedDocuments != nil {
		log.Info("trusted documents loaded", "documents", cfg.TrustedDocuments.Len(), "only", cfg.TrustedOnly)
	}
	pingCtx, stopPing := context.WithCancel(ctx)
	defer pingAtStart(pingCtx, a.client, log)()
	defer stopPing()
	return serve(ctx, srv, ln, stopping{drain: a.Drain, delay: cfg.ShutdownDelay, timeout: cfg.ShutdownTimeout}, log)
}

// browsableAddr is the host:port a browser on this machine opens for a
// listener: localhost when it listens on every interface.
func browsableAddr(a *net.TCPAddr) string {
	if a.IP == nil || a.IP.IsUnspecified() {
		return net.JoinHostPort("localhost", strconv.Itoa(a.Port))
	}
	return net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
}

// stopping is how serve stops: drain (fail readiness), keep serving for
// delay, then stop accepting and wait up to timeout for requests in flight.
type stopping struct {
	drain   func()
	delay   time.Duration
	timeout time.Duration
}

// serve runs srv on ln until ctx is cancelled (SIGINT/SIGTERM in main), then
// stops as st says. Without the delay, connections that a load balancer
// opened just before the listener closed are reset in the kernel's accept
// queue: the delay lets it see /readyz fail and stop sending first.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, st stopping, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if st.drain != nil {
		st.drain()
	}
	if st.delay > 0 {
		log.Info("shutting down: /readyz fails; still serving while load balancers notice", "delay", st.delay)
		select {
		case <-time.After(st.delay):
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		}
	}
	log.Info("shutting down: draining requests in flight", "timeout", st.timeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), st.timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// listen opens the public port, holding at most MAX_CONNECTIONS client
// connections: past the bound, new connections wait in the kernel's backlog
// instead of each holding a goroutine and buffers here (3,000 idle
// keep-alives were held before).
func listen(cfg Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listen on %s: the address is already in use (another process, or another copy of this server, listens there): stop it, or set PORT or LISTEN_ADDR to a free one: %w", cfg.ListenAddr, err)
	}
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if cfg.MaxConnections > 0 {
		ln = netutil.LimitListener(ln, cfg.MaxConnections)
	}
	return ln, nil
}

// serveMetrics serves /metrics alone on METRICS_ADDR, so that the public
// port need not expose it; it returns the address and a function that stops
// it.
func serveMetrics(cfg Config, m *metrics.Metrics, log *slog.Logger) (string, func(), error) {
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return "", nil, fmt.Errorf("listen on METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := newHTTPServer(cfg, noSniff(mux), log)
	go func() { _ = srv.Serve(ln) }()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// newHTTPServer sets every server timeout: a client that trickles headers
// or a body, or holds an idle connection, cannot hold a goroutine forever.
func newHTTPServer(cfg Config, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// NewLogger logs JSON for machines and text for a person at a terminal,
// unless LOG_FORMAT says which. Records logged with a request's context
// carry its request id.
func NewLogger(w *os.File, cfg Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if fi, err := w.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			format = "text"
		}
	}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(requestlog.Handler(h))
}

// newUpstreamClient builds the SeaTable client. Each exchange with SeaTable
// passes, outermost first: the client span and traceparent (when tracing is
// on), the request's upstream-call count, the upstream metrics, the
// connection pool. Labels and span names use client.Endpoint, a route
// template, never the URL.
func newUpstreamClient(cfg Config, m *metrics.Metrics, tracer trace.TracerProvider, log *slog.Logger) (*upstream.Client, error) {
	// The transport layers name endpoints relative to the client's base URL;
	// they run only after the client exists.
	var client *upstream.Client
	endpoint := func(r *http.Request) string { return client.Endpoint(r) }
	rt := m.Transport(newTransport(), endpoint)
	rt = requestlog.Transport(rt)
	if tracer != nil {
		rt = tracing.Transport(tracer, rt, endpoint)
	}
	rt = ratelimit.Transport(rt) // rate limits: outermost, so a refused call is no SeaTable call
	client, err := upstream.New(cfg.SeaTableURL,
		upstream.WithTimeout(cfg.UpstreamTimeout),
		upstream.WithRetries(cfg.UpstreamRetries),
		upstream.WithMaxBytes(cfg.UpstreamMaxBytes),
		upstream.WithMaxInflightBytes(cfg.UpstreamMaxInflightBytes),
		upstream.WithBreaker(cfg.BreakerFailures, cfg.BreakerOpenTimeout),
		upstream.WithBreakerCallers(cfg.BreakerCallers),
		upstream.WithBreakerStateHook(func(from, to string) {
			log.Warn("SeaTable circuit breaker changed state", "from", from, "to", to)
		}),
		upstream.WithFailureHook(upstreamFailureLogger(log)),
		upstream.WithHTTPClient(&http.Client{Transport: rt}))
	if err != nil {
		return nil, err
	}
	return client, nil
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

// RouteRedisLogs sends go-redis's own log lines (dial and pool failures)
// through slog, at warn, instead of its default logger on stderr. go-redis
// keeps its logger in a package variable, so this is global: the command
// calls it once, before any client exists.
func RouteRedisLogs(log *slog.Logger) { redis.SetLogger(redisLogger{log}) }

type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

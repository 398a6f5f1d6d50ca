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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/cors"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/netutil"

	"github.com/seatable-graphql/seatable-graphql/graph"
	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/internal/gqlhttp"
	"github.com/seatable-graphql/seatable-graphql/internal/metrics"
	"github.com/seatable-graphql/seatable-graphql/internal/playground"
	"github.com/seatable-graphql/seatable-graphql/internal/readiness"
	"github.com/seatable-graphql/seatable-graphql/internal/requestlog"
	"github.com/seatable-graphql/seatable-graphql/internal/tracing"
	"github.com/seatable-graphql/seatable-graphql/internal/trusted"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// demoToken is sent to the embedded demo upstream when a request has no
// token; the demo accepts any token.
const demoToken = "demo"

func main() {
	if done, err := handleFlags(os.Args[1:], os.Stdout, os.Stderr); done {
		if err != nil {
			if !errors.Is(err, errUsage) {
				fmt.Fprintln(os.Stderr, err)
			}
			os.Exit(2)
		}
		return
	}
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		// No logger yet: it is configured by what failed to load. One line
		// per mistake, all of them, each naming its variable.
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "seatable-graphql: configuration:", line)
		}
		os.Exit(2)
	}
	log := newLogger(os.Stderr, cfg)
	routeRedisLogs(log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err = run(ctx, cfg, log)
	stop()
	if err != nil {
		log.Error("exiting", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx is cancelled, then drains requests in flight.
func run(ctx context.Context, cfg config, log *slog.Logger) error {
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
	var tracer trace.TracerProvider // nil: tracing off, no tracing layers at all
	if cfg.OTLPEndpoint != "" {
		tp, err := tracing.NewOTLPProvider(ctx, "seatable-graphql")
		if err != nil {
			return err
		}
		// Runs after the drain below, so the last requests' spans are sent.
		defer func() {
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tp.Shutdown(flushCtx); err != nil {
				log.Warn("flushing traces", "err", err)
			}
		}()
		tracer = tp
		log.Info("tracing: exporting spans over OTLP/HTTP", "endpoint", cfg.OTLPEndpoint)
	}
	m := metrics.New()
	client, err := newUpstreamClient(cfg, seatableURL, m, tracer, log)
	if err != nil {
		return err
	}

	pg, err := playground.New(playground.Options{
		AssetsDir: cfg.PlaygroundAssetsDir, Endpoint: "/graphql", Title: "seatable-graphql", Log: log,
	})
	if err != nil {
		return err
	}

	perf, closePerf, err := perfOptionsFrom(cfg)
	if err != nil {
		return err
	}
	// Closed after the drain below: requests in flight may still use Redis.
	defer closePerf()

	ln, err := listen(cfg)
	if err != nil {
		return err
	}
	if cfg.MetricsAddr != "" {
		_, stopMetrics, err := serveMetrics(cfg, m, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	perf.CacheStats = cacheMetrics{m}
	fetcher := newFetcher(client, perf)
	ls := newLiveServer(fetcher, liveOptions{Interval: cfg.LivePollInterval, MaxConns: cfg.LiveMaxConns, Metrics: m, Redis: perf.Redis}, log)
	// Also after the drain (RegisterOnShutdown below does not wait): the
	// pollers release their Redis locks before closePerf closes Redis.
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ls.Shutdown(ctx)
	}()
	h := newHandler(handlerConfig{
		cfg: cfg, client: client, fetcher: fetcher, fallbackToken: fallbackToken,
		// The demo's data is fake: its playground may write without a token.
		fallbackWrites: cfg.FallbackTokenWrites || cfg.SeaTableURL == "",
		log:            log, metrics: m, tracer: tracer, playground: pg, perf: &perf, live: ls,
	})
	srv := newHTTPServer(cfg, h, log)
	// Shutdown waits for handlers, and streams end only when told to.
	srv.RegisterOnShutdown(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		ls.Shutdown(ctx)
	})
	playgroundURL := "http://" + browsableAddr(ln.Addr().(*net.TCPAddr)) + "/"
	if cfg.SeaTableURL == "" {
		log.Info("demo mode: serving an embedded fake SeaTable with sample data (set SEATABLE_URL for a real server); open the playground", "playground", playgroundURL)
	} else {
		log.Info("serving", "playground", playgroundURL, "seatable", client.BaseURL())
	}
	perf.log(log)
	if cfg.TrustedDocuments != nil {
		log.Info("trusted documents loaded", "documents", cfg.TrustedDocuments.Len(), "only", cfg.TrustedOnly)
	}
	return serve(ctx, srv, ln, cfg.ShutdownTimeout, log)
}

// browsableAddr is the host:port a browser on this machine opens for a
// listener: localhost when it listens on every interface.
func browsableAddr(a *net.TCPAddr) string {
	if a.IP == nil || a.IP.IsUnspecified() {
		return net.JoinHostPort("localhost", strconv.Itoa(a.Port))
	}
	return net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
}

// serve runs srv on ln until ctx is cancelled (SIGINT/SIGTERM in main), then
// stops accepting connections and waits up to shutdownTimeout for requests
// in flight to finish.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, shutdownTimeout time.Duration, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests in flight", "timeout", shutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
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
func listen(cfg config) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.ListenAddr)
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
func serveMetrics(cfg config, m *metrics.Metrics, log *slog.Logger) (string, func(), error) {
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
func newHTTPServer(cfg config, h http.Handler, log *slog.Logger) *http.Server {
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

// newLogger logs JSON for machines and text for a person at a terminal,
// unless LOG_FORMAT says which. Records logged with a request's context
// carry its request id.
func newLogger(w *os.File, cfg config) *slog.Logger {
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

// handlerConfig is what the HTTP handler is built from.
type handlerConfig struct {
	cfg    config
	client *upstream.Client
	// fetcher reads workspace lists; nil means client. A cache or request
	// coalescing wraps the client here with the same contract.
	fetcher       loaders.Fetcher
	fallbackToken string
	// fallbackWrites lets requests without their own token write with
	// fallbackToken (FALLBACK_TOKEN_WRITES, or the demo).
	fallbackWrites bool
	log            *slog.Logger
	metrics        *metrics.Metrics
	tracer         trace.TracerProvider // nil: tracing off
	ready          *readiness.Probe     // nil: a default probe pinging client
	playground     http.Handler         // nil: GraphiQL from playground.DefaultAssetsDir
	perf           *perfOptions         // nil: newPerfOptions(cfg), without Redis
	// live serves subscriptions; nil: one built from cfg over fetcher.
	live *liveServer
}

// newHandler wires the HTTP routes and the middleware around them.
func newHandler(h handlerConfig) http.Handler {
	opts := graph.DefaultServerOptions(h.log)
	opts.Writer = h.client
	opts.Introspection = h.cfg.Introspection
	opts.QueryCacheBytes = h.cfg.QueryCacheBytes
	opts.ParserTokenLimit = h.cfg.MaxTokens
	opts.MaxDepth = h.cfg.MaxDepth
	opts.MaxAliases = h.cfg.MaxAliases
	opts.ComplexityLimit = h.cfg.MaxComplexity
	opts.ListSize = h.cfg.ListSize
	if h.perf == nil {
		p := newPerfOptions(h.cfg)
		h.perf = &p
	}
	h.perf.configureGraph(&opts)
	if h.fetcher == nil {
		h.fetcher = newFetcher(h.client, *h.perf)
	}
	if h.live == nil {
		h.live = newLiveServer(h.fetcher, liveOptions{Interval: h.cfg.LivePollInterval, MaxConns: h.cfg.LiveMaxConns, Metrics: h.metrics, Redis: h.perf.Redis}, h.log)
	}
	opts.Live = h.live.hub
	opts.MaxSubscriptionsPerConnection = h.cfg.LiveMaxSubs
	opts.WebsocketOrigins = h.cfg.CORSOrigins
	observe := func(ctx context.Context, op graph.Operation) {
		requestlog.FromContext(ctx).SetOperation(op.Name, op.Type, op.Codes)
		var code string
		if len(op.Codes) > 0 {
			code = op.Codes[0]
		}
		name := op.Name
		if !loaders.For(ctx).OwnToken() {
			// Only callers with a token may name series: anonymous ones
			// could otherwise use up the MaxOperations labels for good.
			name = metrics.Other
		}
		h.metrics.Operation(name, op.Type != "", code, op.Duration)
	}
	opts.Observers = []graph.Observer{observe}
	if h.tracer != nil {
		opts.Extensions = append(opts.Extensions, tracing.GraphQL(h.tracer))
	}
	gql := graph.NewServer(opts)
	if h.ready == nil {
		h.ready = readiness.New(h.client.Ping)
	}
	if h.playground == nil {
		h.playground = http.NotFoundHandler()
		if pg, err := playground.New(playground.Options{Endpoint: "/graphql", Title: "seatable-graphql", Log: h.log}); err != nil {
			h.log.Error("playground disabled", "err", err)
		} else {
			h.playground = pg
		}
	}

	mux := http.NewServeMux()
	// Mutations invalidate through liveFetcher, which also refreshes the
	// token's poller.
	withLoaders := loaders.Middleware(liveFetcher{h.fetcher, h.live.hub}, h.fallbackToken,
		loaders.WithBatchObserver(h.metrics), loaders.WithFallbackWrites(h.fallbackWrites))(h.perf.replay(gql, observe))
	var api http.Handler = cacheControl(withLoaders)
	if h.cfg.TrustedDocuments != nil {
		// Inside gqlhttp: it sees each operation of a batch, after the
		// body limit and the parameter checks.
		api = trusted.Handler(h.cfg.TrustedDocuments, trusted.Options{Only: h.cfg.TrustedOnly, Introspection: h.cfg.Introspection}, api)
	}
	limits := newRateLimits(h.cfg, h.fallbackToken, *h.perf)
	mux.Handle("/graphql", limits.middleware(h.live.Handler(gqlhttp.Handler(api, gqlhttp.Options{MaxBodyBytes: h.cfg.MaxBodyBytes,
		RequestTimeout: h.cfg.RequestTimeout, MaxBatch: h.cfg.MaxBatch, MaxQueryBytes: h.cfg.MaxQueryBytes}))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", h.ready)
	if h.cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", h.metrics.Handler())
	}
	mux.Handle("GET /{$}", h.playground)
	mux.Handle("GET /playground", h.playground)
	mux.Handle("GET /playground/", h.playground)

	// Middleware, outermost first:
	//  1. tracing (when on): the server span, continuing a caller's
	//     traceparent; outermost so that the log line can name the trace;
	//  2. request log: request id in and out, one line per request, and the
	//     Record that the GraphQL observer and the upstream transport fill in;
	//  3. in-flight gauge;
	//  4. X-Content-Type-Options: nosniff on every response;
	//  5. CORS: answers preflights and adds headers, for allowed origins only;
	//  6. the routes.
	var handler http.Handler = mux
	handler = withCORS(h.cfg.CORSOrigins, handler)
	handler = noSniff(handler)
	if len(h.cfg.AllowedHosts) > 0 {
		handler = allowHosts(h.cfg.AllowedHosts, handler)
	}
	handler = h.metrics.InFlight(handler)
	handler = requestlog.Middleware(h.log)(handler)
	if h.tracer != nil {
		handler = tracing.Handler(h.tracer, handler, []string{"/graphql", "/", "/playground"}, requestlog.Quiet)
	}
	return handler
}

// allowHosts answers 421 to a request whose Host is not listed: a page on
// an attacker's domain that rebinds its DNS to this server could otherwise
// read answers made with SEATABLE_TOKEN. Ports are ignored.
func allowHosts(hosts []string, next http.Handler) http.Handler {
	allowed := map[string]bool{}
	for _, h := range hosts {
		allowed[strings.ToLower(h)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !allowed[strings.ToLower(host)] {
			http.Error(w, "unknown host", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// noSniff tells browsers never to guess a response's type from its bytes,
// on every response: an error or JSON answer must not be run as HTML.
func noSniff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// withCORS lets browsers on the allowed origins call the API. With no
// origins it adds nothing, so no cross-origin request is allowed (rs/cors
// itself would read an empty list as "any origin").
func withCORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"Authorization", "Content-Type", requestlog.Header},
		ExposedHeaders: []string{requestlog.Header},
		MaxAge:         600,
	}).Handler(next)
}

// newUpstreamClient builds the SeaTable client. Each exchange with SeaTable
// passes, outermost first: the client span and traceparent (when tracing is
// on), the request's upstream-call count, the upstream metrics, the
// connection pool. Labels and span names use client.Endpoint, a route
// template, never the URL.
func newUpstreamClient(cfg config, baseURL string, m *metrics.Metrics, tracer trace.TracerProvider, log *slog.Logger) (*upstream.Client, error) {
	// The transport layers name endpoints relative to the client's base URL;
	// they run only after the client exists.
	var client *upstream.Client
	endpoint := func(r *http.Request) string { return client.Endpoint(r) }
	rt := m.Transport(newTransport(), endpoint)
	rt = requestlog.Transport(rt)
	if tracer != nil {
		rt = tracing.Transport(tracer, rt, endpoint)
	}
	client, err := upstream.New(baseURL,
		upstream.WithTimeout(cfg.UpstreamTimeout),
		upstream.WithRetries(cfg.UpstreamRetries),
		upstream.WithMaxBytes(cfg.UpstreamMaxBytes),
		upstream.WithMaxInflightBytes(cfg.UpstreamMaxInflightBytes),
		upstream.WithBreaker(cfg.BreakerFailures, cfg.BreakerOpenTimeout),
		upstream.WithBreakerCallers(cfg.BreakerCallers),
		upstream.WithBreakerStateHook(func(from, to string) {
			log.Warn("SeaTable circuit breaker changed state", "from", from, "to", to)
		}),
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

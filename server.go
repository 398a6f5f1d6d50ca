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

	"github.com/seatable-graphql/seatable-graphql/graph"
	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/internal/gqlhttp"
	"github.com/seatable-graphql/seatable-graphql/internal/metrics"
	"github.com/seatable-graphql/seatable-graphql/internal/playground"
	"github.com/seatable-graphql/seatable-graphql/internal/readiness"
	"github.com/seatable-graphql/seatable-graphql/internal/requestlog"
	"github.com/seatable-graphql/seatable-graphql/internal/tracing"
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

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
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
	perf           *perfOptions         // nil: defaultPerfOptions
	// live serves subscriptions; nil: one built from cfg over fetcher.
	live *liveServer
}

// newHandler wires the HTTP routes and the middleware around them.
func newHandler(h handlerConfig) http.Handler {
	opts := graph.DefaultServerOptions(h.log)
	opts.Writer = h.client
	opts.Introspection = h.cfg.Introspection
	opts.QueryCacheSize = h.cfg.QueryCacheSize
	opts.ParserTokenLimit = h.cfg.MaxTokens
	opts.MaxDepth = h.cfg.MaxDepth
	opts.MaxAliases = h.cfg.MaxAliases
	opts.ComplexityLimit = h.cfg.MaxComplexity
	opts.ListSize = h.cfg.ListSize
	if h.perf == nil {
		p := defaultPerfOptions()
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
	opts.Observers = []graph.Observer{func(ctx context.Context, op graph.Operation) {
		requestlog.FromContext(ctx).SetOperation(op.Name, op.Type, op.Codes)
		var code string
		if len(op.Codes) > 0 {
			code = op.Codes[0]
		}
		h.metrics.Operation(op.Name, op.Type != "", code, op.Duration)
	}}
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
		loaders.WithBatchObserver(h.metrics), loaders.WithFallbackWrites(h.fallbackWrites))(h.perf.replay(gql))
	mux.Handle("/graphql", h.live.Handler(gqlhttp.Handler(cacheControl(withLoaders), gqlhttp.Options{MaxBodyBytes: h.cfg.MaxBodyBytes, RequestTimeout: h.cfg.RequestTimeout})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", h.ready)
	mux.Handle("GET /metrics", h.metrics.Handler())
	mux.Handle("GET /{$}", h.playground)
	mux.Handle("GET /playground", h.playground)
	mux.Handle("GET /playground/", h.playground)

	// Middleware, outermost first:
	//  1. tracing (when on): the server span, continuing a caller's
	//     traceparent; outermost so that the log line can name the trace;
	//  2. request log: request id in and out, one line per request, and the
	//     Record that the GraphQL observer and the upstream transport fill in;
	//  3. in-flight gauge;
	//  4. CORS: answers preflights and adds headers, for allowed origins only;
	//  5. the routes.
	var handler http.Handler = mux
	handler = withCORS(h.cfg.CORSOrigins, handler)
	handler = h.metrics.InFlight(handler)
	handler = requestlog.Middleware(h.log)(handler)
	if h.tracer != nil {
		handler = tracing.Handler(h.tracer, handler, []string{"/graphql", "/", "/playground"}, requestlog.Quiet)
	}
	return handler
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
		upstream.WithBreaker(cfg.BreakerFailures, cfg.BreakerOpenTimeout),
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

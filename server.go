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
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"

	"github.com/seatable-graphql/seatable-graphql/graph"
	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/internal/gqlhttp"
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
	client, err := newUpstreamClient(cfg, seatableURL, log)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.Port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := newHTTPServer(cfg, newHandler(cfg, client, fallbackToken, log), log)
	playgroundURL := fmt.Sprintf("http://localhost:%d/", ln.Addr().(*net.TCPAddr).Port)
	if cfg.SeaTableURL == "" {
		log.Info("demo mode: serving an embedded fake SeaTable with sample data (set SEATABLE_URL for a real server); open the playground", "playground", playgroundURL)
	} else {
		log.Info("serving", "playground", playgroundURL, "seatable", client.BaseURL())
	}
	return serve(ctx, srv, ln, cfg.ShutdownTimeout, log)
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

// newUpstreamClient builds the SeaTable client with cfg's timeouts, retries,
// body cap and circuit breaker.
func newUpstreamClient(cfg config, seatableURL string, log *slog.Logger) (*upstream.Client, error) {
	return upstream.New(seatableURL,
		upstream.WithTimeout(cfg.UpstreamTimeout),
		upstream.WithRetries(cfg.UpstreamRetries),
		upstream.WithMaxBytes(cfg.UpstreamMaxBytes),
		upstream.WithBreaker(cfg.BreakerFailures, cfg.BreakerOpenTimeout),
		upstream.WithBreakerStateHook(func(from, to string) {
			log.Warn("SeaTable circuit breaker changed state", "from", from, "to", to)
		}),
		upstream.WithHTTPClient(&http.Client{Transport: newTransport()}))
}

// newHandler wires the HTTP routes. f is the SeaTable client, or anything
// wrapping it (a cache) with the same contract.
func newHandler(cfg config, f loaders.Fetcher, fallbackToken string, log *slog.Logger) http.Handler {
	opts := graph.DefaultServerOptions(log)
	opts.Introspection = cfg.Introspection
	opts.QueryCacheSize = cfg.QueryCacheSize
	opts.ParserTokenLimit = cfg.MaxTokens
	opts.MaxDepth = cfg.MaxDepth
	opts.MaxAliases = cfg.MaxAliases
	opts.ComplexityLimit = cfg.MaxComplexity
	opts.ListSize = cfg.ListSize
	gql := loaders.Middleware(f, fallbackToken)(graph.NewServer(opts))
	mux := http.NewServeMux()
	mux.Handle("/graphql", gqlhttp.Handler(gql, gqlhttp.Options{MaxBodyBytes: cfg.MaxBodyBytes, RequestTimeout: cfg.RequestTimeout}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /{$}", playground.Handler("seatable-graphql", "/graphql"))
	return mux
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

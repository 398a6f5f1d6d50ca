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
	perf, closePerf, err := perfOptionsFrom(cfg)
	if err != nil {
		return err
	}
	defer closePerf()
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
	perf.log(log)

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

// buildHandler wires the HTTP routes.
func buildHandler(client *upstream.Client, fallbackToken string, log *slog.Logger, perf perfOptions) http.Handler {
	opts := graph.DefaultServerOptions(log)
	perf.configureGraph(&opts)
	gql := graph.NewServer(opts)
	mux := http.NewServeMux()
	mux.Handle("/graphql", cacheControl(loaders.Middleware(newFetcher(client, perf), fallbackToken)(perf.replay(gql))))
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

package app

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/cors"
	"go.opentelemetry.io/otel/trace"

	"github.com/seatable-graphql/seatable-graphql/app/internal/gateway"
	"github.com/seatable-graphql/seatable-graphql/app/internal/metrics"
	"github.com/seatable-graphql/seatable-graphql/app/internal/tracing"
	"github.com/seatable-graphql/seatable-graphql/graph"
	"github.com/seatable-graphql/seatable-graphql/graph/gqlhttp"
	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/graph/replay"
	"github.com/seatable-graphql/seatable-graphql/graph/trusted"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/internal/requestlog"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/cache"
	"github.com/seatable-graphql/seatable-graphql/upstream/coalesce"
)

// step is one layer of the pipeline; nil leaves it out (a feature that is
// switched off).
type step func(http.Handler) http.Handler

// chain wraps h in steps, the first outermost: a request meets them in the
// order they are listed.
func chain(h http.Handler, steps ...step) http.Handler {
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i] != nil {
			h = steps[i](h)
		}
	}
	return h
}

// pipeline is the whole handler, in the order a request meets it. Each
// line is one layer, named after what it does; README.md ("How it works")
// follows this list.
func (a *App) pipeline(fetcher upstream.Lister, tracer trace.TracerProvider, pg, ready http.Handler) http.Handler {
	cfg, m := a.cfg, a.metrics
	observe := a.observer()
	gql := graph.NewServer(a.graphOptions(tracer, observe))

	api := chain(gql,
		a.gatewayRequests(),    // GATEWAY_SECRET: mark a federation gateway's requests (trusted documents, _service)
		a.rateLimits(),         // SeaTable calls charged per caller: token hash, or address for the fallback token
		a.live.Handler,         // fork: WebSocket and SSE streams get a slot and no deadlines
		graphQLOverHTTP(cfg),   // body and query limits, timeout, batches, status codes
		a.trustedDocuments(),   // TRUSTED_DOCUMENTS: documentId -> text, early 400s (gqlgen checks every operation)
		a.withLoaders(fetcher), // per-request loaders over the fetch stack; Cache-Control: no-cache makes them read fresh (own tokens only)
		a.replay(observe),      // CACHE_TTL: replay list-only answers while their list is current
		// then gqlgen (graph.NewServer): transports, APQ, parse and
		// validate with limits, operation hooks, fast path or executor.
	)
	mux := http.NewServeMux()
	mux.Handle("/graphql", api)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", ready)
	if cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", m.Handler())
	}
	mux.Handle("GET /{$}", pg)
	mux.Handle("GET /playground", pg)
	mux.Handle("GET /playground/", pg)

	return chain(mux,
		a.tracing(tracer),            // OTLP server span, continuing a caller's traceparent; outermost, so logs name the trace
		requestlog.Middleware(a.log), // request id in and out, one log line per request
		m.InFlight,                   // in-flight gauge
		allowHosts(cfg.AllowedHosts), // ALLOWED_HOSTS: 421 for other Host names
		noSniff,                      // X-Content-Type-Options: nosniff on every response
		withCORS(cfg.CORSOrigins),    // CORS_ALLOWED_ORIGINS: preflights and headers
		a.caller(),                   // the caller (auth.Caller): own token or SEATABLE_TOKEN, and may it write
		// then the routes above.
	)
}

// fetchStack is what the loaders read through, outermost first: coalescing
// (one call for concurrent identical ones), the response cache (CACHE_TTL),
// the SeaTable client (its transport: tracing, request log, metrics, pool).
// The cache sits inside coalescing so a burst of identical requests makes
// one cache lookup and one store.
func fetchStack(client *upstream.Client, cfg Config, rc *redis.Client, m *metrics.Metrics) upstream.Lister {
	var f upstream.Lister = client
	if cfg.CacheTTL > 0 {
		answers, _ := cacheShares(cfg.CacheMaxBytes)
		f = cache.New(f, cache.Options{TTL: cfg.CacheTTL, MaxBytes: answers, Redis: rc, Stats: cacheMetrics{m}})
	}
	if cfg.Coalesce {
		// The shared call is detached from its leader's deadline, so it gets
		// the whole request's (retries and their backoff included): bounded
		// by UPSTREAM_TIMEOUT, one attempt's, it cut retries short.
		f = coalesce.New(f, cfg.RequestTimeout, coalesce.WithPartition(budgetPartition))
	}
	return f
}

// caller sets each request's auth.Caller: its own token, else SEATABLE_TOKEN,
// which writes only with FALLBACK_TOKEN_WRITES (the command sets it for the
// demo, whose data is fake).
func (a *App) caller() step { return auth.Middleware(a.cfg.Token, a.cfg.FallbackTokenWrites) }

// withLoaders gives each request its loaders (graph.WithLoaders); a
// mutation's invalidation also refreshes the token's poller (liveRefresh).
// A request that asks for fresh answers (wantsFresh) gets loaders whose
// reads skip the response cache (loaders.FreshReads): the choice is made
// here, once, and travels in the loaders, not in a context value.
// Reads inside bases go to the base client directly, past coalescing and
// the response cache: only its base tokens are kept between requests.
func (a *App) withLoaders(fetcher upstream.Lister) step {
	bases := loaders.Bases{Reader: a.bases, MaxBases: a.cfg.MaxBasesPerRequest, Parallel: a.cfg.BaseConcurrency}
	f := liveRefresh{fetcher, a.live.hub}
	opts := []loaders.Option{loaders.WithBatchObserver(a.metrics), loaders.WithBases(bases)}
	cached := graph.WithLoaders(f, opts...)
	fresh := graph.WithLoaders(f, slices.Concat(opts, []loaders.Option{loaders.FreshReads()})...)
	return func(next http.Handler) http.Handler {
		cached, fresh := cached(next), fresh(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if wantsFresh(r) {
				fresh.ServeHTTP(w, r)
				return
			}
			cached.ServeHTTP(w, r)
		})
	}
}

// graphQLOverHTTP applies the GraphQL-over-HTTP rules (graph/gqlhttp).
func graphQLOverHTTP(cfg Config) step {
	o := gqlhttp.Options{MaxBodyBytes: cfg.MaxBodyBytes, RequestTimeout: cfg.RequestTimeout, MaxBatch: cfg.MaxBatch, MaxQueryBytes: cfg.MaxQueryBytes,
		MaxResponseBytes: cfg.MaxResponseBytes, MaxBatchTokens: cfg.MaxBatchTokens}
	return func(next http.Handler) http.Handler { return gqlhttp.Handler(next, o) }
}

// graphOptions are the GraphQL server's settings.
func (a *App) graphOptions(tracer trace.TracerProvider, observe graph.Observer) graph.ServerOptions {
	cfg := a.cfg
	o := graph.ServerOptions{
		Logger: a.log, Writer: a.client,
		Introspection: cfg.Introspection, QueryCacheBytes: cfg.QueryCacheBytes, ParserTokenLimit: cfg.MaxTokens,
		MaxDepth: cfg.MaxDepth, MaxAliases: cfg.MaxAliases, ComplexityLimit: cfg.MaxComplexity, ListSize: cfg.ListSize,
		MaxNodeIDs:            cfg.MaxNodeIDs,
		ShareIdenticalQueries: cfg.ShareQueries, SharePartition: callPartition,
		FastPath: cfg.FastPath, ReportReplayable: cfg.CacheTTL > 0,
		MaxBasesPerRequest: cfg.MaxBasesPerRequest,
		Live:               a.live.hub, MaxSubscriptionsPerConnection: cfg.LiveMaxSubs, WebsocketOrigins: cfg.CORSOrigins,
		MaxQueryBytes: cfg.MaxQueryBytes, Trusted: cfg.TrustedDocuments, TrustedOnly: cfg.TrustedOnly,
		KeepAlive: a.live.keepAlive,
		Observers: []graph.Observer{observe},
	}
	if cfg.GatewaySecret != "" {
		o.FromGateway = gateway.From
	}
	if cfg.APQCacheSize > 0 {
		o.PersistedQueries = graph.NewAPQStore(graph.APQOptions{MaxEntries: cfg.APQCacheSize,
			MaxBytes: graph.DefaultAPQBytes, MaxQueryBytes: cfg.MaxQueryBytes, Redis: a.redis})
	}
	if tracer != nil {
		o.Extensions = append(o.Extensions, tracing.GraphQL(tracer))
	}
	return o
}

// observer reports each operation to the request log and the metrics.
func (a *App) observer() graph.Observer {
	return func(ctx context.Context, op graph.Operation) {
		requestlog.FromContext(ctx).SetOperation(op.Name, op.Type, op.Codes)
		var code string
		if len(op.Codes) > 0 {
			code = op.Codes[0]
		}
		name := op.Name
		if !auth.From(ctx).Own() {
			// Only callers with a token may name series: anonymous ones
			// could otherwise use up the MaxOperations labels for good.
			name = metrics.Other
		} else {
			// And only with a token SeaTable accepted: a new name is
			// admitted by an operation that called SeaTable and was not
			// refused for its token, never by invented tokens (nor by
			// operations that never asked SeaTable, such as __typename or
			// cached answers: their names count once a call admits them).
			accepted := requestlog.FromContext(ctx).UpstreamCalls() > 0 &&
				!slices.Contains(op.Codes, string(apperr.Unauthenticated)) && !slices.Contains(op.Codes, string(apperr.Forbidden))
			name = a.metrics.OperationName(name, accepted)
		}
		a.metrics.Operation(name, op.Type != "", code, op.Duration)
	}
}

func (a *App) tracing(tracer trace.TracerProvider) step {
	if tracer == nil {
		return nil
	}
	return func(next http.Handler) http.Handler {
		return tracing.Handler(tracer, next, []string{"/graphql", "/", "/playground"}, requestlog.Quiet)
	}
}

// gatewayRequests marks the requests of a federation gateway that sends
// GATEWAY_SECRET (app/internal/gateway), and strips the header from all.
func (a *App) gatewayRequests() step {
	if a.cfg.GatewaySecret == "" {
		return nil
	}
	return gateway.Middleware(a.cfg.GatewaySecret)
}

func (a *App) trustedDocuments() step {
	if a.cfg.TrustedDocuments == nil {
		return nil
	}
	o := trusted.Options{Only: a.cfg.TrustedOnly, Introspection: a.cfg.Introspection}
	if a.cfg.GatewaySecret != "" {
		o.Exempt = gateway.From // the gateway checks its clients' documents
	}
	return func(next http.Handler) http.Handler { return trusted.Handler(a.cfg.TrustedDocuments, o, next) }
}

// replay replays, with the cache on, the responses of list-only queries
// while their upstream answer is current (graph/replay). observe is told
// about each replay, as gqlgen's observers are about each response.
func (a *App) replay(observe graph.Observer) step {
	if a.cfg.CacheTTL <= 0 {
		return nil
	}
	_, replays := cacheShares(a.cfg.CacheMaxBytes)
	store := replay.New(replays, a.cfg.CacheTTL, cachePartition)
	store.OnReplay = func(ctx context.Context, operation string, d time.Duration) {
		observe(ctx, graph.Operation{Name: operation, Type: "query", Duration: d})
	}
	return store.Middleware
}

// cacheShares splits CACHE_MAX_BYTES between the two in-process stores of
// the cache, decoded answers and replayable responses, so that together
// they stay within it (each used to get the whole setting).
func cacheShares(total int64) (answers, replays int64) {
	return total / 2, total - total/2
}

// cachePartition keeps requests that bypass the cache from sharing work
// (replay, shared execution) with requests that read it.
func cachePartition(ctx context.Context) string {
	if loaders.For(ctx).ReadsFresh() {
		return "fresh"
	}
	return ""
}

// wantsFresh honours a client's Cache-Control: no-cache (or Pragma:
// no-cache) by having the request skip the response cache, for callers
// with their own token only: one served with SEATABLE_TOKEN would spend
// that shared account's SeaTable rate limit on every anonymous caller's
// whim.
func wantsFresh(r *http.Request) bool {
	return auth.From(r.Context()).Own() && (hasToken(r.Header.Values("Cache-Control"), "no-cache") || hasToken(r.Header.Values("Pragma"), "no-cache"))
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

// cacheMetrics counts response cache hits and misses in the metrics.
type cacheMetrics struct{ m *metrics.Metrics }

func (c cacheMetrics) Hit()  { c.m.CacheHit() }
func (c cacheMetrics) Miss() { c.m.CacheMiss() }

// allowHosts answers 421 to a request whose Host is not listed: a page on
// an attacker's domain that rebinds its DNS to this server could otherwise
// read answers made with SEATABLE_TOKEN. Ports are ignored. No hosts: any.
func allowHosts(hosts []string) step {
	if len(hosts) == 0 {
		return nil
	}
	allowed := map[string]bool{}
	for _, h := range hosts {
		allowed[strings.ToLower(h)] = true
	}
	return func(next http.Handler) http.Handler {
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
func withCORS(origins []string) step {
	if len(origins) == 0 {
		return nil
	}
	c := cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: corsAllowedHeaders(),
		ExposedHeaders: []string{requestlog.Header, "Retry-After"},
		MaxAge:         600,
	})
	return c.Handler
}

// corsAllowedHeaders are the request headers a page on an allowed origin
// may send (docs/clients.md lists them): a browser refuses the whole
// request when its preflight asks for one more, so this is every header
// the common GraphQL clients and browser tracing send, not only those the
// server reads.
func corsAllowedHeaders() []string {
	return []string{
		"Authorization", "Content-Type", "Accept",
		requestlog.Header,         // X-Request-Id, echoed in logs and the response
		"Cache-Control", "Pragma", // no-cache bypasses CACHE_TTL (wantsFresh)
		"apollographql-client-name", "apollographql-client-version", // Apollo Client's clientAwareness
		"apollo-require-preflight", "x-apollo-operation-name", // Apollo's CSRF-prevention headers
		"graphql-client-name", "graphql-client-version", // client identification (Cosmo, Hive)
		"x-graphql-client-name", "x-graphql-client-version",
		"traceparent", "tracestate", "baggage", // W3C trace context (OpenTelemetry web)
		"sentry-trace", // Sentry's browser SDK, with baggage
	}
}

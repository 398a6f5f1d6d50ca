package graph

import (
	"context"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"

	"github.com/seatable-graphql/seatable-graphql/graph/limits"
	"github.com/seatable-graphql/seatable-graphql/graph/live"
	"github.com/seatable-graphql/seatable-graphql/graph/trusted"
)

// ServerOptions configure the GraphQL handler. Zero limits are unlimited.
type ServerOptions struct {
	Logger *slog.Logger
	// Introspection enables __schema/__type queries (the playground needs
	// it) and federation's _service { sdl }. Without it, validation errors
	// also stop suggesting field names.
	Introspection bool
	// FromGateway, if set, tells a federation gateway's requests
	// (GATEWAY_SECRET): they read _service { sdl } even without
	// Introspection, since composing the supergraph needs it.
	FromGateway func(context.Context) bool
	// QueryCacheBytes bounds the parsed, validated documents kept, by their
	// estimated size; 0 keeps none.
	QueryCacheBytes int64
	// PersistedQueries stores automatic persisted queries (APQ); nil turns
	// APQ off.
	PersistedQueries graphql.Cache[string]
	// ShareIdenticalQueries runs identical queries of one caller that are in
	// flight together once (see sharequeries.go); SharePartition, if set, keeps
	// requests apart that differ in a way the document does not show (a
	// cache bypass).
	ShareIdenticalQueries bool
	SharePartition        func(ctx context.Context) string
	// ReportReplayable tells graph/replay which responses came
	// from the workspace list alone (see replayable.go); on with the cache.
	ReportReplayable bool
	// ParserTokenLimit caps the tokens of a document before it is parsed
	// and validated: validation cost grows faster than linearly in the
	// document's size (gqlparser's overlapping-fields check).
	ParserTokenLimit int
	// Extensions are added first, so they wrap everything else (tracing).
	Extensions []graphql.HandlerExtension
	// Observers learn about every response (metrics, request logs).
	Observers []Observer
	// Writer performs mutations (the SeaTable client).
	Writer Writer
	// MaxDepth caps field nesting.
	MaxDepth int
	// MaxAliases caps aliased fields per operation.
	MaxAliases int
	// ComplexityLimit caps an operation's complexity: each field costs 1
	// plus its children, list fields multiply their children by ListSize.
	ComplexityLimit int
	// ListSize is the assumed length of a list for complexity.
	ListSize int
	// MaxBasesPerRequest refuses, before any read, an operation whose root
	// dtable(uuid:) fields open more bases than this (bases.go); 0 is
	// unlimited. The loaders enforce the same bound on every other path.
	MaxBasesPerRequest int
	// MaxNodeIDs caps the ids of one nodes(ids:) call (MAX_NODE_IDS);
	// 0 is unlimited.
	MaxNodeIDs int
	// FastPath answers queries that read only the workspace list by
	// writing their JSON straight from it (fastpath.go) instead of through
	// gqlgen's generic executor; the answers are the same bytes.
	FastPath bool
	// Live enables subscriptions over WebSocket (graphql-transport-ws) and
	// SSE, fed by its pollers; nil leaves both transports out.
	Live *live.Hub
	// MaxSubscriptionsPerConnection caps one WebSocket connection's
	// subscriptions; 0 is unlimited.
	MaxSubscriptionsPerConnection int
	// KeepAlive is the ping interval of both streaming transports.
	KeepAlive time.Duration
	// MaxQueryBytes caps an operation's text on every transport
	// (MAX_QUERY_BYTES); the HTTP layer refuses longer bodies first, a
	// WebSocket's operations meet it here. 0: no bound.
	MaxQueryBytes int
	// Trusted, when set, is the manifest of trusted documents
	// (TRUSTED_DOCUMENTS); TrustedOnly refuses every other document
	// (introspection too unless Introspection), on every transport.
	Trusted     *trusted.Store
	TrustedOnly bool
	// WebsocketOrigins are the other origins whose pages may open a
	// WebSocket (CORS_ALLOWED_ORIGINS); same-origin pages always may.
	// Browsers send cookies but no CORS check with an upgrade, so without
	// this list a cross-origin page cannot connect at all.
	WebsocketOrigins []string
}

// Default limits (see docs/limits.md).
const (
	DefaultParserTokenLimit = 2000
	DefaultMaxDepth         = 12
	DefaultMaxAliases       = 50
	DefaultComplexityLimit  = 20000
	DefaultListSize         = 10
	// DefaultMaxNodeIDs bounds nodes(ids:): ids come in variables, which
	// the document's token limit does not see.
	DefaultMaxNodeIDs = 100
	// DefaultMaxResponseBytes bounds one answer, and one batch's answers
	// together.
	DefaultMaxResponseBytes = 16 << 20
	// DefaultMaxQueryBytes bounds a query's text (MAX_QUERY_BYTES): the
	// token limit alone lets one string literal fill a megabyte.
	DefaultMaxQueryBytes = 64 << 10
	// DefaultQueryCacheBytes bounds the parsed-document cache.
	DefaultQueryCacheBytes = 32 << 20
	// DefaultAPQBytes bounds the in-process persisted queries, and what one
	// replica writes to Redis per hour.
	DefaultAPQBytes = 16 << 20
	// DefaultKeepAlive is how often idle streams are pinged, well inside
	// the idle timeouts of common proxies (60 s).
	DefaultKeepAlive = 25 * time.Second
)

// NewServer assembles the gqlgen handler with explicit transports, caches
// and extensions (not the deprecated NewDefaultServer). The caller must put
// the caller (auth.Middleware) and loaders (WithLoaders) on each request's
// context and should wrap it in gqlhttp.Handler for body limits and
// GraphQL-over-HTTP status codes (app/pipeline.go does all three).
func NewServer(o ServerOptions) *handler.Server {
	resolver := &Resolver{Writer: o.Writer, Live: o.Live, MaxSubscriptionsPerConnection: o.MaxSubscriptionsPerConnection, MaxNodeIDs: o.MaxNodeIDs, Log: o.Logger}
	gen := NewExecutableSchema(Config{Resolvers: resolver}).(*executableSchema)
	// The list costs of the field catalogue (catalogue.go).
	var es graphql.ExecutableSchema = costedSchema{gen, max(o.ListSize, 1)}
	// What each operation reads, and its fast-path plans, worked out once
	// per document. Plans keep their documents alive: bounded like the
	// query cache.
	plans := newPlanCache(max(o.QueryCacheBytes, DefaultQueryCacheBytes))
	if o.FastPath {
		es = newFastSchema(es, gen, resolver, plans)
	}
	srv := handler.New(es)
	for _, e := range o.Extensions {
		srv.Use(e)
	}
	observe := observeExtension{observers: o.Observers}
	if len(o.Observers) > 0 {
		srv.Use(observe)
	}
	// Order matters: the first transport that supports a request takes it.
	// The streaming ones come before POST, which would take their requests
	// too, and take only documents using @defer (incremental.go).
	srv.AddTransport(transport.Options{})
	keepAlive := o.KeepAlive
	if keepAlive <= 0 {
		keepAlive = DefaultKeepAlive
	}
	if o.Live != nil {
		// Before GET and POST: an upgrade is a GET, and an SSE request is a
		// JSON POST that POST would also claim (gqlgen's transport order).
		srv.AddTransport(transport.Websocket{
			Implementation: transport.CoderWebsocketImplementation{
				AcceptOptions: websocket.AcceptOptions{OriginPatterns: o.WebsocketOrigins},
			},
			InitFunc:    afterInit(WebsocketInit()),
			InitTimeout: 10 * time.Second,
			// graphql-transport-ws pings; graphql-ws (legacy) keep-alives.
			PingPongInterval:      keepAlive,
			KeepAlivePingInterval: keepAlive,
		})
	}
	srv.AddTransport(oneResponse{transport.GET{}})
	srv.AddTransport(streaming{transport.MultipartMixed{}})
	srv.AddTransport(streaming{transport.SSE{}})
	if o.Live != nil {
		// Subscriptions over graphql-sse; after the @defer streams, which
		// take only documents using @defer.
		srv.AddTransport(transport.SSE{KeepAlivePingInterval: keepAlive})
	}
	if o.FastPath {
		srv.AddTransport(oneResponse{fastPOST{}})
	} else {
		srv.AddTransport(oneResponse{transport.POST{}})
	}
	if o.QueryCacheBytes > 0 {
		srv.SetQueryCache(newDocuments(o.QueryCacheBytes))
	}
	if o.ParserTokenLimit > 0 {
		srv.SetParserTokenLimit(o.ParserTokenLimit)
	}
	srv.SetValidationRulesFn(limits.Rules(limits.Shape{MaxDepth: o.MaxDepth, MaxAliases: o.MaxAliases, MaxFields: o.ComplexityLimit, NoIntrospection: !o.Introspection}))
	if o.ComplexityLimit > 0 {
		srv.Use(&limits.Complexity{Limit: o.ComplexityLimit, MaxAliases: o.MaxAliases})
	}
	if o.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(serviceSDL{fromGateway: o.FromGateway})
		// "Did you mean …" hints would reveal the schema introspection hides.
		srv.SetDisableSuggestion(true)
	}
	// Before APQ: the gate resolves trusted documents' hashes and refuses
	// what may not run before APQ looks anything up.
	srv.Use(operationGate{maxQueryBytes: o.MaxQueryBytes, trusted: o.Trusted,
		opts: trusted.Options{Only: o.TrustedOnly, Introspection: o.Introspection, Exempt: o.FromGateway}})
	if o.PersistedQueries != nil {
		// After the complexity limit: only operations that pass it persist.
		srv.Use(newPersistedQueries(o.PersistedQueries))
	}
	// Operation hooks: gqlgen runs them in the order they are added, each
	// around the ones after it, and the order matters:
	//  1. refuseDeferWithoutStream (gate.go) refuses @defer where only one answer can
	//     be sent, before anything is read;
	//  2. subscriptionLoaders gives a subscription loaders per event
	//     (subscriptions.go), before anything reads through the request's loaders;
	//  3. fetchDetail chooses what the upstream call asks for and decodes
	//     (detail.go), before the first read, which 4 and 5 make;
	//  4. reportReplayable (with the cache) reads the list, so it knows
	//     which answer a replay depends on (replayable.go);
	//  5. shared execution, innermost: the followers of a shared run skip
	//     only the execution, after 1-4 ran for each of them (sharequeries.go).
	// 0. the run-time bounds (bounds.go), outermost: every hook and field
	//    after them sees the operation's answer budget.
	srv.AroundOperations(aroundOperationBounds)
	srv.AroundFields(boundFields)
	srv.AroundOperations(refuseDeferWithoutStream)
	srv.AroundOperations(refuseTooManyBases(o.MaxBasesPerRequest))
	srv.AroundOperations(subscriptionLoaders)
	srv.AroundOperations(fetchDetail(plans, o.FastPath))
	if o.ReportReplayable {
		srv.AroundOperations(reportReplayable(plans))
	}
	if o.ShareIdenticalQueries {
		shared := newSharedQueries(o.SharePartition)
		if len(o.Observers) > 0 {
			shared.observe = observe.report
		}
		srv.AroundOperations(shared.around)
	}
	// Inside the observers: they and the client see one error order.
	srv.AroundResponses(orderErrors)
	present := ErrorPresenter(o.Logger)
	if !o.Introspection {
		present = withoutSuggestions(present)
	}
	srv.SetErrorPresenter(present)
	srv.SetRecoverFunc(Recover(o.Logger))
	return srv
}

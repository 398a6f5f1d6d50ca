package graph

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
)

// ServerOptions configure the GraphQL handler.
type ServerOptions struct {
	Logger *slog.Logger
	// Introspection enables __schema/__type queries (the playground needs it).
	Introspection bool
	// QueryCacheSize is the number of parsed, validated documents kept.
	QueryCacheSize int
	// PersistedQueries stores automatic persisted queries (APQ); nil turns
	// APQ off.
	PersistedQueries graphql.Cache[string]
	// ShareIdenticalQueries runs identical queries of one caller that are in
	// flight together once (see shared.go); SharePartition, if set, keeps
	// requests apart that differ in a way the document does not show (a
	// cache bypass).
	ShareIdenticalQueries bool
	SharePartition        func(ctx context.Context) string
	// ReportReplayable tells internal/resultcache which responses came
	// from the workspace list alone (see replay.go); on with the cache.
	ReportReplayable bool
	// ParserTokenLimit caps the tokens of a document, before validation,
	// whose cost grows faster than linearly in the document's size.
	ParserTokenLimit int
}

// DefaultServerOptions are the settings used when nothing is configured.
func DefaultServerOptions(log *slog.Logger) ServerOptions {
	return ServerOptions{Logger: log, Introspection: true, QueryCacheSize: 1000, ParserTokenLimit: 15000,
		PersistedQueries: lru.New[string](1000)}
}

// NewServer assembles the gqlgen handler with explicit transports, caches
// and extensions (not the deprecated NewDefaultServer). The caller must put
// loaders on each request's context (loaders.Middleware).
func NewServer(o ServerOptions) *handler.Server {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{}}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	if o.QueryCacheSize > 0 {
		srv.SetQueryCache(lru.New[*ast.QueryDocument](o.QueryCacheSize))
	}
	if o.ParserTokenLimit > 0 {
		srv.SetParserTokenLimit(o.ParserTokenLimit)
	}
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	if o.PersistedQueries != nil {
		srv.Use(persistedQueries{extension.AutomaticPersistedQuery{Cache: o.PersistedQueries}})
	}
	// Decide detail=true/false before resolvers run (see detail.go).
	srv.AroundOperations(fetchDetail)
	if o.ReportReplayable {
		srv.AroundOperations(reportReplayable)
	}
	if o.ShareIdenticalQueries {
		srv.AroundOperations(newSharedQueries(o.SharePartition, nil).around)
	}
	srv.SetErrorPresenter(ErrorPresenter(o.Logger))
	srv.SetRecoverFunc(Recover(o.Logger))
	return srv
}

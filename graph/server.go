package graph

import (
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
	// ParserTokenLimit caps the tokens of a document, before validation,
	// whose cost grows faster than linearly in the document's size.
	ParserTokenLimit int
	// Extensions are added first, so they wrap everything else (tracing).
	Extensions []graphql.HandlerExtension
	// Observers learn about every response (metrics, request logs).
	Observers []Observer
	// Writer performs mutations (the SeaTable client).
	Writer Writer
}

// DefaultServerOptions are the settings used when nothing is configured.
func DefaultServerOptions(log *slog.Logger) ServerOptions {
	return ServerOptions{Logger: log, Introspection: true, QueryCacheSize: 1000, ParserTokenLimit: 15000}
}

// NewServer assembles the gqlgen handler with explicit transports, caches
// and extensions (not the deprecated NewDefaultServer). The caller must put
// loaders on each request's context (loaders.Middleware).
func NewServer(o ServerOptions) *handler.Server {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{Writer: o.Writer}}))
	for _, e := range o.Extensions {
		srv.Use(e)
	}
	if len(o.Observers) > 0 {
		srv.Use(observeExtension{observers: o.Observers})
	}
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
	srv.SetErrorPresenter(ErrorPresenter(o.Logger))
	srv.SetRecoverFunc(Recover(o.Logger))
	return srv
}

package graph

import (
	"log/slog"
)

// testServerOptions are the settings of a default configuration (app.DefaultConfig).
func testServerOptions(log *slog.Logger) ServerOptions {
	return ServerOptions{
		Logger: log, Introspection: true, QueryCacheBytes: DefaultQueryCacheBytes,
		ParserTokenLimit: DefaultParserTokenLimit, MaxDepth: DefaultMaxDepth, MaxAliases: DefaultMaxAliases,
		ComplexityLimit: DefaultComplexityLimit, ListSize: DefaultListSize,
		PersistedQueries: NewAPQStore(APQOptions{MaxEntries: 1000, MaxBytes: DefaultAPQBytes, MaxQueryBytes: DefaultMaxQueryBytes}),
		FastPath:         true,
	}
}

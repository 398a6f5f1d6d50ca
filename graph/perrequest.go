package graph

import (
	"net/http"

	"github.com/seatable-graphql/seatable-graphql/graph/gqlhttp"
	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// WithLoaders builds each request's loaders (graph/loaders) for its caller
// (auth.Middleware runs before) reading through f, and puts them on the
// request's context for the resolvers. The operations of one batch come
// with one request's headers, so one caller: they share one set of loaders,
// and a batch of reads makes one upstream call.
func WithLoaders(f upstream.Lister, opts ...loaders.Option) func(http.Handler) http.Handler {
	type batchLoaders struct{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			var l *loaders.Loaders
			if b := gqlhttp.BatchFrom(ctx); b != nil {
				l = b.Value(batchLoaders{}, func() any {
					return loaders.New(f, auth.From(ctx), append(opts, loaders.ForBatch())...)
				}).(*loaders.Loaders)
			} else {
				l = loaders.New(f, auth.From(ctx), opts...)
			}
			next.ServeHTTP(w, r.WithContext(loaders.NewContext(ctx, l)))
		})
	}
}

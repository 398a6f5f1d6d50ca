package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// persistedQueries is gqlgen's APQ extension with a code on the one error
// it returns without one: a hash that does not match the query sent with
// it is the client's mistake (BAD_USER_INPUT), not an INTERNAL error.
// PERSISTED_QUERY_NOT_FOUND, which clients rely on to resend the query,
// passes through unchanged.
type persistedQueries struct {
	extension.AutomaticPersistedQuery
}

func (p persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	err := p.AutomaticPersistedQuery.MutateOperationParameters(ctx, raw)
	if err != nil && err.Extensions["code"] == nil {
		errcode.Set(err, string(apperr.BadUserInput))
	}
	return err
}

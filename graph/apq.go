package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// persistedQueries is gqlgen's APQ extension with two changes.
//
// It persists a query only once the document has parsed and validated and
// its variables have been coerced: gqlgen's extension stores the text as
// soon as its hash matches, before parsing or authentication, so anyone
// could fill the store with junk. gqlgen's extension is given a cache whose
// Add does nothing; MutateOperationContext, which gqlgen calls only for
// operations that passed every check, stores the text.
//
// And it sets a code on the one error gqlgen returns without one: a hash
// that does not match the query sent with it is the client's mistake
// (BAD_USER_INPUT), not an INTERNAL error. PERSISTED_QUERY_NOT_FOUND, which
// clients rely on to resend the query, passes through unchanged.
type persistedQueries struct {
	apq   extension.AutomaticPersistedQuery
	store graphql.Cache[string]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = persistedQueries{}

func newPersistedQueries(store graphql.Cache[string]) persistedQueries {
	return persistedQueries{apq: extension.AutomaticPersistedQuery{Cache: readOnly{store}}, store: store}
}

func (p persistedQueries) ExtensionName() string { return p.apq.ExtensionName() }

func (p persistedQueries) Validate(s graphql.ExecutableSchema) error { return p.apq.Validate(s) }

func (p persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	err := p.apq.MutateOperationParameters(ctx, raw)
	if err != nil && err.Extensions["code"] == nil {
		errcode.Set(err, string(apperr.BadUserInput))
	}
	return err
}

// MutateOperationContext persists a query sent with its hash, now that it
// is known to be a valid operation.
func (p persistedQueries) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if s := extension.GetApqStats(ctx); s != nil && s.SentQuery {
		p.store.Add(ctx, s.Hash, oc.RawQuery)
	}
	return nil
}

// readOnly is the store as gqlgen's extension sees it: lookups only.
type readOnly struct{ graphql.Cache[string] }

func (readOnly) Add(context.Context, string, string) {}

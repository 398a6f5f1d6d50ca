package graph

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/internal/flight"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
)

// sharedQueries runs identical queries that are in flight at the same time
// once: same caller (token), same document, operation name and variables.
// The followers get the leader's response. They would have read the same
// coalesced upstream answer and so computed the same bytes; sharing the
// execution saves resolving and encoding them again, which for a large
// workspace list costs far more than the upstream call. Mutations are never
// shared, and neither are requests of different callers.
type sharedQueries struct {
	hashKey   []byte
	partition func(ctx context.Context) string
	// observe reports a follower's response (metrics, request log): the
	// leader's went through gqlgen's interceptors inside the run.
	observe func(ctx context.Context, resp *graphql.Response)
	runs    flight.Group[*graphql.Response]
}

func newSharedQueries(partition func(ctx context.Context) string) *sharedQueries {
	return &sharedQueries{hashKey: tokenhash.NewKey(), partition: partition}
}

func (s *sharedQueries) around(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	key, ok := s.key(ctx)
	if !ok {
		return next(ctx)
	}
	// The run is detached from the leader's cancellation (values are kept):
	// a leader that goes away must not fail the requests sharing it. When
	// all of them have gone, the run is cancelled.
	resp, err, joined := s.runs.Do(ctx, key, func(ctx context.Context) (*graphql.Response, error) {
		resp := next(ctx)(ctx)
		if resp == nil {
			resp = &graphql.Response{}
		}
		return resp, nil
	})
	switch {
	case errors.Is(err, flight.ErrLeft):
		return graphql.OneShot(graphql.ErrorResponse(ctx, "request cancelled"))
	case err != nil: // the run panicked
		resp = graphql.ErrorResponse(ctx, "internal system error")
	}
	if joined && s.observe != nil {
		s.observe(ctx, resp)
	}
	return graphql.OneShot(resp)
}

// key identifies a query run; ok is false for anything that must run on
// its own: non-queries and requests without a usable token.
func (s *sharedQueries) key(ctx context.Context) (string, bool) {
	if !graphql.HasOperationContext(ctx) {
		return "", false
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Query || usesDefer(oc.Doc, oc.Operation) {
		// A run keeps one response: a deferred operation has several.
		return "", false
	}
	caller, ok := auth.From(ctx).Hash(s.hashKey)
	if !ok {
		return "", false
	}
	// Most queries have no variables: their text is what json.Marshal
	// would give, without its allocations.
	vars := "null"
	if oc.Variables != nil {
		vars = "{}"
		if len(oc.Variables) > 0 {
			b, err := json.Marshal(oc.Variables) // map keys come out sorted
			if err != nil {
				return "", false
			}
			vars = string(b)
		}
	}
	partition := ""
	if s.partition != nil {
		partition = "\x00" + s.partition(ctx)
	}
	return caller + "\x00" + oc.OperationName + "\x00" + vars + "\x00" + oc.RawQuery + partition, true
}

package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/graph/replay"
)

// reportReplayable tells the HTTP layer (graph/replay) which
// successful responses came from the workspace list alone (the catalogue's
// replay roots, with nothing below them read live from a base or unknown
// to the catalogue: readsOf), and from which list. Reading the list first costs nothing extra: the query needs it
// anyway and the loaders memoise it for the run.
func reportReplayable(plans *planCache) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if !graphql.HasOperationContext(ctx) || !plans.reads(graphql.GetOperationContext(ctx)).replayable {
			return next(ctx)
		}
		return replayable(ctx, next)
	}
}

func replayable(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	l := loaders.For(ctx)
	list, err := l.List(ctx)
	if err != nil {
		return next(ctx)
	}
	detail := list.Detail
	name := graphql.GetOperationContext(ctx).Operation.Name
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp != nil && len(resp.Errors) == 0 {
			replay.Report(ctx, list, detail, name)
		}
		return resp
	}
}

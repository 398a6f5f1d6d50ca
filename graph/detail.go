package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
)

// fetchDetail decides, once per operation and before any resolver runs,
// whether the request's one upstream call needs base lists (detail=true)
// or can use the much cheaper detail=false, and, with selective on, which
// optional base fields the answer needs decoded. Both come from the field
// catalogue (readsOf, catalogue.go), worked out once per document and kept
// beside its plans.
func fetchDetail(plans *planCache, selective bool) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if graphql.HasOperationContext(ctx) {
			oc := graphql.GetOperationContext(ctx)
			if oc.Operation != nil {
				r := plans.reads(oc)
				l := loaders.For(ctx)
				l.SetDetail(r.detail)
				if selective {
					l.SetFields(r.fields)
				}
			}
		}
		return next(ctx)
	}
}

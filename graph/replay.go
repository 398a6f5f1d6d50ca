package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/graph/replay"
)

// listRootFields are the Query fields that read nothing but the workspace
// list. A query made only of these is a pure function of that list, so its
// response may be replayed for as long as the same list is current; any
// other root field (including fields added later) opts the query out.
var listRootFields = map[string]bool{"workspaces": true, "workspace": true, "dtable": true}

// readsOnlyList reports whether op reads the workspace list and nothing else.
func readsOnlyList(op *ast.OperationDefinition) bool {
	if op == nil || op.Operation != ast.Query {
		return false
	}
	reads, other := false, false
	walkFields(op.SelectionSet, map[string]bool{}, func(f *ast.Field) {
		switch {
		case f.Name == "__typename":
		case listRootFields[f.Name]:
			reads = true
		default:
			other = true
		}
	})
	return reads && !other && !opensBases(op.SelectionSet, map[string]bool{})
}

// opensBases reports whether set selects anything inside a base (a
// DTable's tables or table), at any depth: those are read live from the
// base's server, never from the list, so such an answer must not be
// replayed for as long as the list is current.
func opensBases(set ast.SelectionSet, seen map[string]bool) bool {
	found := false
	walkFields(set, seen, func(f *ast.Field) {
		if found {
			return
		}
		if f.ObjectDefinition != nil && f.ObjectDefinition.Name == "DTable" && (f.Name == "tables" || f.Name == "table") {
			found = true
			return
		}
		found = opensBases(f.SelectionSet, seen)
	})
	return found
}

// reportReplayable tells the HTTP layer (graph/replay) which
// successful responses came from the workspace list alone, and from which
// list. Reading the list first costs nothing extra: the query needs it
// anyway and the loaders memoise it for the run.
func reportReplayable(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if !graphql.HasOperationContext(ctx) || !readsOnlyList(graphql.GetOperationContext(ctx).Operation) {
		return next(ctx)
	}
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

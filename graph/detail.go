package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
)

// summaryFields are the Workspace fields SeaTable sends with detail=false.
// It is a whitelist on purpose: any field not named here, including fields
// added later, makes the operation fetch detail=true, so a new field can
// never silently read an incomplete list.
var summaryFields = map[string]bool{
	"id": true, "seatableId": true, "name": true, "type": true, "ownerName": true, "repoId": true,
	"groupId": true, "groupOwner": true, "isAdmin": true, "departmentId": true,
	"__typename": true,
}

// summaryRootFields are the Query fields whose Workspace selections may be
// served by detail=false.
var summaryRootFields = map[string]bool{"workspaces": true, "workspace": true}

// fetchDetail decides, once per operation and before any resolver runs,
// whether the request's one upstream call needs base lists (detail=true)
// or can use the much cheaper detail=false.
func fetchDetail(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation != nil {
			loaders.For(ctx).SetDetail(needsDetail(oc.Operation))
		}
	}
	return next(ctx)
}

// needsDetail reports whether op selects anything detail=false cannot serve.
// Fields under @skip/@include count as selected: over-fetching is safe,
// under-fetching is not.
func needsDetail(op *ast.OperationDefinition) bool {
	if op.Operation != ast.Query {
		return true
	}
	need := false
	walkFields(op.SelectionSet, map[string]bool{}, func(f *ast.Field) {
		switch {
		case f.Name == "__typename" || f.Name == "__schema" || f.Name == "__type":
			// Answered by the executor; reads no SeaTable data.
		case summaryRootFields[f.Name]:
			walkFields(f.SelectionSet, map[string]bool{}, func(wf *ast.Field) {
				if !summaryFields[wf.Name] {
					need = true
				}
			})
		default:
			need = true
		}
	})
	return need
}

// walkFields calls fn for each field of set, looking through inline
// fragments and fragment spreads (each named fragment once).
func walkFields(set ast.SelectionSet, seen map[string]bool, fn func(*ast.Field)) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			fn(s)
		case *ast.InlineFragment:
			walkFields(s.SelectionSet, seen, fn)
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				walkFields(s.Definition.SelectionSet, seen, fn)
			}
		}
	}
}

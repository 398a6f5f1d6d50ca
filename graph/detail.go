package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/upstream"
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
// or can use the much cheaper detail=false, and, with selective on, which
// optional base fields the answer needs decoded (decodeFields).
func fetchDetail(selective bool) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if graphql.HasOperationContext(ctx) {
			oc := graphql.GetOperationContext(ctx)
			if oc.Operation != nil {
				l := loaders.For(ctx)
				l.SetDetail(needsDetail(oc.Operation))
				if selective {
					l.SetFields(decodeFields(oc.Operation))
				}
			}
		}
		return next(ctx)
	}
}

// baseFieldNeeds are the DTable fields whose values are optional in the
// decoder, with what each needs decoded. Every other DTable field reads
// what is always decoded (id, uuid, name, workspace id, star) or, for the
// fields in baseFieldFree, nothing of the base at all.
var baseFieldNeeds = map[string]upstream.Fields{
	"createdAt": upstream.FieldCreatedAt, "updatedAt": upstream.FieldUpdatedAt,
	"creator": upstream.FieldCreator, "modifier": upstream.FieldModifier,
	"color": upstream.FieldColor, "textColor": upstream.FieldTextColor, "icon": upstream.FieldIcon,
	"isEncrypted": upstream.FieldIsEncrypted, "inStorage": upstream.FieldInStorage,
	"permission": upstream.FieldShare, "fromUser": upstream.FieldShare, "fromUserName": upstream.FieldShare,
	"fromUserAvatar": upstream.FieldShare, "fromGroupId": upstream.FieldShare, "fromGroupName": upstream.FieldShare,
	"shareId": upstream.FieldShare, "shareType": upstream.FieldShare, "viewShareId": upstream.FieldShare,
	"sharedName": upstream.FieldShare,
}

// baseFieldFree are the DTable fields that need nothing optional.
var baseFieldFree = map[string]bool{"__typename": true, "id": true, "seatableId": true, "uuid": true, "name": true, "workspaceId": true, "starred": true}

// decodeFields returns the optional base fields op can show. It is a
// whitelist, like summaryFields: a root field other than workspaces and
// workspace, any argument that filters or sorts bases, and any field not
// named here (including fields added later) need every field, so a new
// field can never read a base decoded without it.
func decodeFields(op *ast.OperationDefinition) upstream.Fields {
	if op.Operation != ast.Query {
		return upstream.AllFields
	}
	var need upstream.Fields
	all := false
	var onWorkspace, onBase, onFolder, onView func(ast.SelectionSet)
	onBase = func(set ast.SelectionSet) {
		walkFields(set, map[string]bool{}, func(f *ast.Field) {
			switch {
			case baseFieldFree[f.Name]:
			case baseFieldNeeds[f.Name] != 0:
				need |= baseFieldNeeds[f.Name]
			case f.Name == "workspace":
				onWorkspace(f.SelectionSet)
			case f.Name == "folder":
				onFolder(f.SelectionSet)
			default:
				all = true
			}
		})
	}
	onFolder = func(set ast.SelectionSet) {
		walkFields(set, map[string]bool{}, func(f *ast.Field) {
			switch f.Name {
			case "__typename", "id", "seatableId", "name", "workspaceId", "items":
			case "tables":
				onBase(f.SelectionSet)
			default:
				all = true
			}
		})
	}
	// A view shared into a group: its id and details are share fields of
	// the view's entry.
	onView = func(set ast.SelectionSet) {
		walkFields(set, map[string]bool{}, func(f *ast.Field) {
			switch f.Name {
			case "__typename":
			case "id", "viewShareId", "sharedName", "permission", "fromUser", "fromUserName", "fromUserAvatar":
				need |= upstream.FieldShare
			case "dtable":
				onBase(f.SelectionSet)
			default:
				all = true
			}
		})
	}
	onWorkspace = func(set ast.SelectionSet) {
		walkFields(set, map[string]bool{}, func(f *ast.Field) {
			switch {
			case summaryFields[f.Name], f.Name == "groupAdmins", f.Name == "groupMemberCount",
				f.Name == "sharedViews", f.Name == "shareFolders":
			case f.Name == "tables" && len(f.Arguments) == 0, f.Name == "groupSharedTables":
				onBase(f.SelectionSet)
			case f.Name == "groupSharedViews":
				onView(f.SelectionSet)
			case f.Name == "folders":
				onFolder(f.SelectionSet)
			default:
				all = true
			}
		})
	}
	walkFields(op.SelectionSet, map[string]bool{}, func(f *ast.Field) {
		switch f.Name {
		case "__typename":
		case "workspaces", "workspace":
			onWorkspace(f.SelectionSet)
		default:
			all = true
		}
	})
	if all {
		return upstream.AllFields
	}
	return need
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

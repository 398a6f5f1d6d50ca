package graph

// Apollo Federation reference resolvers (federation.graphqls: @key). A gateway
// sends `_entities(representations:)` with the keys of the objects it wants
// this subgraph to complete; gqlgen groups them by type and key and calls
// one FindMany resolver per group (entity.resolvers.go). Every group of
// objects from the workspace list reads the request's one memoised list
// (graph/loaders), so any number of such representations, of any types,
// costs at most one SeaTable call, like any query; objects inside bases
// (Table, View, Row) cost what node(id:) costs for them (baseEntities).
// The data is the caller's own: a representation naming
// something the token cannot see resolves to null, and can never reach
// another token's data (the loaders belong to one request and one caller).

import (
	"context"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/graph/model"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// resolveEntities answers one group of representations, aligned with keys:
// find is given the request's snapshot and each key, and returns nil for an
// object the token cannot see. parse turns a representation's key into the
// natural key find expects; its error is that representation's alone
// (reported at its index, the others still resolve), while a failed read of
// SeaTable fails the whole group. Every lookup is a map read on the one
// snapshot, as in resolvers and the fast path (graph/loaders).
func resolveEntities[T any](ctx context.Context, keys []string, parse func(string) (string, error), find func(*loaders.Snapshot, string) *T) ([]*T, error) {
	snap, err := loaders.For(ctx).Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*T, len(keys))
	var errs graphql.BatchErrorList
	for i, k := range keys {
		key, err := parse(k)
		if err != nil {
			if errs == nil {
				errs = make(graphql.BatchErrorList, len(keys))
			}
			errs[i] = err
			continue
		}
		out[i] = find(snap, key)
	}
	if errs != nil {
		return out, errs
	}
	return out, nil
}

// globalKey parses a representation's global id of type kind into its
// natural key; an id of another type, or one this server did not make, is
// BAD_USER_INPUT, as in node(id:).
func globalKey(kind string) func(string) (string, error) {
	return func(id string) (string, error) {
		k, key, ok := parseGlobalID(id)
		if !ok || k != kind {
			return "", badID(id)
		}
		return key, nil
	}
}

// asIs takes a representation's key as the natural key (a seatableId).
func asIs(key string) (string, error) { return key, nil }

// uuidKey normalises a base uuid (32 or 36 characters, any case).
func uuidKey(u string) (string, error) {
	n := upstream.NormalizeUUID(u)
	if n == "" {
		return "", badID(u)
	}
	return n, nil
}

// The lookups, one per entity type: the same as node(id:)'s (globalid.go).

// dtableEntity is a base the caller sees, or sees only through a view shared
// into a group, as node(id:) resolves it.
func dtableEntity(snap *loaders.Snapshot, uuid string) *upstream.DTable { return snap.ViewBase(uuid) }

func workspaceEntity(snap *loaders.Snapshot, id string) *upstream.Workspace {
	return snap.Workspace(id)
}

func folderEntity(snap *loaders.Snapshot, key string) *upstream.Folder {
	f, _ := findFolderNode(snap, kindFolder, key).(*upstream.Folder)
	return f
}

func folderItemEntity(snap *loaders.Snapshot, key string) *model.FolderItem {
	it, _ := findFolderNode(snap, kindFolderItem, key).(*model.FolderItem)
	return it
}

func sharedViewEntity(snap *loaders.Snapshot, id string) *upstream.SharedView {
	v, _ := findSharedView(snap, id).(*upstream.SharedView)
	return v
}

func shareFolderEntity(snap *loaders.Snapshot, id string) *upstream.ShareFolder {
	f, _ := findShareFolder(snap, id).(*upstream.ShareFolder)
	return f
}

func groupSharedViewEntity(snap *loaders.Snapshot, key string) *model.GroupSharedView {
	v, _ := findGroupSharedView(snap, key).(*model.GroupSharedView)
	return v
}

// repKeys collects one key of each representation.
func repKeys[R any](reps []*R, key func(*R) string) []string {
	out := make([]string, len(reps))
	for i, r := range reps {
		out[i] = key(r)
	}
	return out
}

// serviceSDL decides, with introspection off, who may read federation's
// `_service { sdl }` (the whole schema): a gateway that sent GATEWAY_SECRET
// may, since composition needs it; anyone else is refused as __schema is,
// during validation, with the same code, instead of gqlgen's unclassified
// execution error.
type serviceSDL struct{ fromGateway func(context.Context) bool }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = serviceSDL{}

func (serviceSDL) ExtensionName() string                   { return "FederationServiceSDL" }
func (serviceSDL) Validate(graphql.ExecutableSchema) error { return nil }

func (s serviceSDL) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || !selectsRoot(oc.Operation.SelectionSet, oc.Doc.Fragments, "_service") {
		return nil
	}
	if s.fromGateway != nil && s.fromGateway(ctx) {
		oc.DisableIntrospection = false // the generated _service resolver checks it
		return nil
	}
	err := gqlerror.Errorf("introspection is disabled on this server: _service { sdl } answers a federation gateway that sends GATEWAY_SECRET")
	errcode.Set(err, errcode.ValidationFailed)
	return err
}

// selectsRoot reports whether a selection set selects field name at its
// top level, through fragments too.
func selectsRoot(set ast.SelectionSet, frags ast.FragmentDefinitionList, name string) bool {
	seen := map[string]bool{}
	var walk func(ast.SelectionSet) bool
	walk = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Name == name {
					return true
				}
			case *ast.InlineFragment:
				if walk(s.SelectionSet) {
					return true
				}
			case *ast.FragmentSpread:
				if seen[s.Name] {
					continue
				}
				seen[s.Name] = true
				if f := frags.ForName(s.Name); f != nil && walk(f.SelectionSet) {
					return true
				}
			}
		}
		return false
	}
	return walk(set)
}

// baseEntities resolves representations of the objects inside bases
// (Table, View, Row) as node(id:) does (resolveBaseNode): through the
// request's base loaders, so they cost the same SeaTable calls as
// nodes(ids:) with the same ids (the list once, each base's metadata once,
// a row read per row) and meet the same limits (MAX_BASES_PER_REQUEST,
// BASE_CONCURRENCY). They run side by side, as nodes(ids:)'s elements do,
// so that the loaders see them together.
func baseEntities[T any](ctx context.Context, kind string, ids []string) ([]*T, error) {
	out := make([]*T, len(ids))
	errs := make(graphql.BatchErrorList, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					errs[i] = apperr.Wrap(apperr.Internal, "internal error", fmt.Errorf("panic resolving a %s entity: %v", kind, p))
				}
			}()
			if k, _, ok := parseGlobalID(id); !ok || k != kind {
				errs[i] = badID(id)
				return
			}
			n, err := resolveNode(ctx, id)
			if err != nil {
				errs[i] = err
				return
			}
			out[i], _ = n.(*T)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return out, errs
		}
	}
	return out, nil
}

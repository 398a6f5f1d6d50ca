package graph

// Mutation plumbing. Every mutation resolver makes at most one write and
// then calls loaders.For(ctx).Invalidate, also when the write failed: a write
// that timed out or got a 5xx may still have happened upstream, and a cached
// list must not hide that.

import (
	"context"
	"fmt"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/graph/model"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// writeAccess returns the writer and the caller's token, or why a write
// cannot be made. It makes no upstream call.
func (r *Resolver) writeAccess(ctx context.Context) (Writer, string, error) {
	if r.Writer == nil {
		return nil, "", apperr.New(apperr.Internal, "mutations are not configured")
	}
	token, err := auth.From(ctx).WriteToken()
	if err != nil {
		return nil, "", err
	}
	return r.Writer, token, nil
}

// currentBase resolves a uuid argument to the base as SeaTable lists it
// now: SeaTable's write endpoints address bases by workspace id and name,
// and a name read from a cache may since have moved to another base. The
// read goes straight to the client (see Writer), never through the
// request's loaders.
func currentBase(ctx context.Context, w Writer, token, uuid string) (*upstream.DTable, error) {
	u, err := uuidArg(uuid)
	if err != nil {
		return nil, err
	}
	list, err := w.ListWorkspaces(ctx, token, upstream.Read{Detail: true})
	if err != nil {
		return nil, fmt.Errorf("read before write: %w", err)
	}
	d := loaders.NewSnapshot(list).DTable(u)
	if d == nil {
		return nil, apperr.New(apperr.NotFound, fmt.Sprintf("no base with uuid %s is visible to this token", u))
	}
	if _, err := strconv.ParseUint(d.WorkspaceID, 10, 64); err != nil {
		return nil, apperr.New(apperr.NotFound, fmt.Sprintf("the workspace of base %s is not known", d.UUID))
	}
	return d, nil
}

// baseByName resolves a uuid argument for a write that SeaTable
// addresses by workspace and name and whose answer names no base (delete,
// copy), so a wrong base cannot be caught afterwards as updateDTable
// catches it (sameBase). It reads the list twice: currentBase, then once
// more right before the write, which must find the name in the workspace
// still meaning this base and no other. A concurrent rename between the
// first read and the second is a CONFLICT, nothing written. What remains
// is the time between the second read and SeaTable's handling of the
// write (one round trip): a rename landing exactly then still makes
// SeaTable act on the base that took the name; only SeaTable addressing
// bases by uuid would close it.
func baseByName(ctx context.Context, w Writer, token, uuid string) (*upstream.DTable, error) {
	d, err := currentBase(ctx, w, token, uuid)
	if err != nil {
		return nil, err
	}
	list, err := w.ListWorkspaces(ctx, token, upstream.Read{Detail: true})
	if err != nil {
		return nil, fmt.Errorf("read again before write: %w", err)
	}
	found := false
	for _, o := range loaders.NewSnapshot(list).DTables() {
		if o.WorkspaceID != d.WorkspaceID || o.Name != d.Name {
			continue
		}
		if o.UUID != d.UUID {
			return nil, apperr.New(apperr.Conflict, fmt.Sprintf("base %s was renamed concurrently, and its name %q now means base %s: nothing was changed; read the bases again before retrying", d.UUID, d.Name, o.UUID))
		}
		found = true
	}
	if !found {
		return nil, apperr.New(apperr.Conflict, fmt.Sprintf("base %s was renamed, moved or deleted concurrently: nothing was changed; read the bases again before retrying", d.UUID))
	}
	return d, nil
}

// sameBase checks that a write SeaTable made by workspace and name changed
// the base the caller named: a concurrent rename can give another base
// that name between the read before the write and the write, and SeaTable
// then changes that base and answers with it. got is SeaTable's answer (nil
// when it carried no base: nothing to compare).
func sameBase(want, got *upstream.DTable) error {
	if got == nil || got.UUID == want.UUID {
		return nil
	}
	return apperr.New(apperr.Conflict, fmt.Sprintf("base %s was renamed concurrently, and SeaTable changed base %s, which took its name, instead: read the bases again before retrying", want.UUID, got.UUID))
}

// uuidArg normalises a uuid argument without reading anything.
func uuidArg(uuid string) (string, error) {
	u := upstream.NormalizeUUID(uuid)
	if u == "" {
		return "", apperr.New(apperr.BadUserInput, "uuid must be 32 hex characters, or 36 with dashes")
	}
	return u, nil
}

// workspaceIDArg checks a numeric workspace id argument.
func workspaceIDArg(name, id string) error {
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return apperr.New(apperr.BadUserInput, fmt.Sprintf("%s must be a workspace's seatableId (numeric) or global id", name))
	}
	return nil
}

// readBack finds a base after a write whose answer carried none usable:
// one read of the fresh workspace list.
func readBack(ctx context.Context, find func(*loaders.Snapshot) *upstream.DTable) (*upstream.DTable, error) {
	snap, err := loaders.For(ctx).Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("read back after write: %w", err)
	}
	return find(snap), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// star stars or unstars without reading first: the endpoint takes the uuid.
func (r *Resolver) star(ctx context.Context, uuid string, on bool) (*model.StarDTablePayload, error) {
	w, token, err := r.writeAccess(ctx)
	if err != nil {
		return nil, err
	}
	u, err := uuidArg(uuid)
	if err != nil {
		return nil, err
	}
	if on {
		err = w.StarDTable(ctx, token, u)
	} else {
		err = w.UnstarDTable(ctx, token, u)
	}
	loaders.For(ctx).Invalidate(ctx)
	if err != nil {
		return nil, err
	}
	return &model.StarDTablePayload{UUID: u, Starred: on}, nil
}

// nonNil turns an absent upstream list into the empty list the schema
// promises.
func nonNil[T any](l []*T) []*T {
	if l == nil {
		return []*T{}
	}
	return l
}

// starFields are the DTable fields a star or unstar answers without reading:
// the base's identity and the star the write set.
var starFields = map[string]bool{"id": true, "uuid": true, "starred": true, "__typename": true}

// knownFromStar reports whether every selected field is in starFields.
func knownFromStar(fields []graphql.CollectedField) bool {
	for _, f := range fields {
		if !starFields[f.Name] {
			return false
		}
	}
	return true
}

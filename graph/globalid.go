package graph

// Global object identification (the Relay specification). Every object
// with an identity has an `id` that is unique across types and stable
// across requests and releases, so that normalised client caches (Relay,
// Apollo's InMemoryCache, urql's graphcache) never merge two objects and
// can read any of them again with node(id:). SeaTable's own ids repeat
// across types ("1" is a workspace and a folder) and are kept in
// `seatableId`.
//
// A global id is the URL-safe base64 (no padding) of "<Type>:<natural key>".
// The natural keys are what SeaTable keeps stable: a base's uuid (its
// numeric id is absent from some listings), a workspace's id, a folder's
// workspace and folder id. The format is opaque to clients; changing it
// would break every client cache and stored link, so it must not change.

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"unsafe"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/graph/model"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// The type names in global ids: the schema's type names.
const (
	kindWorkspace       = "Workspace"
	kindDTable          = "DTable"
	kindFolder          = "Folder"
	kindFolderItem      = "FolderItem"
	kindSharedView      = "SharedView"
	kindShareFolder     = "ShareFolder"
	kindGroupSharedView = "GroupSharedView"
	// Inside a base (bases.go): the base's uuid and SeaTable's ids.
	kindTable = "Table"
	kindView  = "View"
	kindRow   = "Row"
)

var nodeKinds = map[string]bool{
	kindWorkspace: true, kindDTable: true, kindFolder: true, kindFolderItem: true,
	kindSharedView: true, kindShareFolder: true, kindGroupSharedView: true,
	kindTable: true, kindView: true, kindRow: true,
}

var idEncoding = base64.RawURLEncoding.Strict()

// globalID makes the global id of the object of type kind with key.
//
// It is on the hot path (an id per object answered), so it makes one
// allocation: the plain text is assembled on the stack when short, and the
// encoding is written into a buffer that becomes the string without a copy.
func globalID(kind, key string) string {
	var stack [128]byte
	src := append(append(append(stack[:0], kind...), ':'), key...)
	dst := make([]byte, idEncoding.EncodedLen(len(src)))
	idEncoding.Encode(dst, src)
	// dst is never written again: the string may share it.
	return unsafe.String(unsafe.SliceData(dst), len(dst))
}

// parseGlobalID splits a global id; ok is false for anything globalID did
// not make.
func parseGlobalID(id string) (kind, key string, ok bool) {
	raw, err := idEncoding.DecodeString(id)
	if err != nil {
		return "", "", false
	}
	kind, key, found := strings.Cut(string(raw), ":")
	if !found || !nodeKinds[kind] {
		return "", "", false
	}
	return kind, key, true
}

// badID is the error for an id this server did not make.
func badID(id string) error {
	if len(id) > 80 {
		id = id[:80] + "…"
	}
	return apperr.New(apperr.BadUserInput, "not a global id of this API: "+strconv.Quote(id))
}

// emptyID is the error for an id argument given as "": Go clients such as
// genqlient send an unset optional ID that way, and reading it as "no such
// object" would answer null and hide the mistake.
func emptyID(arg, want string) error {
	return apperr.New(apperr.BadUserInput, arg+" must not be empty: give "+want)
}

// workspaceKey turns a workspace argument into SeaTable's workspace id: a
// global Workspace id is decoded, anything else is taken as a seatableId
// (arguments accept both, so that clients can pass the id they hold).
func workspaceKey(id string) string {
	if kind, key, ok := parseGlobalID(id); ok && kind == kindWorkspace {
		return key
	}
	return id
}

func workspaceGlobalID(ws *upstream.Workspace) string { return globalID(kindWorkspace, ws.ID) }

func dtableGlobalID(d *upstream.DTable) string { return globalID(kindDTable, d.UUID) }

// folderKey is a folder's natural key: the workspace holding it and its id
// (SeaTable numbers folders per server today, but says nothing about it).
func folderKey(wsID, folderID string) string { return wsID + ":" + folderID }

func folderItemKey(folder string, it *upstream.FolderItem) string {
	return folder + ":" + it.ItemType + ":" + it.ItemID
}

// folderItems wraps a folder's entries with their global ids.
func folderItems(wsID string, f *upstream.Folder) []*model.FolderItem {
	fk := folderKey(wsID, f.ID)
	out := make([]*model.FolderItem, len(f.Items))
	for i := range f.Items {
		it := &f.Items[i]
		out[i] = &model.FolderItem{ID: globalID(kindFolderItem, folderItemKey(fk, it)), ItemType: it.ItemType, ItemID: it.ItemID}
	}
	return out
}

// resolveNode reads the object with global id through the request's
// loaders: one memoised upstream call, whatever the type and however many
// ids a request resolves. A nil Node with a nil error is an object the
// token cannot see.
func resolveNode(ctx context.Context, id string) (model.Node, error) {
	kind, key, ok := parseGlobalID(id)
	if !ok {
		return nil, badID(id)
	}
	l := loaders.For(ctx)
	switch kind {
	case kindWorkspace:
		ws, err := l.WorkspaceByID(ctx, key)
		if err != nil || ws == nil {
			return nil, err
		}
		return ws, nil
	case kindDTable:
		if upstream.NormalizeUUID(key) != key {
			return nil, badID(id)
		}
		d, err := l.DTableByUUID(ctx, key)
		if err != nil {
			return nil, err
		}
		if d == nil {
			// A base seen only through a view shared into a group.
			snap, err := l.Snapshot(ctx)
			if err != nil {
				return nil, err
			}
			if d = snap.ViewBase(key); d == nil {
				return nil, nil
			}
		}
		return d, nil
	case kindTable, kindView, kindRow:
		return resolveBaseNode(ctx, id, kind, key)
	}
	snap, err := l.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var n model.Node
	switch kind {
	case kindFolder, kindFolderItem:
		n = findFolderNode(snap, kind, key)
	case kindSharedView:
		n = findSharedView(snap, key)
	case kindShareFolder:
		n = findShareFolder(snap, key)
	case kindGroupSharedView:
		n = findGroupSharedView(snap, key)
	}
	return n, nil
}

func findFolderNode(snap *loaders.Snapshot, kind, key string) model.Node {
	wsID, rest, _ := strings.Cut(key, ":")
	folderID, _, _ := strings.Cut(rest, ":")
	ws := snap.Workspace(wsID)
	if ws == nil {
		return nil
	}
	for _, f := range ws.Folders {
		if f.ID != folderID {
			continue
		}
		if kind == kindFolder {
			if key != folderKey(ws.ID, f.ID) {
				return nil
			}
			return f
		}
		for _, it := range folderItems(ws.ID, f) {
			if it.ID == globalID(kindFolderItem, key) {
				return it
			}
		}
	}
	return nil
}

func findSharedView(snap *loaders.Snapshot, key string) model.Node {
	for _, ws := range snap.List.Workspaces {
		for _, v := range ws.SharedViews {
			if v.ID == key {
				return v
			}
		}
	}
	return nil
}

func findShareFolder(snap *loaders.Snapshot, key string) model.Node {
	for _, ws := range snap.List.Workspaces {
		for _, f := range ws.ShareFolders {
			if f.ID == key {
				return f
			}
		}
	}
	return nil
}

// groupSharedViewKey is a view share's natural key: the group workspace it
// is shared into and SeaTable's view-share id (the view's base and name
// where a server sends no id).
func groupSharedViewKey(wsID string, v *upstream.DTable) string {
	if v.ViewShareID != nil && *v.ViewShareID != "" {
		return wsID + ":" + *v.ViewShareID
	}
	name := ""
	if v.SharedName != nil {
		name = *v.SharedName
	}
	return wsID + "::" + v.UUID + ":" + name
}

// groupSharedViews splits a group workspace's view entries, which SeaTable
// sends as the base's fields plus the view's, into views with their base.
func groupSharedViews(snap *loaders.Snapshot, ws *upstream.Workspace) []*model.GroupSharedView {
	out := make([]*model.GroupSharedView, 0, len(ws.GroupSharedViews))
	for _, v := range ws.GroupSharedViews {
		out = append(out, &model.GroupSharedView{
			ID:          globalID(kindGroupSharedView, groupSharedViewKey(ws.ID, v)),
			ViewShareID: v.ViewShareID, SharedName: v.SharedName, Permission: v.Permission,
			FromUser: v.FromUser, FromUserName: v.FromUserName, FromUserAvatar: v.FromUserAvatar,
			DTable: snap.ViewBase(v.UUID),
		})
	}
	return out
}

func findGroupSharedView(snap *loaders.Snapshot, key string) model.Node {
	wsID, _, _ := strings.Cut(key, ":")
	ws := snap.Workspace(wsID)
	if ws == nil {
		return nil
	}
	for _, v := range groupSharedViews(snap, ws) {
		if v.ID == globalID(kindGroupSharedView, key) {
			return v
		}
	}
	return nil
}

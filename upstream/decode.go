package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// errUnknownShape means the body is JSON but not the shape of any known
// generation of the workspace list.
var errUnknownShape = errors.New("not a SeaTable workspace list")

// DecodeWorkspaceListBytes decodes a GET /api/v2.1/workspaces/ body of any
// known generation. It fails only when the body is not JSON or has no
// workspace_list array; odd fields and odd entries are tolerated. The
// list's strings share body's memory (decoding copies no text), so body
// must not be changed afterwards.
func DecodeWorkspaceListBytes(body []byte) (*WorkspaceList, error) {
	return decodeWorkspaceList(body, AllFields)
}

// decodeWorkspaceList decodes body, leaving out the optional base fields
// not in fields.
func decodeWorkspaceList(body []byte, fields Fields) (*WorkspaceList, error) {
	b := newListBuilder(fields)
	starred, found, err := scanWorkspaceList(body, fields, b)
	if err != nil {
		return nil, fmt.Errorf("decode workspace list: %w", err)
	}
	if !found {
		return nil, fmt.Errorf("decode workspace list: workspace_list missing or not an array: %w", errUnknownShape)
	}
	list := b.finish(starred)
	list.BodyBytes = len(body)
	return list, nil
}

// sizeHint returns how many bytes r will yield when it can tell, else 0.
func sizeHint(r io.Reader) int64 {
	switch h := r.(type) {
	case interface{ SizeHint() int64 }: // the client's response body
		return h.SizeHint()
	case interface{ Len() int }: // bytes.Reader, strings.Reader, bytes.Buffer
		return int64(h.Len())
	}
	return 0
}

// readBody reads r to the end into one buffer, sized up front when the
// length is known (sizeHint > 0), so a large body is not copied while the
// buffer grows.
func readBody(r io.Reader, sizeHint int64) ([]byte, error) {
	const maxHint = 256 << 20
	if sizeHint <= 0 || sizeHint > maxHint {
		sizeHint = 32 << 10
	}
	buf := bytes.NewBuffer(make([]byte, 0, sizeHint+bytes.MinRead))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// normalize turns wire workspaces into the list, as the scanner's builder
// does workspace by workspace.
func normalize(entries []wireWorkspace, starredTop []wireDTable) *WorkspaceList {
	b := newListBuilder(AllFields)
	for i := range entries {
		b.add(&entries[i])
	}
	return b.finish(starredTop)
}

// listBuilder normalises a list one workspace at a time.
type listBuilder struct {
	a       arena
	out     *WorkspaceList
	starred map[string]bool
}

func newListBuilder(fields Fields) *listBuilder {
	return &listBuilder{out: &WorkspaceList{Fields: fields}, starred: map[string]bool{}}
}

// reset forgets the workspaces added so far.
func (b *listBuilder) reset() {
	b.out.Workspaces = nil
	clear(b.starred)
}

// add normalises w; it keeps no reference to w.
func (b *listBuilder) add(w *wireWorkspace) {
	ws := normalizeWorkspace(&b.a, w)
	b.out.Workspaces = append(b.out.Workspaces, ws)
	for _, d := range ws.Tables {
		if d.Starred || ws.Type == WorkspaceStarred {
			b.starred[d.UUID] = true
		}
	}
	for _, d := range ws.GroupSharedTables {
		if d.Starred {
			b.starred[d.UUID] = true
		}
	}
}

// finish marks the bases starred anywhere (including the 2020 top-level
// starred_dtable_list) as starred everywhere they are listed.
func (b *listBuilder) finish(starredTop []wireDTable) *WorkspaceList {
	for _, d := range starredTop {
		if u := NormalizeUUID(d.UUID.Value); u != "" {
			b.starred[u] = true
		}
	}
	if b.out.Workspaces == nil {
		b.out.Workspaces = []*Workspace{}
	}
	if len(b.starred) == 0 {
		return b.out
	}
	// Few bases are starred: comparing with each is cheaper than hashing
	// every uuid of a large list.
	var few []string
	if len(b.starred) <= 8 {
		for u := range b.starred {
			few = append(few, u)
		}
	}
	isStarred := func(u string) bool {
		if few == nil {
			return b.starred[u]
		}
		for _, s := range few {
			if s == u {
				return true
			}
		}
		return false
	}
	for _, ws := range b.out.Workspaces {
		for _, list := range [][]*DTable{ws.Tables, ws.GroupSharedTables, ws.GroupSharedViews} {
			for _, d := range list {
				if !d.Starred && isStarred(d.UUID) {
					d.Starred = true
				}
			}
		}
	}
	return b.out
}

func normalizeWorkspace(a *arena, w *wireWorkspace) *Workspace {
	ws := &Workspace{
		ID:               w.ID.id(),
		Type:             workspaceType(w),
		OwnerName:        a.str(w.OwnerName),
		RepoID:           a.str(w.RepoID),
		GroupOwner:       a.str(w.GroupOwner),
		GroupAdmins:      []string(w.GroupAdmins),
		GroupMemberCount: w.GroupMemberCount.ptr(),
		IsAdmin:          a.bool(w.IsAdmin),
	}
	if g := w.GroupID.id(); g != "" {
		ws.GroupID = &g
	}
	if d := w.DepartmentID.id(); d != "" {
		ws.DepartmentID = &d
	}
	switch {
	case w.Name.Set && w.Name.Value != "":
		ws.Name = w.Name.Value
	case w.OwnerName.Set:
		ws.Name = w.OwnerName.Value
	}
	if ws.ID == "" && (ws.Type == WorkspaceStarred || ws.Type == WorkspaceShared) {
		ws.ID = string(ws.Type)
	}
	// Bases without their own workspace_id belong to the entry listing them,
	// unless that entry is a pseudo-workspace with no real id.
	home := ""
	if ws.Type != WorkspaceStarred && ws.Type != WorkspaceShared {
		home = ws.ID
	}
	tables := w.TableList
	if ws.Type == WorkspaceShared {
		tables = w.SharedTableList
	}
	ws.Tables = normalizeDTables(a, tables, home)
	ws.GroupSharedTables = normalizeDTables(a, w.GroupSharedDTabs, "")
	ws.GroupSharedViews = normalizeDTables(a, w.GroupSharedViews, "")
	for i := range w.SharedViewList {
		ws.SharedViews = append(ws.SharedViews, normalizeSharedView(a, &w.SharedViewList[i]))
	}
	for i := range w.Folders {
		ws.Folders = append(ws.Folders, normalizeFolder(&w.Folders[i]))
	}
	for _, f := range w.ShareFolders {
		ws.ShareFolders = append(ws.ShareFolders, &ShareFolder{ID: f.ID.id(), Name: f.Name.Value, Username: a.str(f.Username)})
	}
	return ws
}

func workspaceType(w *wireWorkspace) WorkspaceType {
	t := strings.ToLower(strings.TrimSpace(w.Type.Value))
	if t == "" {
		// 2020 servers said owner_type "Personal" / "Group" instead.
		t = strings.ToLower(strings.TrimSpace(w.OwnerType.Value))
	}
	switch WorkspaceType(t) {
	case WorkspacePersonal, WorkspaceGroup, WorkspaceStarred, WorkspaceShared:
		return WorkspaceType(t)
	}
	return ""
}

// normalizeDTables takes the bases from the arena's blocks: a list of
// hundreds of bases is a few allocations, not hundreds.
func normalizeDTables(a *arena, in []wireDTable, home string) []*DTable {
	out := make([]*DTable, 0, len(in))
	for i := range in {
		uuid := NormalizeUUID(in[i].UUID.Value)
		if uuid == "" {
			continue // not a base: never takes a slot
		}
		d := a.dtable()
		fillDTable(a, d, &in[i], uuid, home)
		out = append(out, d)
	}
	return out
}

// normalizeDTable fills d from w; false for an entry with no usable uuid:
// without one a base can be neither identified nor looked up.
func normalizeDTable(a *arena, d *DTable, w *wireDTable, home string) bool {
	uuid := NormalizeUUID(w.UUID.Value)
	if uuid == "" {
		return false
	}
	fillDTable(a, d, w, uuid, home)
	return true
}

// fillDTable fills d from w, whose normalised uuid is uuid.
func fillDTable(a *arena, d *DTable, w *wireDTable, uuid, home string) {
	*d = DTable{
		ID:             w.ID.id(),
		UUID:           uuid,
		Name:           w.Name.Value,
		WorkspaceID:    w.WorkspaceID.id(),
		CreatedAt:      a.time(w.CreatedAt),
		UpdatedAt:      a.time(w.UpdatedAt),
		Creator:        a.str(w.Creator),
		Modifier:       a.str(w.Modifier),
		Color:          a.str(w.Color),
		TextColor:      a.str(w.TextColor),
		Icon:           a.str(w.Icon),
		Starred:        w.Starred.Value,
		IsEncrypted:    a.bool(w.IsEncrypted),
		InStorage:      a.bool(w.InStorage),
		Permission:     a.str(w.Permission),
		FromUser:       a.str(w.FromUser),
		FromUserName:   a.str(w.FromUserName),
		FromUserAvatar: a.str(w.FromUserAvatar),
		FromGroupID:    a.str(w.FromGroupID),
		FromGroupName:  a.str(w.FromGroupName),
		ShareID:        a.str(w.ShareID),
		ShareType:      a.str(w.ShareType),
		ViewShareID:    a.str(w.ViewShareID),
		SharedName:     a.str(w.SharedName),
	}
	if d.ShareID == nil {
		d.ShareID = a.str(w.DTableShareID)
	}
	if d.WorkspaceID == "" {
		d.WorkspaceID = home
	}
}

func normalizeSharedView(a *arena, w *wireSharedView) *SharedView {
	v := &SharedView{
		ID:             w.ID.id(),
		DTableName:     w.DTableName.Value,
		FromUser:       a.str(w.FromUser),
		FromUserName:   a.str(w.FromUserName),
		FromUserAvatar: a.str(w.FromUserAvatar),
		ToUser:         a.str(w.ToUser),
		ToUserName:     a.str(w.ToUserName),
		Permission:     a.str(w.Permission),
		TableID:        a.str(w.TableID),
		ViewID:         a.str(w.ViewID),
		SharedName:     a.str(w.SharedName),
		Color:          a.str(w.Color),
		TextColor:      a.str(w.TextColor),
		Icon:           a.str(w.Icon),
		ShareID:        a.str(w.ShareID),
		ShareType:      a.str(w.ShareType),
	}
	if id := w.WorkspaceID.id(); id != "" {
		v.WorkspaceID = &id
	}
	return v
}

func normalizeFolder(w *wireFolder) *Folder {
	f := &Folder{ID: w.ID.id(), Name: w.Name.Value}
	if id := w.WorkspaceID.id(); id != "" {
		f.WorkspaceID = &id
	}
	for _, it := range w.Items {
		item := FolderItem{ItemType: it.ItemType.Value, ItemID: it.ItemID.Value}
		if u := NormalizeUUID(item.ItemID); u != "" {
			item.ItemID = u
		}
		f.Items = append(f.Items, item)
	}
	return f
}

// NormalizeUUID returns u as 36 lower-case characters with dashes, accepting
// the 32-hex form older servers and JWTs use. It returns "" when u is not a
// UUID in either form.
func NormalizeUUID(u string) string {
	if isCanonicalUUID(u) {
		// What current servers send: no work, no allocation.
		return u
	}
	u = strings.ToLower(strings.TrimSpace(u))
	u = strings.TrimSuffix(strings.TrimPrefix(u, "{"), "}")
	hex := strings.ReplaceAll(u, "-", "")
	if len(hex) != 32 || (len(u) != 32 && len(u) != 36) {
		return ""
	}
	for _, c := range hex {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return ""
		}
	}
	if len(u) == 36 && (u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-') {
		return ""
	}
	return hex[0:8] + "-" + hex[8:12] + "-" + hex[12:16] + "-" + hex[16:20] + "-" + hex[20:32]
}

// isCanonicalUUID reports whether u is already 36 lower-case characters with
// dashes in place.
func isCanonicalUUID(u string) bool {
	if len(u) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := u[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

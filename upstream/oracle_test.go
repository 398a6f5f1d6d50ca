package upstream

// The decoder before the one-pass scanner, kept as the tests' oracle: wire
// structs mirroring every generation of GET /api/v2.1/workspaces/, decoded
// by encoding/json through the loose types' UnmarshalJSON, then normalised
// into the models. scan_test.go compares the scanner with it on every
// fixture and under fuzzing. It is deliberately independent of the
// production decoder (decode.go, scan.go, fields.go): only the loose
// types, NormalizeUUID and parseTime are shared.

import (
	"encoding/json"
	"strings"
	"time"
)

// Wire structs mirror GET /api/v2.1/workspaces/ as the union of all four
// response generations (see ../shared/upstream-contract.md section 3). Every
// field is loose; normalisation into the public models happens in decode.go.

type wireWorkspaceList struct {
	// Kept raw so a missing or non-array list is told apart from an empty one.
	WorkspaceList json.RawMessage       `json:"workspace_list"`
	Starred       looseList[wireDTable] `json:"starred_dtable_list"` // 2020 CN docs only
}

type wireWorkspace struct {
	ID               looseString                `json:"id"`
	Name             looseString                `json:"name"`
	Type             looseString                `json:"type"`
	OwnerType        looseString                `json:"owner_type"`
	OwnerName        looseString                `json:"owner_name"`
	RepoID           looseString                `json:"repo_id"`
	GroupID          looseString                `json:"group_id"`
	GroupOwner       looseString                `json:"group_owner"`
	GroupAdmins      looseStrings               `json:"group_admins"`
	GroupMemberCount looseInt                   `json:"group_member_count"`
	IsAdmin          looseBool                  `json:"is_admin"`
	DepartmentID     looseString                `json:"department_id"`
	TableList        looseList[wireDTable]      `json:"table_list"`
	SharedTableList  looseList[wireDTable]      `json:"shared_table_list"`
	SharedViewList   looseList[wireSharedView]  `json:"shared_view_list"`
	GroupSharedDTabs looseList[wireDTable]      `json:"group_shared_dtables"`
	GroupSharedViews looseList[wireDTable]      `json:"group_shared_views"`
	Folders          looseList[wireFolder]      `json:"folders"`
	ShareFolders     looseList[wireShareFolder] `json:"share_folders"`
}

type wireDTable struct {
	ID          looseString `json:"id"`
	WorkspaceID looseString `json:"workspace_id"`
	UUID        looseString `json:"uuid"`
	Name        looseString `json:"name"`
	Creator     looseString `json:"creator"`
	Modifier    looseString `json:"modifier"`
	CreatedAt   looseString `json:"created_at"`
	UpdatedAt   looseString `json:"updated_at"`
	Color       looseString `json:"color"`
	TextColor   looseString `json:"text_color"`
	Icon        looseString `json:"icon"`
	Starred     looseBool   `json:"starred"`
	IsEncrypted looseBool   `json:"is_encrypted"`
	InStorage   looseBool   `json:"in_storage"`

	// Present on shared, group-shared and starred-via-share entries.
	Permission     looseString `json:"permission"`
	FromUser       looseString `json:"from_user"`
	FromUserName   looseString `json:"from_user_name"`
	FromUserAvatar looseString `json:"from_user_avatar"`
	FromGroupID    looseString `json:"from_group_id"`
	FromGroupName  looseString `json:"from_group_name"`
	ShareID        looseString `json:"share_id"`
	ShareType      looseString `json:"share_type"`
	DTableShareID  looseString `json:"dtable_share_id"`
	ViewShareID    looseString `json:"view_share_id"`
	SharedName     looseString `json:"shared_name"`
}

type wireSharedView struct {
	ID             looseString `json:"id"`
	DTableName     looseString `json:"dtable_name"`
	WorkspaceID    looseString `json:"workspace_id"`
	FromUser       looseString `json:"from_user"`
	FromUserName   looseString `json:"from_user_name"`
	FromUserAvatar looseString `json:"from_user_avatar"`
	ToUser         looseString `json:"to_user"`
	ToUserName     looseString `json:"to_user_name"`
	Permission     looseString `json:"permission"`
	TableID        looseString `json:"table_id"`
	ViewID         looseString `json:"view_id"`
	SharedName     looseString `json:"shared_name"`
	Color          looseString `json:"color"`
	TextColor      looseString `json:"text_color"`
	Icon           looseString `json:"icon"`
	ShareID        looseString `json:"share_id"`
	ShareType      looseString `json:"share_type"`
}

type wireFolder struct {
	ID          looseString               `json:"id"`
	Name        looseString               `json:"name"`
	WorkspaceID looseString               `json:"workspace_id"`
	Items       looseList[wireFolderItem] `json:"items"`
}

type wireFolderItem struct {
	FolderID looseString `json:"folder_id"`
	ItemType looseString `json:"item_type"`
	ItemID   looseString `json:"item_id"`
}

type wireShareFolder struct {
	ID       looseString `json:"id"`
	Name     looseString `json:"name"`
	Username looseString `json:"username"`
}

// normalize turns wire workspaces into the list, as the scanner's builder
// does workspace by workspace.
func normalize(entries []wireWorkspace, starredTop []wireDTable) *WorkspaceList {
	b := newRefListBuilder(AllFields)
	for i := range entries {
		b.add(&entries[i])
	}
	return b.finish(starredTop)
}

// refListBuilder normalises a list one workspace at a time.
type refListBuilder struct {
	a       refArena
	out     *WorkspaceList
	starred map[string]bool
}

func newRefListBuilder(fields Fields) *refListBuilder {
	return &refListBuilder{out: &WorkspaceList{Fields: fields}, starred: map[string]bool{}}
}

// reset forgets the workspaces added so far.
func (b *refListBuilder) reset() {
	b.out.Workspaces = nil
	clear(b.starred)
}

// add normalises w; it keeps no reference to w.
func (b *refListBuilder) add(w *wireWorkspace) {
	ws := refWorkspace(&b.a, w)
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
func (b *refListBuilder) finish(starredTop []wireDTable) *WorkspaceList {
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

func refWorkspace(a *refArena, w *wireWorkspace) *Workspace {
	ws := &Workspace{
		ID:               w.ID.id(),
		Type:             refWorkspaceType(w),
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
	ws.Tables = refDTables(a, tables, home)
	ws.GroupSharedTables = refDTables(a, w.GroupSharedDTabs, "")
	ws.GroupSharedViews = refDTables(a, w.GroupSharedViews, "")
	for i := range w.SharedViewList {
		ws.SharedViews = append(ws.SharedViews, refSharedView(a, &w.SharedViewList[i]))
	}
	for i := range w.Folders {
		ws.Folders = append(ws.Folders, refFolder(&w.Folders[i]))
	}
	for _, f := range w.ShareFolders {
		ws.ShareFolders = append(ws.ShareFolders, &ShareFolder{ID: f.ID.id(), Name: f.Name.Value, Username: a.str(f.Username)})
	}
	return ws
}

func refWorkspaceType(w *wireWorkspace) WorkspaceType {
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

// refDTables takes the bases from the arena's blocks: a list of
// hundreds of bases is a few allocations, not hundreds.
func refDTables(a *refArena, in []wireDTable, home string) []*DTable {
	out := make([]*DTable, 0, len(in))
	for i := range in {
		uuid := NormalizeUUID(in[i].UUID.Value)
		if uuid == "" {
			continue // not a base: never takes a slot
		}
		d := a.dtable()
		refFillDTable(a, d, &in[i], uuid, home)
		out = append(out, d)
	}
	return out
}

// normalizeDTable fills d from w; false for an entry with no usable uuid:
// without one a base can be neither identified nor looked up.
func refDTable(a *refArena, d *DTable, w *wireDTable, home string) bool {
	uuid := NormalizeUUID(w.UUID.Value)
	if uuid == "" {
		return false
	}
	refFillDTable(a, d, w, uuid, home)
	return true
}

// refFillDTable fills d from w, whose normalised uuid is uuid.
func refFillDTable(a *refArena, d *DTable, w *wireDTable, uuid, home string) {
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

func refSharedView(a *refArena, w *wireSharedView) *SharedView {
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

func refFolder(w *wireFolder) *Folder {
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

// refArena hands out the optional fields one allocation each.
type refArena struct{}

func (refArena) dtable() *DTable { return &DTable{} }

func (refArena) str(s looseString) *string {
	if !s.Set {
		return nil
	}
	v := s.Value
	return &v
}

func (refArena) bool(v looseBool) *bool {
	if !v.Set {
		return nil
	}
	b := v.Value
	return &b
}

func (refArena) time(s looseString) *time.Time {
	t, ok := parseTime(s)
	if !ok {
		return nil
	}
	return &t
}

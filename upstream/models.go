package upstream

// WorkspaceType says what kind of entry a workspace is. Pseudo-workspaces
// (starred, shared) have no numeric id upstream.
type WorkspaceType string

// The workspace types SeaTable emits (type, or owner_type in 2020 responses).
const (
	WorkspacePersonal WorkspaceType = "personal"
	WorkspaceGroup    WorkspaceType = "group"
	WorkspaceStarred  WorkspaceType = "starred"
	WorkspaceShared   WorkspaceType = "shared"
)

// WorkspaceList is one normalised GET /api/v2.1/workspaces/ response.
//
// A WorkspaceList and everything it points to is read-only once decoded:
// in-flight coalescing and the response cache hand the same value to many
// requests at once, so code that needs a different order or subset must copy.
type WorkspaceList struct {
	// Workspaces are in upstream order.
	Workspaces []*Workspace
	// Detail reports whether base lists were requested (detail=true).
	Detail bool
	// Fields are the optional base fields decoded (fields.go); a list
	// without AllFields belongs to the request that asked for it.
	Fields Fields `json:"-"`
	// BodyBytes is the length of the body it was decoded from; caches use
	// it to estimate its size in memory.
	BodyBytes int `json:"-"`
	// Body is the (uncompressed) JSON the client decoded the list from, nil
	// for a list made otherwise; the shared response cache stores it. The
	// list's strings share its memory, so keeping it costs nothing more.
	Body []byte `json:"-"`
}

// Workspace is one entry of workspace_list, normalised across generations.
// Optional fields are nil when the server did not send them.
type Workspace struct {
	// ID is the numeric id as decimal text, or "starred"/"shared" for the
	// pseudo-workspaces, which have id "" upstream.
	ID   string
	Type WorkspaceType // "" when the server does not say (seed era)
	// Name is `name`, or `owner_name` where the server sends no name.
	Name             string
	OwnerName        *string
	RepoID           *string
	GroupID          *string
	GroupOwner       *string
	GroupAdmins      []string
	GroupMemberCount *int
	IsAdmin          *bool
	DepartmentID     *string

	// Tables is table_list, or shared_table_list for the shared entry.
	Tables            []*DTable
	SharedViews       []*SharedView
	GroupSharedTables []*DTable
	GroupSharedViews  []*DTable
	Folders           []*Folder
	ShareFolders      []*ShareFolder
}

// SharedView is a view of a base shared to the caller (shared_view_list).
type SharedView struct {
	ID             string
	DTableName     string
	WorkspaceID    *string
	FromUser       *string
	FromUserName   *string
	FromUserAvatar *string
	ToUser         *string
	ToUserName     *string
	Permission     *string
	TableID        *string
	ViewID         *string
	SharedName     *string
	Color          *string
	TextColor      *string
	Icon           *string
	ShareID        *string
	ShareType      *string
}

// Folder groups bases inside a workspace (current servers).
type Folder struct {
	ID          string
	Name        string
	WorkspaceID *string
	Items       []FolderItem
}

// FolderItem is one entry of a folder; for bases ItemType is "dtable" and
// ItemID the base uuid (normalised).
type FolderItem struct {
	ItemType string
	ItemID   string
}

// ShareFolder is a user-defined folder of shared items (current servers).
type ShareFolder struct {
	ID       string
	Name     string
	Username *string
}

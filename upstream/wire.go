package upstream

import "encoding/json"

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

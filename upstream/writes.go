package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// The write endpoints (contract section 2). They share do with the read, so
// auth, timeout and error classification live in one place. None of them is
// ever retried: SeaTable gives no idempotency key, and a repeated create or
// copy makes a second base.

// CreateDTable is what POST /api/v2.1/dtables/ accepts. Empty optional
// fields are not sent.
type CreateDTable struct {
	Name string
	// WorkspaceID is the target workspace; empty means the personal one.
	WorkspaceID string
	FolderID    string
	Color       string
	TextColor   string
	Icon        string
}

// UpdateDTable is what PUT /api/v2.1/workspace/{id}/dtable/ accepts; nil
// fields are left unchanged.
type UpdateDTable struct {
	NewName   *string
	Color     *string
	TextColor *string
	Icon      *string
}

// CreateDTable creates a base and returns it as SeaTable answers (under
// "table"). The returned base is nil when the answer carries no usable base.
func (c *Client) CreateDTable(ctx context.Context, token string, in CreateDTable) (*DTable, error) {
	form := url.Values{"name": {in.Name}}
	setIf(form, "workspace_id", in.WorkspaceID)
	setIf(form, "folder_id", in.FolderID)
	setIf(form, "color", in.Color)
	setIf(form, "text_color", in.TextColor)
	setIf(form, "icon", in.Icon)
	d, err := c.writeBase(ctx, token, http.MethodPost, "api/v2.1/dtables/", nil, form, "table", in.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("create base: %w", err)
	}
	return d, nil
}

// UpdateDTable renames or restyles the base called name in workspace
// workspaceID and returns it as SeaTable answers (under "table").
func (c *Client) UpdateDTable(ctx context.Context, token, workspaceID, name string, in UpdateDTable) (*DTable, error) {
	path, err := workspaceDTablePath(workspaceID)
	if err != nil {
		return nil, fmt.Errorf("update base: %w", err)
	}
	form := url.Values{"name": {name}}
	for key, v := range map[string]*string{"new_name": in.NewName, "color": in.Color, "text_color": in.TextColor, "icon": in.Icon} {
		if v != nil {
			form.Set(key, *v)
		}
	}
	d, err := c.writeBase(ctx, token, http.MethodPut, path, nil, form, "table", workspaceID)
	if err != nil {
		return nil, fmt.Errorf("update base: %w", err)
	}
	return d, nil
}

// DeleteDTable moves the base called name in workspace workspaceID to the
// trash. SeaTable reads the name from a form body, even on DELETE.
func (c *Client) DeleteDTable(ctx context.Context, token, workspaceID, name string) error {
	path, err := workspaceDTablePath(workspaceID)
	if err != nil {
		return fmt.Errorf("delete base: %w", err)
	}
	if err := c.do(ctx, token, http.MethodDelete, path, nil, formBody(url.Values{"name": {name}}), discard); err != nil {
		return fmt.Errorf("delete base: %w", err)
	}
	return nil
}

// CopyDTable copies the base called name from workspace src to workspace
// dst and returns the copy as SeaTable answers (under "dtable"). SeaTable
// picks a new name when dst already has a base with that name.
func (c *Client) CopyDTable(ctx context.Context, token, src, dst, name string) (*DTable, error) {
	form := url.Values{"src_workspace_id": {src}, "dst_workspace_id": {dst}, "name": {name}}
	d, err := c.writeBase(ctx, token, http.MethodPost, "api/v2.1/dtable-copy/", nil, form, "dtable", dst)
	if err != nil {
		return nil, fmt.Errorf("copy base: %w", err)
	}
	return d, nil
}

// StarDTable stars the base with uuid for the token's user (idempotent
// upstream).
func (c *Client) StarDTable(ctx context.Context, token, uuid string) error {
	form := url.Values{"dtable_uuid": {uuid}}
	if err := c.do(ctx, token, http.MethodPost, "api/v2.1/starred-dtables/", nil, formBody(form), discard); err != nil {
		return fmt.Errorf("star base: %w", err)
	}
	return nil
}

// UnstarDTable removes the star; SeaTable takes the uuid in the query.
func (c *Client) UnstarDTable(ctx context.Context, token, uuid string) error {
	q := url.Values{"dtable_uuid": {uuid}}
	if err := c.do(ctx, token, http.MethodDelete, "api/v2.1/starred-dtables/", q, nil, discard); err != nil {
		return fmt.Errorf("unstar base: %w", err)
	}
	return nil
}

// writeBase sends a form and reads the base SeaTable returns under key.
func (c *Client) writeBase(ctx context.Context, token, method, path string, q url.Values, form url.Values, key, home string) (*DTable, error) {
	var d *DTable
	err := c.do(ctx, token, method, path, q, formBody(form), func(body io.Reader) error {
		d = decodeBaseIn(body, key, home)
		return nil
	})
	return d, err
}

// decodeBaseIn reads {key: Base} leniently. The write has happened by the
// time this runs, so an odd answer must not turn it into an error: the
// caller gets nil and can read the base back instead.
func decodeBaseIn(r io.Reader, key, home string) *DTable {
	var envelope map[string]json.RawMessage
	if json.NewDecoder(r).Decode(&envelope) != nil {
		return nil
	}
	raw, ok := envelope[key]
	if !ok {
		return nil
	}
	return decodeBase(raw, home)
}

// workspaceDTablePath builds api/v2.1/workspace/{id}/dtable/ for a numeric
// workspace id; anything else would address a different route.
func workspaceDTablePath(workspaceID string) (string, error) {
	if _, err := strconv.ParseUint(workspaceID, 10, 64); err != nil {
		return "", apperr.New(apperr.BadUserInput, fmt.Sprintf("workspace id %q is not a numeric workspace id", workspaceID))
	}
	return "api/v2.1/workspace/" + url.PathEscape(workspaceID) + "/dtable/", nil
}

func setIf(form url.Values, key, v string) {
	if v != "" {
		form.Set(key, v)
	}
}

// discard accepts any 2xx body: these endpoints answer {"success": true}
// (older servers: "true"), and the status already says it worked.
func discard(io.Reader) error { return nil }

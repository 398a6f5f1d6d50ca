package app

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// The current fixture: personal workspace 12 (CRM starred and in folder 1
// "Work", Travel), Marketing 15 (administered, Campaigns), Sales 16 (not
// administered: writes are refused), and Budget 2026 shared from workspace 3.
const (
	crmUUID       = "e3b0c442-98fc-4c14-9afb-f4c8996fb924"
	travelUUID    = "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"
	campaignsUUID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	unknownUUID   = "00000000-0000-4000-8000-000000000000"
)

func newWriteEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
	return e
}

// mutate runs a mutation and returns its data or errors; it resets the
// fake's counters first so callers can count this request's calls.
func (e *testEnv) mutate(t *testing.T, query string, vars map[string]any) gqlResponse {
	t.Helper()
	e.fake.ResetCounts()
	status, resp := e.post(t, "Token "+tokA, query, vars)
	if status != http.StatusOK {
		t.Fatalf("status %d: %+v", status, resp.Errors)
	}
	return resp
}

// writes returns the non-GET requests the fake saw.
func (e *testEnv) writes() []fakeseatable.Request {
	var out []fakeseatable.Request
	for _, r := range e.fake.Requests() {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

// oneWrite asserts exactly one write with the given method, path, query and
// form fields, sent form-encoded.
func (e *testEnv) oneWrite(t *testing.T, method, path, rawQuery string, form map[string]string) fakeseatable.Request {
	t.Helper()
	ws := e.writes()
	if len(ws) != 1 {
		t.Fatalf("%d write calls, want exactly 1 (never retried): %+v", len(ws), ws)
	}
	r := ws[0]
	if r.Method != method || r.Path != path || r.RawQuery != rawQuery {
		t.Errorf("write %s %s?%s, want %s %s?%s", r.Method, r.Path, r.RawQuery, method, path, rawQuery)
	}
	if r.Authorization != "Token "+tokA {
		t.Errorf("write sent Authorization %q", r.Authorization)
	}
	if form == nil {
		if r.Body != "" {
			t.Errorf("write has a body %q, want none", r.Body)
		}
		return r
	}
	if r.ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("content type %q, want form-urlencoded", r.ContentType)
	}
	if len(r.Form) != len(form) {
		t.Errorf("form %v, want exactly %v", r.Form, form)
	}
	for k, v := range form {
		if got := r.Form[k]; len(got) != 1 || got[0] != v {
			t.Errorf("form field %s = %q, want %q", k, got, v)
		}
	}
	return r
}

func wantError(t *testing.T, resp gqlResponse, code, message string) {
	t.Helper()
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != code {
		t.Fatalf("errors %+v, want one %s", resp.Errors, code)
	}
	if message != "" && resp.Errors[0].Message != message {
		t.Errorf("message %q, want %q", resp.Errors[0].Message, message)
	}
}

func decodeData(t *testing.T, resp gqlResponse, v any) {
	t.Helper()
	if len(resp.Errors) > 0 {
		t.Fatalf("errors: %+v", resp.Errors)
	}
	if err := json.Unmarshal(resp.Data, v); err != nil {
		t.Fatal(err)
	}
}

const createMutation = `mutation($in: CreateDTableInput!) { createDTable(input: $in) { dtable { uuid name workspaceId color textColor icon starred createdAt } } }`

func TestCreateDTable(t *testing.T) {
	e := newWriteEnv(t)
	name := `Ärger & "Co" <b>日本語 100%`
	resp := e.mutate(t, createMutation, map[string]any{"in": map[string]any{
		"workspaceId": "12", "name": name, "folderId": "1", "color": "#E91E63", "textColor": "#FFFFFF", "icon": "icon-dollar"}})
	var data struct {
		CreateDTable struct {
			Dtable struct {
				UUID, Name, WorkspaceID string
				Color, TextColor, Icon  *string
				Starred                 bool
				CreatedAt               *string
			}
		}
	}
	decodeData(t, resp, &data)
	d := data.CreateDTable.Dtable
	if d.Name != name || d.WorkspaceID != "12" || deref(d.Color) != "#E91E63" || deref(d.TextColor) != "#FFFFFF" || deref(d.Icon) != "icon-dollar" || d.Starred || d.CreatedAt == nil || len(d.UUID) != 36 {
		t.Errorf("payload %+v", d)
	}
	r := e.oneWrite(t, http.MethodPost, "/api/v2.1/dtables/", "", map[string]string{
		"name": name, "workspace_id": "12", "folder_id": "1", "color": "#E91E63", "text_color": "#FFFFFF", "icon": "icon-dollar"})
	if !strings.Contains(r.Body, "name="+url.QueryEscape(name)) {
		t.Errorf("name not form-encoded in body %q", r.Body)
	}
	// The payload came from the write's answer: no read was needed.
	if n := e.fake.Calls(); n != 1 {
		t.Errorf("%d upstream calls, want 1 (the write)", n)
	}

	// Its edge's cursor is the one the dtables connection gives it.
	var edge struct {
		CreateDTable struct {
			Edge struct {
				Cursor string
				Node   struct{ ID, Name string }
			}
		}
	}
	decodeData(t, e.mutate(t, `mutation { createDTable(input: {workspaceId: "12", name: "Edge case"}) { edge { cursor node { id name } } } }`, nil), &edge)
	var page struct {
		Dtables struct {
			Edges []struct {
				Cursor string
				Node   struct{ ID string }
			}
		}
	}
	e.mustData(t, "Token "+tokA, `{ dtables(first: 1000) { edges { cursor node { id } } } }`, &page)
	found := false
	for _, ed := range page.Dtables.Edges {
		if ed.Node.ID == edge.CreateDTable.Edge.Node.ID {
			found = ed.Cursor == edge.CreateDTable.Edge.Cursor
		}
	}
	if !found || edge.CreateDTable.Edge.Node.Name != "Edge case" {
		t.Errorf("createDTable edge %+v is not the connection's edge", edge.CreateDTable.Edge)
	}

	// A following query sees the base, in its folder.
	var after struct {
		DtableByName *struct {
			UUID   string
			Folder *struct{ Name string }
		}
		Dtables struct{ TotalCount int }
	}
	e.mustData(t, "Token "+tokA, `{ dtableByName(workspaceId: "12", name: "`+strings.ReplaceAll(name, `"`, `\"`)+`") { uuid folder { name } }
		dtables(filter: {nameContains: "ärger & \"co\""}) { totalCount } }`, &after)
	if after.DtableByName == nil || after.DtableByName.UUID != d.UUID || after.DtableByName.Folder == nil || after.DtableByName.Folder.Name != "Work" {
		t.Errorf("after create: %+v", after.DtableByName)
	}
	if after.Dtables.TotalCount != 1 {
		t.Errorf("search after create: %d", after.Dtables.TotalCount)
	}

	// Without a workspace the base goes to the personal workspace; asking
	// for its workspace costs one read after the write.
	resp = e.mutate(t, `mutation { createDTable(input: {name: "Solo"}) { dtable { name workspace { id: seatableId type } } } }`, nil)
	var solo struct {
		CreateDTable struct {
			Dtable struct {
				Name      string
				Workspace struct{ ID, Type string }
			}
		}
	}
	decodeData(t, resp, &solo)
	if solo.CreateDTable.Dtable.Workspace.ID != "12" || solo.CreateDTable.Dtable.Workspace.Type != "PERSONAL" {
		t.Errorf("default workspace: %+v", solo)
	}
	e.oneWrite(t, http.MethodPost, "/api/v2.1/dtables/", "", map[string]string{"name": "Solo"})
	if n := e.fake.Calls(); n != 2 {
		t.Errorf("%d upstream calls, want 2 (write, then one read)", n)
	}
}

func TestCreateDTableErrors(t *testing.T) {
	cases := []struct {
		name    string
		in      map[string]any
		code    string
		message string
		writes  int
	}{
		{"duplicate", map[string]any{"workspaceId": "12", "name": "CRM"}, "BAD_USER_INPUT", "Base CRM already exists in this workspace.", 1},
		{"empty name", map[string]any{"workspaceId": "12", "name": ""}, "BAD_USER_INPUT", "name invalid.", 1},
		{"illegal characters", map[string]any{"workspaceId": "12", "name": "a/b"}, "BAD_USER_INPUT", "Base name contains illegal characters", 1},
		{"not admin", map[string]any{"workspaceId": "16", "name": "X"}, "FORBIDDEN", "", 1},
		{"no workspace", map[string]any{"workspaceId": "999", "name": "X"}, "NOT_FOUND", "", 1},
		{"no folder", map[string]any{"workspaceId": "12", "name": "X", "folderId": "77"}, "NOT_FOUND", "", 1},
		{"pseudo workspace", map[string]any{"workspaceId": "starred", "name": "X"}, "BAD_USER_INPUT", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newWriteEnv(t)
			resp := e.mutate(t, createMutation, map[string]any{"in": c.in})
			wantError(t, resp, c.code, c.message)
			if n := len(e.writes()); n != c.writes {
				t.Errorf("%d writes, want %d", n, c.writes)
			}
		})
	}
}

func TestWritesAreNeverRetried(t *testing.T) {
	mutations := map[string]string{
		"create": `mutation { createDTable(input: {name: "X"}) { dtable { uuid } } }`,
		"star":   `mutation { starDTable(input: {uuid: "` + travelUUID + `"}) { starred } }`,
		"unstar": `mutation { unstarDTable(input: {uuid: "` + crmUUID + `"}) { starred } }`,
	}
	for name, m := range mutations {
		for _, status := range []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusTooManyRequests} {
			e := newWriteEnv(t)
			e.fake.FailWith(status, nil, `<html>busy</html>`)
			resp := e.mutate(t, m, nil)
			if len(resp.Errors) != 1 {
				t.Fatalf("%s/%d: %+v", name, status, resp.Errors)
			}
			if n := e.fake.Calls(); n != 1 {
				t.Errorf("%s/%d: %d upstream calls, want 1", name, status, n)
			}
		}
	}
}

func TestMutationWithoutTokenMakesNoCall(t *testing.T) {
	e := newWriteEnv(t)
	status, resp := e.post(t, "", `mutation { starDTable(input: {uuid: "`+travelUUID+`"}) { starred } }`, nil)
	if status != 200 || len(resp.Errors) != 1 || code(resp.Errors[0]) != "UNAUTHENTICATED" || e.fake.Calls() != 0 {
		t.Errorf("status %d errors %+v calls %d", status, resp.Errors, e.fake.Calls())
	}
}

const updateMutation = `mutation($in: UpdateDTableInput!) { updateDTable(input: $in) { dtable { uuid name color textColor icon starred } } }`

func TestUpdateDTable(t *testing.T) {
	e := newWriteEnv(t)
	newName := "CRM – 2026 ✓ <i>"
	resp := e.mutate(t, updateMutation, map[string]any{"in": map[string]any{"uuid": strings.ReplaceAll(crmUUID, "-", ""), "newName": newName, "color": "#000000", "icon": "icon-star"}})
	var data struct {
		UpdateDTable struct {
			Dtable struct {
				UUID, Name             string
				Color, TextColor, Icon *string
				Starred                bool
			}
		}
	}
	decodeData(t, resp, &data)
	d := data.UpdateDTable.Dtable
	if d.UUID != crmUUID || d.Name != newName || deref(d.Color) != "#000000" || deref(d.Icon) != "icon-star" || !d.Starred {
		t.Errorf("payload %+v (the star must survive the write)", d)
	}
	e.oneWrite(t, http.MethodPut, "/api/v2.1/workspace/12/dtable/", "", map[string]string{"name": "CRM", "new_name": newName, "color": "#000000", "icon": "icon-star"})
	if n := e.fake.Calls(); n != 2 {
		t.Errorf("%d upstream calls, want 2 (resolve the uuid, write)", n)
	}

	var after struct {
		Dtable  struct{ Name string }
		Starred []struct{ Name string } `json:"starredDTables"`
		Old     *struct{ UUID string }
	}
	e.mustData(t, "Token "+tokA, `{ dtable(uuid: "`+crmUUID+`") { name } starredDTables { name } old: dtableByName(workspaceId: "12", name: "CRM") { uuid } }`, &after)
	if after.Dtable.Name != newName || after.Old != nil || len(after.Starred) == 0 || after.Starred[0].Name != newName {
		t.Errorf("after rename: %+v", after)
	}
}

func TestUpdateDTableErrors(t *testing.T) {
	cases := []struct {
		name    string
		in      map[string]any
		code    string
		message string
		writes  int
	}{
		{"name taken", map[string]any{"uuid": crmUUID, "newName": "Travel"}, "BAD_USER_INPUT", "Travel exists.", 1},
		{"empty name", map[string]any{"uuid": crmUUID, "newName": " "}, "BAD_USER_INPUT", "New base name is invalid", 1},
		{"too long", map[string]any{"uuid": crmUUID, "newName": strings.Repeat("ü", 256)}, "BAD_USER_INPUT", "New base name is too long", 1},
		{"nothing to change", map[string]any{"uuid": crmUUID}, "BAD_USER_INPUT", "", 0},
		{"invisible base", map[string]any{"uuid": unknownUUID, "color": "#111111"}, "NOT_FOUND", "", 0},
		{"malformed uuid", map[string]any{"uuid": "nope", "color": "#111111"}, "BAD_USER_INPUT", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newWriteEnv(t)
			wantError(t, e.mutate(t, updateMutation, map[string]any{"in": c.in}), c.code, c.message)
			if n := len(e.writes()); n != c.writes {
				t.Errorf("%d writes, want %d", n, c.writes)
			}
		})
	}

	t.Run("not admin", func(t *testing.T) {
		e := newTestEnv(t)
		body, bases := genBases(10)
		e.fake.SetToken(tokA, body)
		var inReadOnlyGroup genBase
		for _, b := range bases {
			if b.WorkspaceID == "12" {
				inReadOnlyGroup = b
			}
		}
		wantError(t, e.mutate(t, updateMutation, map[string]any{"in": map[string]any{"uuid": inReadOnlyGroup.UUID, "color": "#111111"}}), "FORBIDDEN", "")
		e.oneWrite(t, http.MethodPut, "/api/v2.1/workspace/12/dtable/", "", map[string]string{"name": inReadOnlyGroup.Name, "color": "#111111"})
	})

	t.Run("gone upstream", func(t *testing.T) {
		e := newWriteEnv(t)
		e.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPut {
				return false
			}
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error_msg":"Base CRM not found."}`))
			return true
		})
		wantError(t, e.mutate(t, updateMutation, map[string]any{"in": map[string]any{"uuid": crmUUID, "color": "#111111"}}), "NOT_FOUND", "")
	})
}

const deleteMutation = `mutation($uuid: ID!) { deleteDTable(input: {uuid: $uuid}) { deletedId uuid name workspaceId } }`

// globalID is the server's global id for a type and natural key: opaque to
// clients, but a stable contract this test pins.
func globalID(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + key))
}

func TestDeleteDTable(t *testing.T) {
	e := newWriteEnv(t)
	var before struct {
		Dtables struct{ TotalCount int }
	}
	e.mustData(t, "Token "+tokA, `{ dtables { totalCount } }`, &before)
	resp := e.mutate(t, deleteMutation, map[string]any{"uuid": crmUUID})
	var data struct {
		DeleteDTable struct{ DeletedID, UUID, Name, WorkspaceID string }
	}
	decodeData(t, resp, &data)
	if data.DeleteDTable.DeletedID != globalID("DTable", crmUUID) || data.DeleteDTable.UUID != crmUUID || data.DeleteDTable.Name != "CRM" || data.DeleteDTable.WorkspaceID != "12" {
		t.Errorf("payload %+v", data.DeleteDTable)
	}
	// DELETE with the name in a form body, as SeaTable expects.
	e.oneWrite(t, http.MethodDelete, "/api/v2.1/workspace/12/dtable/", "", map[string]string{"name": "CRM"})

	var after struct {
		Dtable  *struct{ Name string }
		Starred []struct{ UUID string } `json:"starredDTables"`
		Ws      struct {
			Folders []struct{ Tables []struct{ Name string } }
		}
		Dtables struct{ TotalCount int }
	}
	e.mustData(t, "Token "+tokA, `{ dtable(uuid: "`+crmUUID+`") { name } starredDTables { uuid }
		ws: workspace(id: "12") { folders { tables { name } } } dtables { totalCount } }`, &after)
	if after.Dtable != nil {
		t.Errorf("deleted base still visible: %+v", after.Dtable)
	}
	for _, s := range after.Starred {
		if s.UUID == crmUUID {
			t.Errorf("deleted base still starred")
		}
	}
	for _, f := range after.Ws.Folders {
		if len(f.Tables) != 0 {
			t.Errorf("deleted base still in its folder: %+v", f.Tables)
		}
	}
	if after.Dtables.TotalCount != before.Dtables.TotalCount-1 {
		t.Errorf("totalCount after delete %d, want %d", after.Dtables.TotalCount, before.Dtables.TotalCount-1)
	}

	// A name that needs encoding goes through the body unchanged.
	odd := "a&b=c ü+%"
	decodeData(t, e.mutate(t, createMutation, map[string]any{"in": map[string]any{"workspaceId": "15", "name": odd}}), &struct{}{})
	var created struct {
		DtableByName struct{ UUID string }
	}
	e.mustData(t, "Token "+tokA, `{ dtableByName(workspaceId: "15", name: "a&b=c ü+%") { uuid } }`, &created)
	decodeData(t, e.mutate(t, deleteMutation, map[string]any{"uuid": created.DtableByName.UUID}), &struct{}{})
	e.oneWrite(t, http.MethodDelete, "/api/v2.1/workspace/15/dtable/", "", map[string]string{"name": odd})
}

func TestDeleteDTableErrors(t *testing.T) {
	t.Run("invisible", func(t *testing.T) {
		e := newWriteEnv(t)
		wantError(t, e.mutate(t, deleteMutation, map[string]any{"uuid": unknownUUID}), "NOT_FOUND", "")
		if len(e.writes()) != 0 {
			t.Errorf("wrote for an invisible base")
		}
	})
	t.Run("not admin", func(t *testing.T) {
		e := newTestEnv(t)
		body, bases := genBases(10)
		e.fake.SetToken(tokA, body)
		for _, b := range bases {
			if b.WorkspaceID == "12" {
				wantError(t, e.mutate(t, deleteMutation, map[string]any{"uuid": b.UUID}), "FORBIDDEN", "")
				break
			}
		}
	})
	for _, c := range []struct {
		status      int
		body, code  string
		wantMessage string
	}{
		{404, `{"error_msg":"dtable CRM not found."}`, "NOT_FOUND", ""},
		{400, `{"error_msg":"name invalid."}`, "BAD_USER_INPUT", "name invalid."},
		{403, `{"error_msg":"Permission denied."}`, "FORBIDDEN", ""},
	} {
		e := newWriteEnv(t)
		e.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodDelete {
				return false
			}
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte(c.body))
			return true
		})
		wantError(t, e.mutate(t, deleteMutation, map[string]any{"uuid": crmUUID}), c.code, c.wantMessage)
	}
}

const copyMutation = `mutation($uuid: ID!, $dst: ID!) { copyDTable(input: {uuid: $uuid, dstWorkspaceId: $dst}) { dtable { uuid name workspaceId starred } } }`

func TestCopyDTable(t *testing.T) {
	e := newWriteEnv(t)
	var first, second struct {
		CopyDTable struct {
			Dtable struct {
				UUID, Name, WorkspaceID string
				Starred                 bool
			}
		}
	}
	decodeData(t, e.mutate(t, copyMutation, map[string]any{"uuid": campaignsUUID, "dst": "12"}), &first)
	e.oneWrite(t, http.MethodPost, "/api/v2.1/dtable-copy/", "", map[string]string{"src_workspace_id": "15", "dst_workspace_id": "12", "name": "Campaigns"})
	decodeData(t, e.mutate(t, copyMutation, map[string]any{"uuid": campaignsUUID, "dst": "12"}), &second)
	c1, c2 := first.CopyDTable.Dtable, second.CopyDTable.Dtable
	if c1.Name != "Campaigns" || c1.WorkspaceID != "12" || c1.UUID == campaignsUUID || c1.Starred {
		t.Errorf("first copy %+v", c1)
	}
	if c2.Name != "Campaigns (1)" || c2.UUID == c1.UUID {
		t.Errorf("second copy must get a new name, got %+v", c2)
	}
	var after struct {
		Ws struct{ Tables []struct{ Name string } }
	}
	e.mustData(t, "Token "+tokA, `{ ws: workspace(id: "12") { tables(orderBy: {field: NAME}) { name } } }`, &after)
	var got []string
	for _, tb := range after.Ws.Tables {
		got = append(got, tb.Name)
	}
	if strings.Join(got, ",") != "Campaigns,Campaigns (1),CRM,Travel" {
		t.Errorf("workspace 12 after copies: %v", got)
	}
}

func TestCopyDTableErrors(t *testing.T) {
	cases := []struct {
		name, uuid, dst, code string
		writes                int
	}{
		{"not admin of target", campaignsUUID, "16", "FORBIDDEN", 1},
		{"no target", campaignsUUID, "999", "NOT_FOUND", 1},
		{"target not numeric", campaignsUUID, "shared", "BAD_USER_INPUT", 0},
		{"invisible source", unknownUUID, "12", "NOT_FOUND", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newWriteEnv(t)
			wantError(t, e.mutate(t, copyMutation, map[string]any{"uuid": c.uuid, "dst": c.dst}), c.code, "")
			if n := len(e.writes()); n != c.writes {
				t.Errorf("%d writes, want %d", n, c.writes)
			}
		})
	}
	t.Run("upstream validation", func(t *testing.T) {
		e := newWriteEnv(t)
		e.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPost {
				return false
			}
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error_msg":"src_workspace_id or dst_workspace_id is invalid"}`))
			return true
		})
		wantError(t, e.mutate(t, copyMutation, map[string]any{"uuid": campaignsUUID, "dst": "12"}), "BAD_USER_INPUT", "src_workspace_id or dst_workspace_id is invalid")
	})
}

func TestStarAndUnstar(t *testing.T) {
	e := newWriteEnv(t)
	star := `mutation($uuid: ID!) { starDTable(input: {uuid: $uuid}) { uuid starred } }`
	var data struct {
		StarDTable struct {
			UUID    string
			Starred bool
		}
	}
	decodeData(t, e.mutate(t, star, map[string]any{"uuid": strings.ToUpper(strings.ReplaceAll(travelUUID, "-", ""))}), &data)
	if data.StarDTable.UUID != travelUUID || !data.StarDTable.Starred {
		t.Errorf("payload %+v", data.StarDTable)
	}
	e.oneWrite(t, http.MethodPost, "/api/v2.1/starred-dtables/", "", map[string]string{"dtable_uuid": travelUUID})
	if n := e.fake.Calls(); n != 1 {
		t.Errorf("%d calls, want 1: starring needs no read", n)
	}
	// Idempotent, and the payload's base reads the new state.
	resp := e.mutate(t, `mutation { starDTable(input: {uuid: "`+travelUUID+`"}) { dtable { name starred } } }`, nil)
	var again struct {
		StarDTable struct {
			Dtable struct {
				Name    string
				Starred bool
			}
		}
	}
	decodeData(t, resp, &again)
	if !again.StarDTable.Dtable.Starred || again.StarDTable.Dtable.Name != "Travel" {
		t.Errorf("payload dtable %+v", again.StarDTable.Dtable)
	}
	if n := e.fake.Calls(); n != 2 {
		t.Errorf("%d calls, want 2 (write, then one read for the payload)", n)
	}
	// What a client cache needs to update the base's entry (its id and the
	// new star) comes from the write alone.
	var cached struct {
		UnstarDTable struct {
			Dtable struct {
				Typename string `json:"__typename"`
				ID, UUID string
				Starred  bool
			}
		}
	}
	decodeData(t, e.mutate(t, `mutation { unstarDTable(input: {uuid: "`+travelUUID+`"}) { dtable { __typename id uuid starred } } }`, nil), &cached)
	if d := cached.UnstarDTable.Dtable; d.Typename != "DTable" || d.ID != globalID("DTable", travelUUID) || d.UUID != travelUUID || d.Starred {
		t.Errorf("payload dtable %+v", d)
	}
	if n := e.fake.Calls(); n != 1 {
		t.Errorf("%d calls, want 1: id, uuid and starred need no read", n)
	}
	decodeData(t, e.mutate(t, `mutation { starDTable(input: {uuid: "`+travelUUID+`"}) { starred } }`, nil), &struct{}{})
	var after struct {
		StarredDTables []struct{ Name string }
		Ws             struct{ Tables []struct{ Name string } }
	}
	e.mustData(t, "Token "+tokA, `{ starredDTables { name } ws: workspace(id: "starred") { tables { name } } }`, &after)
	if len(after.StarredDTables) != 3 || len(after.Ws.Tables) != 3 {
		t.Errorf("after starring twice: %+v", after)
	}

	unstar := `mutation($uuid: ID!) { unstarDTable(input: {uuid: $uuid}) { uuid starred dtable { starred } } }`
	var un struct {
		UnstarDTable struct {
			UUID    string
			Starred bool
			Dtable  struct{ Starred bool }
		}
	}
	decodeData(t, e.mutate(t, unstar, map[string]any{"uuid": crmUUID}), &un)
	if un.UnstarDTable.Starred || un.UnstarDTable.Dtable.Starred {
		t.Errorf("unstar payload %+v", un)
	}
	// The uuid goes in the query, with no body.
	e.oneWrite(t, http.MethodDelete, "/api/v2.1/starred-dtables/", "dtable_uuid="+crmUUID, nil)
	var final struct {
		Dtables struct{ TotalCount int }
	}
	e.mustData(t, "Token "+tokA, `{ dtables(filter: {starred: true}) { totalCount } }`, &final)
	if final.Dtables.TotalCount != 2 {
		t.Errorf("starred after unstar: %d, want 2 (Budget 2026, Travel)", final.Dtables.TotalCount)
	}
}

func TestStarErrors(t *testing.T) {
	e := newWriteEnv(t)
	wantError(t, e.mutate(t, `mutation { starDTable(input: {uuid: "`+unknownUUID+`"}) { starred } }`, nil), "NOT_FOUND", "")
	wantError(t, e.mutate(t, `mutation { starDTable(input: {uuid: "x"}) { starred } }`, nil), "BAD_USER_INPUT", "")
	if e.fake.Calls() != 0 {
		t.Errorf("a malformed uuid reached SeaTable")
	}
	e.fake.FailWith(http.StatusForbidden, nil, `{"error_msg":"Permission denied."}`)
	wantError(t, e.mutate(t, `mutation { unstarDTable(input: {uuid: "`+crmUUID+`"}) { starred } }`, nil), "FORBIDDEN", "")
}

// A mutation must not run from a link or a plain cross-site form: only a
// JSON POST (which browsers preflight) reaches the resolvers.
func TestMutationsNeedAJSONPost(t *testing.T) {
	e := newWriteEnv(t)
	m := `mutation { starDTable(input: {uuid: "` + travelUUID + `"}) { starred } }`
	get, _ := http.NewRequest(http.MethodGet, e.url+"/graphql?query="+url.QueryEscape(m), nil)
	form, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", strings.NewReader(url.Values{"query": {m}}.Encode()))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, req := range []*http.Request{get, form} {
		req.Header.Set("Authorization", "Token "+tokA)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("%s %s: status %d, want a 4xx", req.Method, req.Header.Get("Content-Type"), resp.StatusCode)
		}
	}
	if n := len(e.writes()); n != 0 {
		t.Errorf("%d writes reached SeaTable", n)
	}
}

// Every error the contract documents for each write endpoint (section 2),
// answered by SeaTable to the write itself, reaches the client with the
// right code; 400 messages are SeaTable's own.
func TestDocumentedUpstreamErrorsPerMutation(t *testing.T) {
	mutations := map[string]string{
		"create": `mutation { createDTable(input: {workspaceId: "12", name: "X"}) { dtable { uuid } } }`,
		"update": `mutation { updateDTable(input: {uuid: "` + crmUUID + `", newName: "X"}) { dtable { uuid } } }`,
		"delete": `mutation { deleteDTable(input: {uuid: "` + crmUUID + `"}) { uuid } }`,
		"copy":   `mutation { copyDTable(input: {uuid: "` + crmUUID + `", dstWorkspaceId: "15"}) { dtable { uuid } } }`,
		"star":   `mutation { starDTable(input: {uuid: "` + crmUUID + `"}) { starred } }`,
		"unstar": `mutation { unstarDTable(input: {uuid: "` + crmUUID + `"}) { starred } }`,
	}
	documented := map[string][]struct {
		status int
		msg    string
	}{
		"create": {{400, "name invalid."}, {400, "Base X already exists in this workspace."}, {400, "Table X already exists in this workspace."},
			{400, "Base name contains illegal characters"}, {400, "base exceeded."}, {403, "Permission denied."}, {404, "Workspace not found."}, {404, "Folder not found."}},
		"update": {{400, "Base name is invalid"}, {400, "New base name is invalid"}, {400, "New base name is too long"}, {400, "X exists."},
			{403, "Permission denied."}, {404, "Workspace 12 not found."}, {404, "Base CRM not found."}},
		"delete": {{400, "name invalid."}, {403, "Permission denied."}, {404, "dtable CRM not found."}},
		"copy": {{400, "src_workspace_id or dst_workspace_id is invalid"}, {400, "name is invalid"}, {403, "Permission denied"},
			{404, "workspace: 15 not found"}, {404, "dtable: CRM not found"}},
		"star":   {{403, "Permission denied."}, {404, "Table not found."}},
		"unstar": {{403, "Permission denied."}},
	}
	codes := map[int]string{400: "BAD_USER_INPUT", 403: "FORBIDDEN", 404: "NOT_FOUND"}
	for name, errs := range documented {
		for _, de := range errs {
			e := newWriteEnv(t)
			e.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodGet {
					return false
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(de.status)
				b, _ := json.Marshal(map[string]string{"error_msg": de.msg})
				_, _ = w.Write(b)
				return true
			})
			resp := e.mutate(t, mutations[name], nil)
			want := ""
			if de.status == 400 {
				want = de.msg
			}
			if len(resp.Errors) != 1 || code(resp.Errors[0]) != codes[de.status] || want != "" && resp.Errors[0].Message != want {
				t.Errorf("%s answering %d %q: errors %+v, want %s", name, de.status, de.msg, resp.Errors, codes[de.status])
			}
			if len(resp.Errors) == 1 && resp.Errors[0].Extensions["upstreamStatus"] != float64(de.status) {
				t.Errorf("%s: upstreamStatus %v", name, resp.Errors[0].Extensions["upstreamStatus"])
			}
			if n := len(e.writes()); n != 1 {
				t.Errorf("%s: %d writes, want 1", name, n)
			}
		}
	}
}

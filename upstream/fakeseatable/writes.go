package fakeseatable

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The write endpoints, with the status codes and error_msg texts of the
// contract (section 2). Permission is modelled simply: a group workspace
// whose entry says "is_admin": false refuses writes with 403, everything
// else the token can see it may change.

func fail(status int, msg string) (int, any) { return status, map[string]string{"error_msg": msg} }

var success = map[string]bool{"success": true}

// timestamp formats t the way SeaTable does: seconds, with an offset.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

func forbidden(ws object) bool {
	v, ok := ws["is_admin"].(bool)
	return ok && !v && str(ws, "type") == "group"
}

// badName mirrors SeaTable's check for names that cannot be a path segment.
func badName(name string) bool { return strings.ContainsAny(name, "/\\") }

// withoutStarred is a base as SeaTable's write endpoints return it: the
// model's to_dict, which knows nothing of the caller's star.
func withoutStarred(b object) object {
	out := clone(b)
	delete(out, "starred")
	return out
}

// createDTable is POST /api/v2.1/dtables/.
func (d *document) createDTable(form url.Values, now time.Time) (int, any) {
	name := strings.TrimSpace(form.Get("name"))
	if name == "" {
		return fail(http.StatusBadRequest, "name invalid.")
	}
	if badName(name) {
		return fail(http.StatusBadRequest, "Base name contains illegal characters")
	}
	ws := d.personal()
	if id := form.Get("workspace_id"); id != "" {
		ws = d.workspace(id)
	}
	if ws == nil {
		return fail(http.StatusNotFound, "Workspace not found.")
	}
	if forbidden(ws) {
		return fail(http.StatusForbidden, "Permission denied.")
	}
	if byName(ws, name) != nil {
		return fail(http.StatusBadRequest, fmt.Sprintf("Base %s already exists in this workspace.", name))
	}
	var folder object
	if fid := form.Get("folder_id"); fid != "" {
		for _, f := range objects(ws["folders"]) {
			if str(f, "id") == fid {
				folder = f
			}
		}
		if folder == nil {
			return fail(http.StatusNotFound, "Folder not found.")
		}
	}
	base := object{
		"id":           json.Number(strconv.FormatInt(d.nextID(), 10)),
		"workspace_id": ws["id"],
		"uuid":         newUUID(),
		"name":         name,
		"created_at":   timestamp(now),
		"updated_at":   timestamp(now),
		"color":        optional(form, "color"),
		"text_color":   optional(form, "text_color"),
		"icon":         optional(form, "icon"),
		"is_encrypted": false,
		"in_storage":   true,
		"starred":      false,
	}
	ws["table_list"] = append(asList(ws["table_list"]), base)
	if folder != nil {
		folder["items"] = append(asList(folder["items"]), object{"folder_id": folder["id"], "item_type": "dtable", "item_id": base["uuid"]})
	}
	return http.StatusCreated, map[string]any{"table": withoutStarred(base)}
}

// updateDTable is PUT /api/v2.1/workspace/{wid}/dtable/.
func (d *document) updateDTable(wid string, form url.Values, now time.Time) (int, any) {
	ws := d.workspace(wid)
	if ws == nil {
		return fail(http.StatusNotFound, fmt.Sprintf("Workspace %s not found.", wid))
	}
	name := form.Get("name")
	if strings.TrimSpace(name) == "" {
		return fail(http.StatusBadRequest, "Base name is invalid")
	}
	base := byName(ws, name)
	if base == nil {
		return fail(http.StatusNotFound, fmt.Sprintf("Base %s not found.", name))
	}
	if forbidden(ws) {
		return fail(http.StatusForbidden, "Permission denied.")
	}
	changes := object{"updated_at": timestamp(now)}
	if _, ok := form["new_name"]; ok {
		nn := strings.TrimSpace(form.Get("new_name"))
		switch {
		case nn == "" || badName(nn):
			return fail(http.StatusBadRequest, "New base name is invalid")
		case len([]rune(nn)) > 255:
			return fail(http.StatusBadRequest, "New base name is too long")
		case nn != name && byName(ws, nn) != nil:
			return fail(http.StatusBadRequest, nn+" exists.")
		}
		changes["name"] = nn
	}
	for _, key := range []string{"color", "text_color", "icon"} {
		if _, ok := form[key]; ok {
			changes[key] = optional(form, key)
		}
	}
	for _, e := range d.entries(str(base, "uuid")) {
		for k, v := range changes {
			e[k] = v
		}
	}
	return http.StatusOK, map[string]any{"table": withoutStarred(base)}
}

// deleteDTable is DELETE /api/v2.1/workspace/{wid}/dtable/ (name in the body).
func (d *document) deleteDTable(wid string, form url.Values) (int, any) {
	name := form.Get("name")
	if strings.TrimSpace(name) == "" {
		return fail(http.StatusBadRequest, "name invalid.")
	}
	ws := d.workspace(wid)
	if ws == nil {
		return fail(http.StatusNotFound, fmt.Sprintf("Workspace %s not found.", wid))
	}
	base := byName(ws, name)
	if base == nil {
		return fail(http.StatusNotFound, fmt.Sprintf("dtable %s not found.", name))
	}
	if forbidden(ws) {
		return fail(http.StatusForbidden, "Permission denied.")
	}
	d.remove(str(base, "uuid"))
	return http.StatusOK, success
}

// copyDTable is POST /api/v2.1/dtable-copy/. Like current servers it picks
// "name (1)", "name (2)"... when the target already has the name.
func (d *document) copyDTable(form url.Values, now time.Time) (int, any) {
	src, dst := form.Get("src_workspace_id"), form.Get("dst_workspace_id")
	if _, err := strconv.Atoi(src); err != nil {
		return fail(http.StatusBadRequest, "src_workspace_id or dst_workspace_id is invalid")
	}
	if _, err := strconv.Atoi(dst); err != nil {
		return fail(http.StatusBadRequest, "src_workspace_id or dst_workspace_id is invalid")
	}
	name := form.Get("name")
	if strings.TrimSpace(name) == "" {
		return fail(http.StatusBadRequest, "name is invalid")
	}
	srcWS, dstWS := d.workspace(src), d.workspace(dst)
	if srcWS == nil {
		return fail(http.StatusNotFound, fmt.Sprintf("workspace: %s not found", src))
	}
	if dstWS == nil {
		return fail(http.StatusNotFound, fmt.Sprintf("workspace: %s not found", dst))
	}
	base := byName(srcWS, name)
	if base == nil {
		return fail(http.StatusNotFound, fmt.Sprintf("dtable: %s not found", name))
	}
	if forbidden(dstWS) {
		return fail(http.StatusForbidden, "Permission denied")
	}
	newName := name
	for i := 1; byName(dstWS, newName) != nil; i++ {
		newName = fmt.Sprintf("%s (%d)", name, i)
	}
	cp := clone(base)
	cp["id"] = json.Number(strconv.FormatInt(d.nextID(), 10))
	cp["uuid"] = newUUID()
	cp["name"] = newName
	cp["workspace_id"] = dstWS["id"]
	cp["created_at"], cp["updated_at"] = timestamp(now), timestamp(now)
	cp["starred"] = false
	dstWS["table_list"] = append(asList(dstWS["table_list"]), cp)
	return http.StatusOK, map[string]any{"dtable": withoutStarred(cp), "task_id": nil}
}

// star is POST (on) and DELETE (off) /api/v2.1/starred-dtables/. Both are
// idempotent; starring an unknown base is 404.
func (d *document) star(uuid string, on bool) (int, any) {
	if len(strings.ReplaceAll(uuid, "-", "")) != 32 {
		return fail(http.StatusBadRequest, "dtable_uuid invalid.")
	}
	entries := d.entries(uuid)
	if len(entries) == 0 && on {
		return fail(http.StatusNotFound, "Table not found.")
	}
	for _, e := range entries {
		e["starred"] = on
	}
	if top, ok := d.root["starred_dtable_list"]; ok && !on {
		d.root["starred_dtable_list"] = without(top, uuid)
	}
	starred := d.pseudo("starred")
	if starred == nil {
		return http.StatusOK, success
	}
	listed := false
	for _, b := range objects(starred["table_list"]) {
		listed = listed || sameUUID(str(b, "uuid"), uuid)
	}
	switch {
	case on && !listed:
		starred["table_list"] = append(asList(starred["table_list"]), clone(entries[0]))
	case !on && listed:
		starred["table_list"] = without(starred["table_list"], uuid)
	}
	return http.StatusOK, success
}

// optional returns a form field as SeaTable stores it: null when absent or
// empty.
func optional(form url.Values, key string) any {
	if v := form.Get(key); v != "" {
		return v
	}
	return nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Rename renames the base called name in workspace wid of token's document
// to newName, as another client of the same account would, between two
// calls of the client under test: with SetHook it makes a race with a
// write deterministic. It reports SeaTable's status and error_msg on
// failure.
func (s *Server) Rename(token, wid, name, newName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.data[token]
	if !ok {
		st = &state{raw: s.anyToken}
		s.data[token] = st
	}
	doc, err := st.document()
	if err != nil {
		return err
	}
	status, body := doc.updateDTable(wid, url.Values{"name": {name}, "new_name": {newName}}, s.now())
	if status != http.StatusOK {
		return fmt.Errorf("rename: %d %v", status, body)
	}
	return nil
}

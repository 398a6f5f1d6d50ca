package fakeseatable

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
)

// state is one token's workspace list. It is served byte for byte as given
// until the first write; from then on the parsed document is the truth and
// lists are re-encoded from it. Keeping the raw bytes until then lets tests
// serve deliberately odd or broken bodies.
type state struct {
	raw []byte
	doc *document
}

func (st *state) body() ([]byte, error) {
	if st.doc == nil {
		return st.raw, nil
	}
	b, err := json.Marshal(st.doc.root)
	if err != nil {
		return nil, fmt.Errorf("encode document: %w", err)
	}
	return b, nil
}

// document parses the raw list on first use.
func (st *state) document() (*document, error) {
	if st.doc != nil {
		return st.doc, nil
	}
	var root map[string]any
	dec := json.NewDecoder(bytes.NewReader(st.raw))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("fixture is not a JSON object: %w", err)
	}
	st.doc = &document{root: root}
	return st.doc, nil
}

// document is a mutable, generic view of a workspace list of any generation.
// Numbers stay json.Number so ids round-trip unchanged.
type document struct {
	root map[string]any
}

// object is one JSON object in the document (a workspace, a base, a folder).
type object = map[string]any

// baseLists are the keys under which a workspace lists bases.
var baseLists = []string{"table_list", "shared_table_list", "group_shared_dtables"}

func (d *document) workspaces() []object {
	list, _ := d.root["workspace_list"].([]any)
	out := make([]object, 0, len(list))
	for _, e := range list {
		if m, ok := e.(object); ok {
			out = append(out, m)
		}
	}
	return out
}

// workspace returns the workspace with a numeric id, or nil.
func (d *document) workspace(id string) object {
	if id == "" {
		return nil
	}
	for _, ws := range d.workspaces() {
		if str(ws, "id") == id {
			return ws
		}
	}
	return nil
}

// personal returns the caller's own workspace, or nil.
func (d *document) personal() object {
	for _, ws := range d.workspaces() {
		if t := strings.ToLower(str(ws, "type") + str(ws, "owner_type")); t == "personal" {
			return ws
		}
	}
	return nil
}

// pseudo returns the starred or shared pseudo-workspace, or nil.
func (d *document) pseudo(kind string) object {
	for _, ws := range d.workspaces() {
		if str(ws, "type") == kind {
			return ws
		}
	}
	return nil
}

// each calls fn for every base entry anywhere in the document, including
// the 2020 top-level starred_dtable_list.
func (d *document) each(fn func(base object)) {
	for _, ws := range d.workspaces() {
		for _, key := range baseLists {
			for _, b := range objects(ws[key]) {
				fn(b)
			}
		}
	}
	for _, b := range objects(d.root["starred_dtable_list"]) {
		fn(b)
	}
}

// entries returns every entry of the base with uuid.
func (d *document) entries(uuid string) []object {
	var out []object
	d.each(func(b object) {
		if sameUUID(str(b, "uuid"), uuid) {
			out = append(out, b)
		}
	})
	return out
}

// without returns the list v minus the entries of the base with uuid.
func without(v any, uuid string) []any {
	out := []any{}
	for _, e := range asList(v) {
		if b, ok := e.(object); ok && sameUUID(str(b, "uuid"), uuid) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// remove drops every entry of the base with uuid, and its folder items.
func (d *document) remove(uuid string) {
	keep := func(v any) []any { return without(v, uuid) }
	for _, ws := range d.workspaces() {
		for _, key := range baseLists {
			if _, ok := ws[key]; ok {
				ws[key] = keep(ws[key])
			}
		}
		for _, f := range objects(ws["folders"]) {
			var items []any
			for _, it := range asList(f["items"]) {
				if m, ok := it.(object); ok && sameUUID(str(m, "item_id"), uuid) {
					continue
				}
				items = append(items, it)
			}
			if items == nil {
				items = []any{}
			}
			f["items"] = items
		}
	}
	if _, ok := d.root["starred_dtable_list"]; ok {
		d.root["starred_dtable_list"] = keep(d.root["starred_dtable_list"])
	}
}

// byName returns the base called name in ws's own list, or nil.
func byName(ws object, name string) object {
	for _, b := range objects(ws["table_list"]) {
		if str(b, "name") == name {
			return b
		}
	}
	return nil
}

// nextID returns one more than the largest numeric base id in the document.
func (d *document) nextID() int64 {
	var max int64
	d.each(func(b object) {
		if n, ok := b["id"].(json.Number); ok {
			if v, err := n.Int64(); err == nil && v > max {
				max = v
			}
		}
	})
	return max + 1
}

// str reads a string or number field as text; "" when absent or null.
func str(m object, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	}
	return ""
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func objects(v any) []object {
	var out []object
	for _, e := range asList(v) {
		if m, ok := e.(object); ok {
			out = append(out, m)
		}
	}
	return out
}

// clone copies a base entry (one level deep is enough: entries are flat).
func clone(b object) object {
	out := make(object, len(b))
	for k, v := range b {
		out[k] = v
	}
	return out
}

func sameUUID(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "-", "")) }
	return a != "" && norm(a) == norm(b)
}

// parseForm reads a request body the way Django REST framework does for
// these views: urlencoded, multipart, or a JSON object of scalars. It
// returns nil for anything else (including an empty body).
func parseForm(contentType string, body []byte) url.Values {
	if len(body) == 0 {
		return nil
	}
	mt, params, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil
		}
		return v
	case "multipart/form-data":
		f, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(maxBody)
		if err != nil {
			return nil
		}
		return url.Values(f.Value)
	case "application/json":
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&m) != nil {
			return nil
		}
		v := url.Values{}
		for k := range m {
			v.Set(k, str(m, k))
		}
		return v
	}
	return nil
}

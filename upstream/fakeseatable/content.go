package fakeseatable

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// content is what one base holds: tables with columns of several types
// (text, long-text, single- and multiple-select, number, checkbox, date,
// collaborator, link, email, url and one type SeaTable clients do not know),
// views with filters and sorts, and a few dozen rows. It is generated from
// the base's uuid, so every base the fake lists can be opened, and the same
// uuid always gives the same bytes. It is read-only once generated.
type content struct {
	tables []*fakeTable
	meta   []byte // the metadata answer, encoded once
}

type fakeTable struct {
	id, name string
	columns  []fakeColumn
	views    []fakeView
	rows     []fakeRow

	// encoded holds each row's JSON, keyed by column key [0] or name [1],
	// written once: a load run should measure the facade, not the fake.
	encodeOnce [2]sync.Once
	encoded    [2]map[string][]byte
}

// rowBytes returns r's JSON as writeRow writes it.
func (t *fakeTable) rowBytes(r fakeRow, byName bool) []byte {
	i := 0
	if byName {
		i = 1
	}
	t.encodeOnce[i].Do(func() {
		m := make(map[string][]byte, len(t.rows))
		for _, row := range t.rows {
			var b bytes.Buffer
			t.writeRow(&b, row, byName)
			m[row.id] = b.Bytes()
		}
		t.encoded[i] = m
	})
	return t.encoded[i][r.id]
}

type fakeColumn struct {
	key, name, typ string
	data           any // nil: null
}

type fakeView struct {
	id, name string
	filters  []fakeFilter // all must hold ("And")
	sorts    []fakeSort
}

// fakeFilter is SeaTable's view filter: column_key, filter_predicate,
// filter_term.
type fakeFilter struct {
	Column    string `json:"column_key"`
	Predicate string `json:"filter_predicate"`
	Term      any    `json:"filter_term"`
}

// fakeSort is SeaTable's view sort: column_key, sort_type up or down.
type fakeSort struct {
	Column string `json:"column_key"`
	Type   string `json:"sort_type"`
}

type fakeRow struct {
	id           string
	ctime, mtime string
	cells        map[string]any // by column key; absent = empty
}

// Column keys of the generated tables (SeaTable keys are 4 characters).
const (
	colName, colStatus, colTags, colBudget, colDone = "0000", "St4t", "T4gs", "Bdgt", "D0ne"
	colDue, colOwner, colTasks, colNotes, colWidget = "DuE1", "0wnr", "Lnk1", "N0ts", "Wdgt"
	colTitle, colProject, colEstimate, colFinished  = "0000", "Lnk2", "Est1", "Fin1"
	colContact, colEmail, colSite                   = "0000", "Em41", "Url1"
)

var (
	statuses = []string{"Planned", "In progress", "Done", "On hold"}
	tagNames = []string{"urgent", "client", "internal", "research", "ops"}
	people   = []string{"3f1c9a52b7e04d6c8a21f0e9d4b7c6a1@auth.local", "8b2d4e6f0a1c3e5b7d9f1a3c5e7b9d0f@auth.local",
		"c0ffee00c0ffee00c0ffee00c0ffee00@auth.local"}
	// budgets are number cells written as SeaTable wrote them: decimals
	// that floats cannot hold exactly, and an integer past 2^53.
	budgets = []string{"12500.5", "0.1", "98000", "4200.75", "12345678901234567890", "730.2"}
)

// generateContent builds the content of base uuid.
func generateContent(uuid string) *content {
	h := fnv.New64a()
	h.Write([]byte(uuid))
	seed := int(h.Sum64() % 1000)
	rowID := func(table string, i int) string {
		f := fnv.New64a()
		fmt.Fprintf(f, "%s/%s/%d", uuid, table, i)
		return rowIDText(f.Sum64())
	}
	projects := &fakeTable{id: "0000", name: "Projects"}
	tasks := &fakeTable{id: "tK5a", name: "Tasks"}
	contacts := &fakeTable{id: "c7Qe", name: "Contacts"}
	linkID := "Ln0k"
	projects.columns = []fakeColumn{
		{colName, "Name", "text", nil},
		{colStatus, "Status", "single-select", map[string]any{"options": selectOptions(statuses)}},
		{colTags, "Tags", "multiple-select", map[string]any{"options": selectOptions(tagNames)}},
		{colBudget, "Budget", "number", map[string]any{"format": "euro", "decimal": "dot", "thousands": "comma", "enable_precision": true, "precision": 2}},
		{colDone, "Done", "checkbox", nil},
		{colDue, "Due", "date", map[string]any{"format": "YYYY-MM-DD"}},
		{colOwner, "Owner", "collaborator", nil},
		{colTasks, "Tasks", "link", map[string]any{"table_id": projects.id, "other_table_id": tasks.id, "is_internal_link": true,
			"link_id": linkID, "display_column_key": colTitle, "is_multiple": true}},
		{colNotes, "Notes", "long-text", nil},
		{colWidget, "Gauge", "x-custom-gauge", map[string]any{"max": 10, "style": "arc"}},
	}
	tasks.columns = []fakeColumn{
		{colTitle, "Title", "text", nil},
		{colProject, "Project", "link", map[string]any{"table_id": tasks.id, "other_table_id": projects.id, "is_internal_link": true,
			"link_id": linkID, "display_column_key": colName, "is_multiple": false}},
		{colEstimate, "Estimate", "number", map[string]any{"format": "number", "decimal": "dot", "thousands": "no"}},
		{colFinished, "Finished", "checkbox", nil},
		{colDue, "Due", "date", map[string]any{"format": "YYYY-MM-DD HH:mm"}},
	}
	contacts.columns = []fakeColumn{
		{colContact, "Name", "text", nil},
		{colEmail, "Email", "email", nil},
		{colSite, "Website", "url", nil},
	}
	projects.views = []fakeView{
		{id: "0000", name: "Default View"},
		{id: "vIn1", name: "In progress", filters: []fakeFilter{{colStatus, "is", "In progress"}},
			sorts: []fakeSort{{colDue, "up"}}},
		{id: "vBg2", name: "Big budgets", filters: []fakeFilter{{colBudget, "greater", "5000"}},
			sorts: []fakeSort{{colBudget, "down"}}},
	}
	tasks.views = []fakeView{
		{id: "0000", name: "Default View"},
		{id: "vOp3", name: "Open tasks", filters: []fakeFilter{{colFinished, "is", false}}},
	}
	contacts.views = []fakeView{{id: "0000", name: "Default View"}}

	const nProjects, nTasks, nContacts = 36, 48, 12
	stamp := func(i, minute int) string {
		return fmt.Sprintf("2026-%02d-%02dT%02d:%02d:%02d.%03d+00:00", 1+i%12, 1+i%28, 8+i%10, minute%60, (seed+i)%60, (seed*7+i)%1000)
	}
	for i := 0; i < nProjects; i++ {
		cells := map[string]any{colName: fmt.Sprintf("Project %d", i+1)}
		if i%7 != 6 { // some statuses left empty
			cells[colStatus] = statuses[(seed+i)%len(statuses)]
		}
		if i%3 != 2 {
			cells[colTags] = []string{tagNames[(seed+i)%len(tagNames)], tagNames[(seed+i+2)%len(tagNames)]}
		}
		cells[colBudget] = json.Number(budgets[(seed+i)%len(budgets)])
		cells[colDone] = (seed+i)%4 == 2
		if i%5 != 4 {
			cells[colDue] = fmt.Sprintf("2026-%02d-%02d", 1+(seed+i)%12, 1+(i*3)%28)
		}
		cells[colOwner] = []string{people[(seed+i)%len(people)]}
		var links []map[string]string
		for _, t := range []int{i, i + nProjects} {
			if t < nTasks {
				links = append(links, map[string]string{"row_id": rowID("tasks", t), "display_value": fmt.Sprintf("Task %d", t+1)})
			}
		}
		cells[colTasks] = links
		if i%4 == 0 {
			cells[colNotes] = fmt.Sprintf("# Project %d\nKick-off notes: *budget* \"approved\" ✓", i+1)
		}
		if i%6 == 0 {
			cells[colWidget] = map[string]any{"value": (seed + i) % 10, "label": "health"}
		}
		projects.rows = append(projects.rows, fakeRow{id: rowID("projects", i), ctime: stamp(i, 5), mtime: stamp(i+1, 40), cells: cells})
	}
	for i := 0; i < nTasks; i++ {
		p := i % nProjects
		cells := map[string]any{
			colTitle:    fmt.Sprintf("Task %d", i+1),
			colProject:  []map[string]string{{"row_id": rowID("projects", p), "display_value": fmt.Sprintf("Project %d", p+1)}},
			colEstimate: json.Number(strconv.Itoa(1 + (seed+i)%13)),
			colFinished: (seed+i)%3 == 0,
		}
		if i%4 != 3 {
			cells[colDue] = fmt.Sprintf("2026-%02d-%02d %02d:30", 1+(seed+i)%12, 1+i%28, 8+i%9)
		}
		tasks.rows = append(tasks.rows, fakeRow{id: rowID("tasks", i), ctime: stamp(i, 10), mtime: stamp(i, 50), cells: cells})
	}
	for i := 0; i < nContacts; i++ {
		cells := map[string]any{colContact: fmt.Sprintf("Contact %d", i+1),
			colEmail: fmt.Sprintf("contact%d@example.com", i+1)}
		if i%2 == 0 {
			cells[colSite] = fmt.Sprintf("https://example.com/people/%d", i+1)
		}
		contacts.rows = append(contacts.rows, fakeRow{id: rowID("contacts", i), ctime: stamp(i, 15), mtime: stamp(i, 15), cells: cells})
	}
	c := &content{tables: []*fakeTable{projects, tasks, contacts}}
	c.meta = c.encodeMetadata(seed)
	return c
}

// rowIDText writes n as 22 characters of SeaTable's row id alphabet.
func rowIDText(n uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 22)
	for i := range b {
		b[i] = alphabet[n%uint64(len(alphabet))]
		n = n/uint64(len(alphabet)) ^ (n * 0x9E3779B97F4A7C15)
	}
	return string(b)
}

func selectOptions(names []string) []map[string]string {
	colors := []string{"#FFFCB5", "#C2F0D0", "#FFD9C8", "#CDE5FF", "#E6DCFF"}
	out := make([]map[string]string, len(names))
	for i, n := range names {
		out[i] = map[string]string{"name": n, "id": fmt.Sprintf("%06d", 100000+i*7919%900000), "color": colors[i%len(colors)], "textColor": "#202428"}
	}
	return out
}

// encodeMetadata writes the metadata answer with the members SeaTable
// sends beside the ones clients read, so decoders meet unknown members.
func (c *content) encodeMetadata(seed int) []byte {
	tables := make([]any, 0, len(c.tables))
	for _, t := range c.tables {
		cols := make([]any, 0, len(t.columns))
		for _, col := range t.columns {
			cols = append(cols, map[string]any{"key": col.key, "type": col.typ, "name": col.name, "editable": true,
				"width": 200, "resizable": true, "draggable": true, "data": col.data, "permission_type": "",
				"permitted_users": []string{}, "edit_metadata_permission_type": "", "edit_metadata_permitted_users": []string{},
				"description": nil})
		}
		views := make([]any, 0, len(t.views))
		for _, v := range t.views {
			filters, sorts := v.filters, v.sorts
			if filters == nil {
				filters = []fakeFilter{}
			}
			if sorts == nil {
				sorts = []fakeSort{}
			}
			views = append(views, map[string]any{"_id": v.id, "name": v.name, "type": "table", "private_for": nil,
				"is_locked": false, "row_height": "default", "filter_conjunction": "And", "filters": filters,
				"sorts": sorts, "groupbys": []any{}, "colorbys": map[string]any{}, "hidden_columns": []string{},
				"rows": []any{}, "formula_rows": map[string]any{}, "link_rows": map[string]any{}, "summaries": map[string]any{},
				"colors": map[string]any{}, "column_colors": map[string]any{}, "groups": []any{}})
		}
		tables = append(tables, map[string]any{"_id": t.id, "name": t.name, "is_header_locked": false,
			"summary_configs": map[string]any{}, "header_settings": map[string]any{}, "columns": cols, "views": views})
	}
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"version": 1000 + seed, "format_version": 10,
		"tables": tables, "statistics": []any{}, "scripts": []any{}, "settings": map[string]any{"securities": map[string]any{}}}})
	return b
}

func (c *content) metadataJSON() []byte { return c.meta }

func errorBody(msg string) []byte {
	b, _ := json.Marshal(map[string]string{"error_msg": msg})
	return b
}

// table finds a table by table_name, or table_id.
func (c *content) table(q url.Values) *fakeTable {
	for _, t := range c.tables {
		if (q.Has("table_name") && t.name == q.Get("table_name")) || (!q.Has("table_name") && q.Has("table_id") && t.id == q.Get("table_id")) {
			return t
		}
	}
	return nil
}

// rowsJSON answers GET .../rows/: table_name or table_id, view_name or
// view_id, start (default 0), limit (default and at most 1000),
// convert_keys.
func (c *content) rowsJSON(q url.Values) (int, []byte) {
	t := c.table(q)
	if t == nil {
		return http.StatusNotFound, errorBody("table not found")
	}
	start, limit := 0, 1000
	var err error
	if v := q.Get("start"); v != "" {
		if start, err = strconv.Atoi(v); err != nil || start < 0 {
			return http.StatusBadRequest, errorBody("start invalid")
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			return http.StatusBadRequest, errorBody("limit invalid")
		}
	}
	rows := t.rows
	if q.Has("view_name") || q.Has("view_id") {
		var view *fakeView
		for i, v := range t.views {
			if (q.Has("view_name") && v.name == q.Get("view_name")) || (!q.Has("view_name") && v.id == q.Get("view_id")) {
				view = &t.views[i]
			}
		}
		if view == nil {
			return http.StatusNotFound, errorBody("view not found")
		}
		rows = view.apply(t, rows)
	}
	byName := q.Get("convert_keys") == "true"
	var b bytes.Buffer
	b.WriteString(`{"rows":[`)
	for i := start; i < len(rows) && i < start+limit; i++ {
		if i > start {
			b.WriteByte(',')
		}
		b.Write(t.rowBytes(rows[i], byName))
	}
	b.WriteString(`]}`)
	return http.StatusOK, b.Bytes()
}

// rowJSON answers GET .../rows/{id}/: the row object itself.
func (c *content) rowJSON(q url.Values, id string) (int, []byte) {
	t := c.table(q)
	if t == nil {
		return http.StatusNotFound, errorBody("table not found")
	}
	for _, r := range t.rows {
		if r.id == id {
			var b bytes.Buffer
			t.writeRow(&b, r, q.Get("convert_keys") == "true")
			return http.StatusOK, b.Bytes()
		}
	}
	return http.StatusNotFound, errorBody("row not found")
}

// writeRow writes a row as SeaTable does: system members first, then the
// cells in column order, keyed by column name or key, empty cells absent.
func (t *fakeTable) writeRow(b *bytes.Buffer, r fakeRow, byName bool) {
	enc := func(v any) []byte { out, _ := json.Marshal(v); return out }
	fmt.Fprintf(b, `{"_id":%s,"_mtime":%s,"_ctime":%s,"_creator":%s,"_last_modifier":%s,"_locked":null,"_locked_by":null`,
		enc(r.id), enc(r.mtime), enc(r.ctime), enc(people[0]), enc(people[1]))
	for _, col := range t.columns {
		v, ok := r.cells[col.key]
		if !ok {
			continue
		}
		k := col.key
		if byName {
			k = col.name
		}
		b.WriteByte(',')
		b.Write(enc(k))
		b.WriteByte(':')
		b.Write(enc(v))
	}
	b.WriteByte('}')
}

// apply filters and sorts rows as the view says (simply: the predicates
// the generated views use).
func (v *fakeView) apply(t *fakeTable, rows []fakeRow) []fakeRow {
	out := make([]fakeRow, 0, len(rows))
	for _, r := range rows {
		keep := true
		for _, f := range v.filters {
			keep = keep && f.holds(r.cells[f.Column])
		}
		if keep {
			out = append(out, r)
		}
	}
	for i := len(v.sorts) - 1; i >= 0; i-- {
		s := v.sorts[i]
		sort.SliceStable(out, func(a, b int) bool {
			less := compareCells(out[a].cells[s.Column], out[b].cells[s.Column])
			if s.Type == "down" {
				return less > 0
			}
			return less < 0
		})
	}
	return out
}

func (f fakeFilter) holds(cell any) bool {
	switch f.Predicate {
	case "is":
		if want, ok := f.Term.(bool); ok {
			got, _ := cell.(bool)
			return got == want
		}
		return fmt.Sprint(cell) == fmt.Sprint(f.Term) && cell != nil
	case "is_not":
		return fmt.Sprint(cell) != fmt.Sprint(f.Term)
	case "greater", "less":
		n, ok := number(cell)
		term, _ := strconv.ParseFloat(fmt.Sprint(f.Term), 64)
		if !ok {
			return false
		}
		if f.Predicate == "greater" {
			return n > term
		}
		return n < term
	}
	return true
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// compareCells orders numbers by value and everything else as text;
// empty cells come last.
func compareCells(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

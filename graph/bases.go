package graph

// Inside a base: tables, columns, views and rows (issue 21). Everything is
// read through the request's loaders (graph/loaders/bases.go): a base's
// metadata once per request, each page of rows once, bases side by side.
// A base the caller cannot see in its workspace list is never opened: its
// tables, and node(id:) of anything in it, are null.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/graph/model"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Row paging: SeaTable's rows endpoint takes start and limit, at most
// 1000 rows a call.
const (
	defaultRowsFirst = 100
	maxRowsFirst     = upstream.MaxRowsLimit
)

// baseTables reads the tables of base d (nil, with no error, when the
// caller cannot see it).
func baseTables(ctx context.Context, d *upstream.DTable) ([]*model.Table, error) {
	meta, err := loaders.For(ctx).BaseMetadata(ctx, d.UUID)
	if err != nil {
		return nil, err
	}
	if meta == nil {
		return nil, apperr.New(apperr.NotFound, "the base is not in the caller's workspace list")
	}
	out := make([]*model.Table, len(meta.Tables))
	for i := range meta.Tables {
		out[i] = newTable(d, &meta.Tables[i])
	}
	return out, nil
}

// baseTable is the table called name in base d, or nil.
func baseTable(ctx context.Context, d *upstream.DTable, name string) (*model.Table, error) {
	tables, err := baseTables(ctx, d)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, nil
}

func newTable(d *upstream.DTable, t *upstream.Table) *model.Table {
	m := &model.Table{
		ID: globalID(kindTable, tableKey(d.UUID, t.ID)), SeatableID: t.ID, Name: t.Name,
		Columns: make([]*upstream.Column, len(t.Columns)), Views: make([]*model.View, len(t.Views)),
		Base: d, Meta: t,
	}
	for i := range t.Columns {
		m.Columns[i] = &t.Columns[i]
	}
	for i := range t.Views {
		v := &t.Views[i]
		var typ *string
		if v.Type != "" {
			typ = &v.Type
		}
		m.Views[i] = &model.View{ID: globalID(kindView, tableKey(d.UUID, t.ID)+":"+v.ID), SeatableID: v.ID, Name: v.Name, Type: typ, Table: m}
	}
	return m
}

// tableKey is a table's natural key: its base's uuid (36 characters) and
// SeaTable's table id. Views and rows add their own id after a colon.
func tableKey(uuid, tableID string) string { return uuid + ":" + tableID }

// splitBaseKey splits a Table, View or Row key into the base's uuid, the
// table's id and the rest (the view's or the row's id; "" for a table).
func splitBaseKey(key string) (uuid, table, rest string, ok bool) {
	uuid, after, found := strings.Cut(key, ":")
	if !found || upstream.NormalizeUUID(uuid) != uuid {
		return "", "", "", false
	}
	table, rest, _ = strings.Cut(after, ":")
	return uuid, table, rest, table != ""
}

func newRow(uuid, tableID string, r *upstream.Row) *model.Row {
	values := r.Values
	if len(values) == 0 {
		values = json.RawMessage("{}")
	}
	return &model.Row{ID: globalID(kindRow, tableKey(uuid, tableID)+":"+r.ID), SeatableID: r.ID, Values: values, CreatedAt: r.Created, UpdatedAt: r.Modified}
}

// rowCursor is the opaque position of the row at offset in the rows of a
// table (and view): the offset bound to where it is valid, so that a
// cursor of another table or view is refused instead of silently read
// at the wrong place.
func rowCursor(uuid, tableID, viewID string, offset int) string {
	return idEncoding.EncodeToString([]byte("rows:" + uuid + ":" + tableID + ":" + viewID + ":" + strconv.Itoa(offset)))
}

// rowOffset decodes an after cursor for the rows of (uuid, tableID, viewID).
func rowOffset(cursor, uuid, tableID, viewID string) (int, error) {
	bad := apperr.New(apperr.BadUserInput, "after: not a cursor of these rows (cursors belong to one table and view)")
	raw, err := idEncoding.DecodeString(cursor)
	if err != nil {
		return 0, bad
	}
	prefix := "rows:" + uuid + ":" + tableID + ":" + viewID + ":"
	s, found := strings.CutPrefix(string(raw), prefix)
	if !found {
		return 0, bad
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strconv.Itoa(n) != s {
		return 0, bad
	}
	return n, nil
}

// tableRows is Table.rows and View.rows: one page, read with one call of
// first+1 rows so that hasNextPage is exact (first rows when first is
// 1000, SeaTable's most: then a full page says there may be more).
func tableRows(ctx context.Context, t *model.Table, view *upstream.View, first *int, after *string) (*model.RowConnection, error) {
	n := defaultRowsFirst
	if first != nil {
		n = *first
	}
	if n < 0 || n > maxRowsFirst {
		return nil, apperr.New(apperr.BadUserInput, fmt.Sprintf("first must be between 0 and %d (SeaTable's page size), got %d", maxRowsFirst, n))
	}
	var viewID, viewName string
	if view != nil {
		viewID, viewName = view.ID, view.Name
	}
	uuid := t.Base.UUID
	start := 0
	if after != nil {
		o, err := rowOffset(*after, uuid, t.SeatableID, viewID)
		if err != nil {
			return nil, err
		}
		start = o + 1
	}
	limit := min(n+1, maxRowsFirst)
	rows, err := loaders.For(ctx).Rows(ctx, loaders.RowsKey{Base: uuid, Table: t.Name, View: viewName, Start: start, Limit: limit})
	if err != nil {
		return nil, err
	}
	hasNext := len(rows) > n || (n == maxRowsFirst && len(rows) == maxRowsFirst)
	rows = rows[:min(n, len(rows))]
	conn := &model.RowConnection{
		Edges: make([]*model.RowEdge, len(rows)), Nodes: make([]*model.Row, len(rows)),
		PageInfo: &model.PageInfo{HasNextPage: hasNext, HasPreviousPage: start > 0},
	}
	for i := range rows {
		r := newRow(uuid, t.SeatableID, &rows[i])
		conn.Nodes[i] = r
		conn.Edges[i] = &model.RowEdge{Cursor: rowCursor(uuid, t.SeatableID, viewID, start+i), Node: r}
	}
	if len(rows) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(rows)-1].Cursor
	}
	return conn, nil
}

// tableView is the view of t called name, or nil.
func tableView(t *model.Table, name string) *model.View {
	for _, v := range t.Views {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// metaView is SeaTable's view behind v.
func metaView(v *model.View) *upstream.View {
	for i := range v.Table.Meta.Views {
		if mv := &v.Table.Meta.Views[i]; mv.ID == v.SeatableID {
			return mv
		}
	}
	return &upstream.View{ID: v.SeatableID, Name: v.Name}
}

// tableRowsOfView is Table.rows with its view argument.
func tableRowsOfView(ctx context.Context, t *model.Table, view *string, first *int, after *string) (*model.RowConnection, error) {
	if view == nil {
		return tableRows(ctx, t, nil, first, after)
	}
	v := tableView(t, *view)
	if v == nil {
		return nil, apperr.New(apperr.NotFound, "table "+apperr.Echo(t.Name)+" has no view "+apperr.Echo(*view))
	}
	return tableRows(ctx, t, metaView(v), first, after)
}

// tableRow is Table.row: nil when the table has no such row.
func tableRow(ctx context.Context, t *model.Table, id string) (*model.Row, error) {
	r, err := loaders.For(ctx).Row(ctx, loaders.RowKey{Base: t.Base.UUID, Table: t.Name, Row: id})
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, nil
	}
	if err != nil || r == nil {
		return nil, err
	}
	return newRow(t.Base.UUID, t.SeatableID, r), nil
}

// rowCell is Row.cell: the value in column, null when absent.
func rowCell(r *model.Row, column string) (json.RawMessage, error) {
	var cells map[string]json.RawMessage
	if err := json.Unmarshal(r.Values, &cells); err != nil {
		return nil, apperr.Wrap(apperr.UpstreamBadResponse, "SeaTable sent a row that is not an object", err)
	}
	v := cells[column]
	if string(v) == "null" {
		return nil, nil
	}
	return v, nil
}

// resolveBaseNode reads a Table, View or Row by its global id key through
// the same loaders as every other read: nil when the caller cannot see the
// base, or the base has no such object.
func resolveBaseNode(ctx context.Context, id, kind, key string) (model.Node, error) {
	uuid, tableID, rest, ok := splitBaseKey(key)
	if !ok || (kind == kindTable) != (rest == "") {
		return nil, badID(id)
	}
	l := loaders.For(ctx)
	snap, err := l.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	d := snap.ViewBase(uuid)
	if d == nil {
		return nil, nil
	}
	tables, err := baseTables(ctx, d)
	if err != nil {
		return nil, err
	}
	var t *model.Table
	for _, c := range tables {
		if c.SeatableID == tableID {
			t = c
		}
	}
	if t == nil {
		return nil, nil
	}
	switch kind {
	case kindTable:
		return t, nil
	case kindView:
		for _, v := range t.Views {
			if v.SeatableID == rest {
				return v, nil
			}
		}
		return nil, nil
	default: // kindRow
		r, err := tableRow(ctx, t, rest)
		if err != nil || r == nil {
			return nil, err
		}
		return r, nil
	}
}

// refuseTooManyBases refuses, before anything is read (not even the
// workspace list), an operation whose root `dtable(uuid:)` fields alone
// open more than max distinct bases: there the document says how many
// bases it opens. Every other way to reach a base (lists, node ids) is
// counted by the loaders as bases open, which refuse the extra ones.
// Fields under @skip/@include are not counted here (the loaders still are).
func refuseTooManyBases(max int) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if max <= 0 || !graphql.HasOperationContext(ctx) {
			return next(ctx)
		}
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation == nil || oc.Operation.Operation != ast.Query {
			return next(ctx)
		}
		uuids := map[string]bool{}
		walkFields(oc.Operation.SelectionSet, map[string]bool{}, func(f *ast.Field) {
			if f.Name != "dtable" || len(f.Directives) > 0 || !opensBases(f.SelectionSet, map[string]bool{}) {
				return
			}
			if u, ok := f.ArgumentMap(oc.Variables)["uuid"].(string); ok {
				if n := upstream.NormalizeUUID(u); n != "" {
					uuids[n] = true
				}
			}
		})
		if len(uuids) <= max {
			return next(ctx)
		}
		err := presented(apperr.New(apperr.BadUserInput, fmt.Sprintf("this operation opens %d bases; the limit is %d a request (MAX_BASES_PER_REQUEST): ask for the contents of fewer bases per request", len(uuids), max)))
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{err}})
	}
}

package model

import (
	"encoding/json"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Table is a table of a base as the schema shows it: SeaTable's metadata
// with the base it came from, which its id, rows and row need.
type Table struct {
	ID         string // global id
	SeatableID string
	Name       string
	Columns    []*upstream.Column
	Views      []*View
	// Base is the base's entry in the request's workspace list.
	Base *upstream.DTable
	// Meta is the table in the base's metadata.
	Meta *upstream.Table
}

// View is a view of a table.
type View struct {
	ID         string // global id
	SeatableID string
	Name       string
	Type       *string
	Table      *Table
}

// Row is a row of a table.
type Row struct {
	ID         string // global id
	SeatableID string
	Values     json.RawMessage
	CreatedAt  *time.Time
	UpdatedAt  *time.Time
}

// RowConnection is a page of rows.
type RowConnection struct {
	Edges    []*RowEdge
	Nodes    []*Row
	PageInfo *PageInfo
}

// RowEdge is a row with its cursor.
type RowEdge struct {
	Cursor string
	Node   *Row
}

package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// Inside a base (contract section 7): the account token is exchanged for a
// base token per base, and the base's metadata and rows come from the base's
// own server (dtable_server, the API gateway on current SeaTable) with it.

// BaseRef names a base the way SeaTable's token exchange needs it (all
// three from the workspace list).
type BaseRef struct {
	UUID string // 36 characters, lower case, dashed (as DTable.UUID)
	// WorkspaceID is the base's own workspace (DTable.WorkspaceID), also
	// for shared and starred entries: the exchange is addressed by it.
	WorkspaceID string
	Name        string
}

// BaseMetadata is a base's structure: its tables, in SeaTable's order.
type BaseMetadata struct {
	Tables  []Table
	Version int64
}

// Table is one table of a base, with its columns and views in SeaTable's
// order.
type Table struct {
	ID      string // SeaTable's table _id, e.g. "0000"
	Name    string
	Columns []Column
	Views   []View
}

// Column is one column of a table. Type is SeaTable's column type as sent
// ("text", "number", "link", ...), unknown types included.
type Column struct {
	Key, Name, Type string
	// Data is the column's type-specific settings as SeaTable sends them
	// (options of a select, the link's other table, a number's format);
	// nil when null or absent.
	Data json.RawMessage
}

// View is one view of a table (SeaTable's _id, name and type).
type View struct{ ID, Name, Type string }

// Row is one row of a table.
type Row struct {
	ID       string
	Created  *time.Time // _ctime; nil when absent or unparseable
	Modified *time.Time // _mtime
	// Values is a JSON object keyed by column name with SeaTable's cell values as they come
	// (empty cells absent); SeaTable's system members (_id, _ctime, _mtime, _creator, ...) removed.
	Values json.RawMessage
}

// RowsQuery selects a page of a table's rows, or of a view's.
type RowsQuery struct {
	Table string // table name
	View  string // view name; "" for none
	Start int
	Limit int // 1..1000
}

// MaxRowsLimit is SeaTable's largest page of rows (and its default).
const MaxRowsLimit = 1000

// BaseReader reads inside bases with the caller's ACCOUNT token; it exchanges and caches base tokens itself.
// Errors are the package's usual typed errors (the status table in errors.go), so the graph layer
// classifies them as FORBIDDEN, NOT_FOUND, RATE_LIMITED (with retryAfter), UPSTREAM_* as for the list.
type BaseReader interface {
	BaseMetadata(ctx context.Context, token string, base BaseRef) (*BaseMetadata, error)
	Rows(ctx context.Context, token string, base BaseRef, q RowsQuery) ([]Row, error)
	Row(ctx context.Context, token string, base BaseRef, table, rowID string) (*Row, error) // not found: the NotFound error kind
}

var _ BaseReader = (*BaseClient)(nil)

// BaseClient is the BaseReader over a Client: it exchanges account tokens
// for base tokens through the client and keeps them per caller and base.
type BaseClient struct {
	client *Client
}

// BaseOption configures a BaseClient.
type BaseOption func(*BaseClient)

// NewBaseClient returns a BaseReader that reads bases through c.
func NewBaseClient(c *Client, opts ...BaseOption) *BaseClient {
	b := &BaseClient{client: c}
	for _, o := range opts {
		o(b)
	}
	return b
}

var errNotYet = errors.New("reading inside bases is not implemented yet")

// BaseMetadata reads the tables, columns and views of base.
func (b *BaseClient) BaseMetadata(ctx context.Context, token string, base BaseRef) (*BaseMetadata, error) {
	return nil, apperr.Wrap(apperr.Internal, "not implemented", errNotYet)
}

// Rows reads one page of a table's (or a view's) rows.
func (b *BaseClient) Rows(ctx context.Context, token string, base BaseRef, q RowsQuery) ([]Row, error) {
	return nil, apperr.Wrap(apperr.Internal, "not implemented", errNotYet)
}

// Row reads one row by SeaTable's row _id.
func (b *BaseClient) Row(ctx context.Context, token string, base BaseRef, table, rowID string) (*Row, error) {
	return nil, apperr.Wrap(apperr.Internal, "not implemented", errNotYet)
}

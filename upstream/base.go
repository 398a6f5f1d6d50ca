package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/flight"
	"github.com/seatable-graphql/seatable-graphql/internal/lru"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
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

// BaseClient is the BaseReader over a Client. It exchanges account tokens
// for base tokens through the client (the account API's breaker, timeouts,
// retries and body cap) and keeps them per caller and base (basetoken.go).
// Base calls use the client's HTTP client, so they are counted, measured
// and traced like the account calls, and the same settings; they have a
// circuit breaker of their own, since the base server (the API gateway)
// can fail while the account API works and the other way round.
//
// It sends a base token only to the origin of the client's base URL or to
// a host WithAllowedBaseHosts names. It never logs, and no error it returns
// holds a base token or the base server's address.
type BaseClient struct {
	account *Client
	gateway *Client
	allowed map[string]bool // origins base tokens may go to

	hash      func(token string) string
	tokens    *lru.Cache[*baseToken]
	exchanges flight.Group[*baseToken]
	mu        sync.Mutex // makes dropBaseToken's compare-and-remove atomic
	now       func() time.Time
	lifetime  time.Duration
	entries   int
	extra     []string

	breakerHook *func(from, to string) // nil: the client's
}

// BaseOption configures a BaseClient.
type BaseOption func(*BaseClient)

// WithAllowedBaseHosts names hosts besides the SeaTable URL's own that base
// tokens may be sent to, for installations whose API gateway has a host of
// its own. Entries are origins (https://host[:port]) or bare host[:port],
// meaning https; CheckBaseHosts validates them, and an entry it rejects
// allows nothing.
func WithAllowedBaseHosts(hosts []string) BaseOption {
	return func(b *BaseClient) { b.extra = append([]string(nil), hosts...) }
}

// WithBaseTokenCacheEntries bounds how many base tokens are kept (callers
// times bases, default DefaultBaseTokenCacheEntries).
func WithBaseTokenCacheEntries(n int) BaseOption {
	return func(b *BaseClient) {
		if n > 0 {
			b.entries = n
		}
	}
}

// WithBaseTokenLifetime sets how long a base token without a readable
// expiry is assumed to be valid (default DefaultBaseTokenLifetime).
func WithBaseTokenLifetime(d time.Duration) BaseOption {
	return func(b *BaseClient) {
		if d > 0 {
			b.lifetime = d
		}
	}
}

// WithBaseBreakerStateHook is told about every state change of the base
// servers' circuit breaker ("closed", "open", "half-open"). Without it the
// client's hook (WithBreakerStateHook) is told.
func WithBaseBreakerStateHook(f func(from, to string)) BaseOption {
	return func(b *BaseClient) { b.breakerHook = &f }
}

// withBaseClock replaces the clock the token cache reads (tests).
func withBaseClock(now func() time.Time) BaseOption { return func(b *BaseClient) { b.now = now } }

// NewBaseClient returns a BaseReader that reads bases through c.
func NewBaseClient(c *Client, opts ...BaseOption) *BaseClient {
	key := tokenhash.NewKey()
	b := &BaseClient{
		account:  c,
		hash:     func(token string) string { return tokenhash.Sum(key, token) },
		now:      time.Now,
		lifetime: DefaultBaseTokenLifetime,
		entries:  DefaultBaseTokenCacheEntries,
	}
	for _, o := range opts {
		o(b)
	}
	b.allowed = map[string]bool{origin(c.base): true}
	for _, h := range b.extra {
		if o, ok := parseOrigin(h); ok {
			b.allowed[o] = true
		}
	}
	// Entries are a few hundred bytes; the byte bound only backs up the
	// count.
	b.tokens = lru.New[*baseToken](int64(b.entries)*2048, b.entries)
	gw := *c
	if b.breakerHook != nil {
		gw.onStateChange = *b.breakerHook
	}
	gw.breaker = gw.newBreaker(c.base.Host + " bases")
	b.gateway = &gw
	return b
}

// BaseMetadata reads the tables, columns and views of base: GET
// {dtable_server}api/v2/dtables/{uuid}/metadata/.
func (b *BaseClient) BaseMetadata(ctx context.Context, token string, base BaseRef) (*BaseMetadata, error) {
	var md *BaseMetadata
	err := b.call(ctx, token, &base, "metadata/", "metadata/", nil, func(body []byte) error {
		var err error
		md, err = decodeMetadata(body)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read base metadata: %w", err)
	}
	return md, nil
}

// Rows reads one page of a table's rows, or of a view's (filtered and
// sorted by SeaTable): GET .../rows/?table_name=&view_name=&start=&limit=.
func (b *BaseClient) Rows(ctx context.Context, token string, base BaseRef, q RowsQuery) ([]Row, error) {
	switch {
	case q.Table == "":
		return nil, apperr.New(apperr.BadUserInput, "rows: no table named")
	case q.Start < 0:
		return nil, apperr.New(apperr.BadUserInput, "rows: start must not be negative")
	case q.Limit < 1 || q.Limit > MaxRowsLimit:
		return nil, apperr.New(apperr.BadUserInput, fmt.Sprintf("rows: limit must be between 1 and %d", MaxRowsLimit))
	}
	query := url.Values{"table_name": {q.Table}, "start": {strconv.Itoa(q.Start)},
		"limit": {strconv.Itoa(q.Limit)}, "convert_keys": {"true"}}
	if q.View != "" {
		query.Set("view_name", q.View)
	}
	var rows []Row
	err := b.call(ctx, token, &base, "rows/", "rows/", query, func(body []byte) error {
		var err error
		rows, err = decodeRows(body)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	return rows, nil
}

// Row reads one row by SeaTable's row _id: GET .../rows/{row_id}/. A row
// that does not exist is a NOT_FOUND error.
func (b *BaseClient) Row(ctx context.Context, token string, base BaseRef, table, rowID string) (*Row, error) {
	if table == "" || rowID == "" {
		return nil, apperr.New(apperr.BadUserInput, "row: no table or row id")
	}
	query := url.Values{"table_name": {table}, "convert_keys": {"true"}}
	var (
		row   Row
		found bool
	)
	err := b.call(ctx, token, &base, "rows/"+pathSegment(rowID)+"/", "rows/{id}/", query, func(body []byte) error {
		var err error
		row, found, err = decodeOneRow(body)
		return err
	})
	if err == nil && !found {
		err = apperr.New(apperr.NotFound, safeMessages[apperr.NotFound])
	}
	if err != nil {
		return nil, fmt.Errorf("read row: %w", err)
	}
	return &row, nil
}

// call makes one GET below the base's resource root with a base token,
// exchanging one first when none is kept. When the base server rejects the
// token as expired (403 "Token expired.") or invalid (401), it drops it,
// exchanges once more and repeats the call once; a second rejection is an
// error, not a loop. rel is the path below the root, route its template.
func (b *BaseClient) call(ctx context.Context, token string, base *BaseRef, rel, route string, query url.Values, decode func([]byte) error) error {
	if token == "" {
		return apperr.New(apperr.Unauthenticated, "no SeaTable token given")
	}
	if u := NormalizeUUID(base.UUID); u != "" {
		base.UUID = u
	} else {
		return apperr.New(apperr.BadUserInput, "the base has no valid uuid")
	}
	for renewed := false; ; renewed = true {
		bt, err := b.baseToken(ctx, token, *base)
		if err != nil {
			return err
		}
		target := bt.api.JoinPath(rel)
		if strings.HasSuffix(rel, "/") && !strings.HasSuffix(target.Path, "/") {
			target.Path += "/"
		}
		target.RawQuery = query.Encode()
		err = b.gateway.sendTo(withRoute(ctx, bt.apiRoute+route), bt.token, http.MethodGet, target.String(), nil, true,
			func(r io.Reader) error {
				body, err := readBody(r, sizeHint(r))
				if err != nil {
					return err
				}
				return decode(body)
			})
		if err == nil || !tokenRejected(err) {
			return err
		}
		b.dropBaseToken(token, *base, bt)
		if renewed {
			// A token minted a moment ago was refused too: SeaTable's base
			// server does not accept what its account API issues.
			status := 0
			if ae, ok := apperr.As(err); ok {
				status = ae.UpstreamStatus
			}
			return &apperr.Error{Code: apperr.UpstreamBadResponse, Message: "SeaTable's base server refused a fresh base token",
				UpstreamStatus: status, Err: err}
		}
	}
}

// tokenRejected reports whether a base call failed because the base server
// no longer accepts the base token: 401, or 403 "Token expired." (the
// message the Python SDK turns into AuthExpiredError). Other 403s are
// permission errors.
func tokenRejected(err error) bool {
	ae, ok := apperr.As(err)
	if !ok {
		return false
	}
	switch ae.UpstreamStatus {
	case http.StatusUnauthorized:
		return true
	case http.StatusForbidden:
		st, ok := errors.AsType[*seatableStatus](err)
		return ok && strings.Contains(strings.ToLower(st.Message), "expired")
	}
	return false
}

// BaseRefOf names a listed base for the exchange: its uuid, its own
// workspace and its name.
func BaseRefOf(d *DTable) BaseRef {
	return BaseRef{UUID: d.UUID, WorkspaceID: d.WorkspaceID, Name: d.Name}
}

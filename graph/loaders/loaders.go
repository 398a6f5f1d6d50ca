// Package loaders holds the per-request dataloaders through which every
// resolver reads SeaTable. A Loaders value belongs to one HTTP request and one
// token: it is built in Middleware, kept on the request context, and dropped
// with the request, so data read with one token can never reach another
// request. All loaders read one memoised upstream response, so any query
// shape costs at most one upstream call per request.
package loaders

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Wait is how long a loader collects keys before running its batch. Batches
// here read an in-memory snapshot, so a long window buys nothing and would
// add to every request's latency; 16 ms (the library default) measured as
// 16 ms of pure overhead per loader level.
const Wait = 250 * time.Microsecond

// Fetcher is the part of the SeaTable client the loaders need.
type Fetcher interface {
	ListWorkspaces(ctx context.Context, token string, detail bool) (*upstream.WorkspaceList, error)
}

// Snapshot is one upstream workspace list with its lookup indexes, built
// once per request.
type Snapshot struct {
	List   *upstream.WorkspaceList
	byID   map[string]*upstream.Workspace
	byUUID map[string]*upstream.DTable
}

// NewSnapshot indexes a workspace list. A base listed several times (its own
// workspace, the starred list, a share) resolves to the entry in its own
// workspace when there is one, otherwise to its first appearance.
func NewSnapshot(list *upstream.WorkspaceList) *Snapshot {
	s := &Snapshot{List: list, byID: map[string]*upstream.Workspace{}, byUUID: map[string]*upstream.DTable{}}
	home := map[string]bool{}
	for _, ws := range list.Workspaces {
		if _, dup := s.byID[ws.ID]; !dup && ws.ID != "" {
			s.byID[ws.ID] = ws
		}
		pseudo := ws.Type == upstream.WorkspaceStarred || ws.Type == upstream.WorkspaceShared
		for _, d := range ws.Tables {
			atHome := !pseudo && d.WorkspaceID == ws.ID
			if _, seen := s.byUUID[d.UUID]; !seen || (atHome && !home[d.UUID]) {
				s.byUUID[d.UUID] = d
				home[d.UUID] = atHome
			}
		}
	}
	// Bases shared into a group come last: they are listed in full elsewhere
	// when the caller can see their home.
	for _, ws := range list.Workspaces {
		for _, d := range ws.GroupSharedTables {
			if _, seen := s.byUUID[d.UUID]; !seen {
				s.byUUID[d.UUID] = d
			}
		}
	}
	return s
}

// Workspace returns the workspace with id, or nil.
func (s *Snapshot) Workspace(id string) *upstream.Workspace { return s.byID[id] }

// DTable returns the base with the (normalised) uuid, or nil.
func (s *Snapshot) DTable(uuid string) *upstream.DTable { return s.byUUID[uuid] }

// Invalidator is implemented by Fetchers that keep data across requests (a
// cache): after a write, the token's entries must go.
type Invalidator interface {
	Invalidate(ctx context.Context, token string)
}

// Loaders are one request's dataloaders.
type Loaders struct {
	fetcher Fetcher
	token   string
	authErr error
	detail  bool

	snapshots     *dataloader.Loader[bool, *Snapshot]
	workspaceByID *dataloader.Loader[string, *upstream.Workspace]
	dtableByUUID  *dataloader.Loader[string, *upstream.DTable]
}

// New builds the loaders for one request made with token. authErr, when set,
// is what every read returns (a malformed Authorization header).
func New(f Fetcher, token string, authErr error) *Loaders {
	l := &Loaders{fetcher: f, token: token, authErr: authErr, detail: true}
	l.snapshots = dataloader.NewBatchedLoader(func(ctx context.Context, details []bool) []*dataloader.Result[*Snapshot] {
		out := make([]*dataloader.Result[*Snapshot], len(details))
		for i, detail := range details {
			snap, err := l.fetch(ctx, detail)
			out[i] = &dataloader.Result[*Snapshot]{Data: snap, Error: err}
		}
		return out
	}, dataloader.WithWait[bool, *Snapshot](Wait))
	l.workspaceByID = dataloader.NewBatchedLoader(func(ctx context.Context, ids []string) []*dataloader.Result[*upstream.Workspace] {
		snap, err := l.snapshot(ctx)
		out := make([]*dataloader.Result[*upstream.Workspace], len(ids))
		for i, id := range ids {
			out[i] = &dataloader.Result[*upstream.Workspace]{Error: err}
			if err == nil {
				out[i].Data = snap.Workspace(id)
			}
		}
		return out
	}, dataloader.WithWait[string, *upstream.Workspace](Wait))
	l.dtableByUUID = dataloader.NewBatchedLoader(func(ctx context.Context, uuids []string) []*dataloader.Result[*upstream.DTable] {
		snap, err := l.snapshot(ctx)
		out := make([]*dataloader.Result[*upstream.DTable], len(uuids))
		for i, u := range uuids {
			out[i] = &dataloader.Result[*upstream.DTable]{Error: err}
			if err == nil {
				out[i].Data = snap.DTable(u)
			}
		}
		return out
	}, dataloader.WithWait[string, *upstream.DTable](Wait))
	return l
}

func (l *Loaders) fetch(ctx context.Context, detail bool) (*Snapshot, error) {
	if l.authErr != nil {
		return nil, l.authErr
	}
	if l.token == "" {
		return nil, apperr.New(apperr.Unauthenticated, "no token: send \"Authorization: Token <your SeaTable account token>\"")
	}
	list, err := l.fetcher.ListWorkspaces(ctx, l.token, detail)
	if err != nil {
		return nil, fmt.Errorf("load workspaces: %w", err)
	}
	return NewSnapshot(list), nil
}

// CallerHash returns an HMAC of the request's token under key, so that work
// can be shared between requests of the same caller without keeping the
// token; ok is false when the request has no usable token.
func (l *Loaders) CallerHash(key []byte) (string, bool) {
	if l.authErr != nil || l.token == "" {
		return "", false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(l.token))
	return hex.EncodeToString(m.Sum(nil)), true
}

// SetDetail chooses whether this request's upstream call asks for base
// lists. The GraphQL layer sets it once per operation, before any resolver
// reads, from the fields the operation selects; the default is true.
func (l *Loaders) SetDetail(detail bool) { l.detail = detail }

// snapshot returns this request's memoised workspace list.
func (l *Loaders) snapshot(ctx context.Context) (*Snapshot, error) {
	return l.snapshots.Load(ctx, l.detail)()
}

// Invalidate forgets what this request has read, and what the Fetcher keeps
// for this token, so that reads after a write see the new state.
func (l *Loaders) Invalidate(ctx context.Context) {
	l.snapshots.ClearAll()
	l.workspaceByID.ClearAll()
	l.dtableByUUID.ClearAll()
	if inv, ok := l.fetcher.(Invalidator); ok && l.token != "" {
		inv.Invalidate(ctx, l.token)
	}
}

// Workspaces returns every visible workspace in upstream order.
func (l *Loaders) Workspaces(ctx context.Context) ([]*upstream.Workspace, error) {
	snap, err := l.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return snap.List.Workspaces, nil
}

// WorkspaceByID returns the workspace with id, or nil when not visible.
func (l *Loaders) WorkspaceByID(ctx context.Context, id string) (*upstream.Workspace, error) {
	return l.workspaceByID.Load(ctx, id)()
}

// DTableByUUID returns the base with uuid (32 or 36 characters), or nil when
// not visible.
func (l *Loaders) DTableByUUID(ctx context.Context, uuid string) (*upstream.DTable, error) {
	u := upstream.NormalizeUUID(uuid)
	if u == "" {
		return nil, apperr.New(apperr.BadUserInput, "uuid must be 32 hex characters, or 36 with dashes")
	}
	return l.dtableByUUID.Load(ctx, u)()
}

type ctxKey struct{}

// NewContext returns ctx carrying l.
func NewContext(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the request's loaders. Outside a request (a bug) it returns
// loaders that fail every read instead of panicking.
func For(ctx context.Context) *Loaders {
	if l, ok := ctx.Value(ctxKey{}).(*Loaders); ok {
		return l
	}
	return New(nil, "", apperr.New(apperr.Internal, "no loaders on context"))
}

// Middleware builds fresh loaders for each request, with the caller's token
// (or fallbackToken when the request carries none).
func Middleware(f Fetcher, fallbackToken string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, err := auth.Token(r.Header, fallbackToken)
			l := New(f, token, err)
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), l)))
		})
	}
}

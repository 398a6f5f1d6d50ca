// Package loaders holds the per-request loaders through which every
// resolver reads SeaTable. A Loaders value belongs to one HTTP request and one
// token: it is built in Middleware, kept on the request context, and dropped
// with the request, so data read with one token can never reach another
// request. All lookups read one memoised upstream response, so any query
// shape costs at most one upstream call per request.
//
// Lookups by id and uuid are map reads on that response's indexes, so they
// need no batching window: concurrent resolvers wait on the one memoised
// fetch instead of a dataloader's timer (which measured as 250 µs of added
// latency per level and a few goroutines per request, for nothing).
package loaders

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Fetcher is the part of the SeaTable client the loaders need.
type Fetcher interface {
	ListWorkspaces(ctx context.Context, token string, detail bool) (*upstream.WorkspaceList, error)
}

// Snapshot is one upstream workspace list with its lookup indexes. Each
// index is built on first use: a query that only lists workspaces (most of
// them) never pays for indexing tens of thousands of bases.
type Snapshot struct {
	List *upstream.WorkspaceList

	idOnce, uuidOnce sync.Once
	byID             map[string]*upstream.Workspace
	byUUID           map[string]*upstream.DTable
}

// NewSnapshot wraps a workspace list. A base listed several times (its own
// workspace, the starred list, a share) resolves to the entry in its own
// workspace when there is one, otherwise to its first appearance.
func NewSnapshot(list *upstream.WorkspaceList) *Snapshot { return &Snapshot{List: list} }

// Workspace returns the workspace with id, or nil.
func (s *Snapshot) Workspace(id string) *upstream.Workspace {
	s.idOnce.Do(func() {
		s.byID = make(map[string]*upstream.Workspace, len(s.List.Workspaces))
		for _, ws := range s.List.Workspaces {
			if _, dup := s.byID[ws.ID]; !dup && ws.ID != "" {
				s.byID[ws.ID] = ws
			}
		}
	})
	return s.byID[id]
}

// DTable returns the base with the (normalised) uuid, or nil.
func (s *Snapshot) DTable(uuid string) *upstream.DTable {
	s.uuidOnce.Do(s.indexDTables)
	return s.byUUID[uuid]
}

func (s *Snapshot) indexDTables() {
	s.byUUID = map[string]*upstream.DTable{}
	home := map[string]bool{}
	for _, ws := range s.List.Workspaces {
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
	for _, ws := range s.List.Workspaces {
		for _, d := range ws.GroupSharedTables {
			if _, seen := s.byUUID[d.UUID]; !seen {
				s.byUUID[d.UUID] = d
			}
		}
	}
}

// Invalidator is implemented by Fetchers that keep data across requests (a
// cache): after a write, the token's entries must go.
type Invalidator interface {
	Invalidate(ctx context.Context, token string)
}

// Loaders are one request's loaders.
type Loaders struct {
	fetcher Fetcher
	token   string
	authErr error
	detail  bool

	mu    sync.Mutex
	snaps map[bool]*snapshotCall // by detail
}

// snapshotCall is one memoised fetch; done is closed once snap/err are set.
type snapshotCall struct {
	done chan struct{}
	snap *Snapshot
	err  error
}

// New builds the loaders for one request made with token. authErr, when set,
// is what every read returns (a malformed Authorization header).
func New(f Fetcher, token string, authErr error) *Loaders {
	return &Loaders{fetcher: f, token: token, authErr: authErr, detail: true, snaps: map[bool]*snapshotCall{}}
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
func (l *Loaders) SetDetail(detail bool) {
	l.mu.Lock()
	l.detail = detail
	l.mu.Unlock()
}

// snapshot returns this request's memoised workspace list: the first caller
// fetches it, concurrent callers wait for that fetch, errors included.
func (l *Loaders) snapshot(ctx context.Context) (*Snapshot, error) {
	l.mu.Lock()
	detail := l.detail
	c, started := l.snaps[detail]
	if !started {
		c = &snapshotCall{done: make(chan struct{})}
		l.snaps[detail] = c
	}
	l.mu.Unlock()
	if !started {
		func() {
			defer close(c.done)
			// Should fetch panic, waiters get this error, never a nil snapshot.
			c.err = apperr.New(apperr.Internal, "loading workspaces failed")
			c.snap, c.err = l.fetch(ctx, detail)
		}()
		return c.snap, c.err
	}
	select {
	case <-c.done:
		return c.snap, c.err
	case <-ctx.Done():
		return nil, fmt.Errorf("load workspaces: %w", ctx.Err())
	}
}

// Invalidate forgets what this request has read, and what the Fetcher keeps
// for this token, so that reads after a write see the new state.
func (l *Loaders) Invalidate(ctx context.Context) {
	l.mu.Lock()
	l.snaps = map[bool]*snapshotCall{}
	l.mu.Unlock()
	if inv, ok := l.fetcher.(Invalidator); ok && l.token != "" {
		inv.Invalidate(ctx, l.token)
	}
}

// List returns the request's memoised upstream answer itself; its identity
// tells whether a result computed from it earlier is still current.
func (l *Loaders) List(ctx context.Context) (*upstream.WorkspaceList, error) {
	snap, err := l.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return snap.List, nil
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
	snap, err := l.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return snap.Workspace(id), nil
}

// DTableByUUID returns the base with uuid (32 or 36 characters), or nil when
// not visible.
func (l *Loaders) DTableByUUID(ctx context.Context, uuid string) (*upstream.DTable, error) {
	u := upstream.NormalizeUUID(uuid)
	if u == "" {
		return nil, apperr.New(apperr.BadUserInput, "uuid must be 32 hex characters, or 36 with dashes")
	}
	snap, err := l.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return snap.DTable(u), nil
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

// Package loaders holds the per-request loaders through which every
// resolver reads SeaTable. A Loaders value belongs to one request and one
// caller (internal/auth): it is built per request (graph.WithLoaders), kept
// on the request context, and dropped with the request, so data read with
// one token can never reach another request. Loaders are for data only: who
// the caller is and what it may do is auth.Caller's business. All loaders
// read one memoised upstream response, so any query shape costs at most one
// upstream call per request.
//
// The response itself is memoised without a batching window (concurrent
// readers wait on the one fetch): a dataloader window added 250 µs and a few
// goroutines to every request for a single key. Its indexes are built on
// first use, because the list may be shared by many requests (coalescing, a
// cache) and most queries only walk it.
package loaders

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// wait is how long a base loader (bases.go) collects keys before running
// its batch: the keys of one level of a query arrive within microseconds,
// and 16 ms (the library default) measured as 16 ms of pure overhead per
// loader level.
const wait = 250 * time.Microsecond

// Snapshot is one upstream workspace list with its lookup indexes, built on
// first use.
type Snapshot struct {
	List *upstream.WorkspaceList

	// The workspace index is cheap and is all workspace(id:) needs; the base
	// indexes cost a map entry or two per base and are built apart.
	wsOnce   sync.Once
	byID     map[string]*upstream.Workspace
	baseOnce sync.Once
	byUUID   map[string]*upstream.DTable
	// order is every base uuid once, in order of first appearance.
	order []string
	// listedIn is, per uuid, every workspace listing the base.
	listedIn map[string][]*upstream.Workspace
	// elsewhere are the chosen entries of the bases listed somewhere
	// other than once in their own workspace (see Canonical).
	elsewhereOnce sync.Once
	elsewhere     map[string]*upstream.DTable
	// viewBases are, per uuid, the bases the caller sees only through a
	// view shared into a group, without the view's details.
	viewOnce  sync.Once
	viewBases map[string]*upstream.DTable
	// folderHome is, per folder, the id of the workspace listing it.
	folderOnce sync.Once
	folderHome map[*upstream.Folder]string
}

// NewSnapshot wraps a workspace list; its indexes are built on first use. A
// base listed several times (its own workspace, the starred list, a share)
// resolves to the entry in its own workspace when there is one, otherwise
// to its first appearance.
func NewSnapshot(list *upstream.WorkspaceList) *Snapshot { return &Snapshot{List: list} }

// index builds the base indexes once (and the workspace index they use);
// every base lookup calls it first.
func (s *Snapshot) index() {
	s.indexWorkspaces()
	s.baseOnce.Do(s.build)
}

// indexWorkspaces builds the workspace index once; a workspace lookup calls
// it first.
func (s *Snapshot) indexWorkspaces() {
	s.wsOnce.Do(func() {
		s.byID = make(map[string]*upstream.Workspace, len(s.List.Workspaces))
		for _, ws := range s.List.Workspaces {
			if _, dup := s.byID[ws.ID]; !dup && ws.ID != "" {
				s.byID[ws.ID] = ws
			}
		}
	})
}

func (s *Snapshot) build() {
	list := s.List
	s.byUUID = choose(list, nil)
	s.listedIn = map[string][]*upstream.Workspace{}
	for _, ws := range list.Workspaces {
		for _, d := range ws.Tables {
			s.list(ws, d)
		}
	}
	for _, ws := range list.Workspaces {
		for _, d := range ws.GroupSharedTables {
			s.list(ws, d)
		}
	}
}

func isPseudo(ws *upstream.Workspace) bool {
	return ws.Type == upstream.WorkspaceStarred || ws.Type == upstream.WorkspaceShared
}

// choose picks the one entry every lookup and list answers for each base
// whose uuid keep accepts (every base when keep is nil); see NewSnapshot.
// The choice for a uuid depends only on that uuid's entries, so choosing
// for a subset gives the same entries as choosing for all.
func choose(list *upstream.WorkspaceList, keep func(uuid string) bool) map[string]*upstream.DTable {
	byUUID := map[string]*upstream.DTable{}
	home := map[string]bool{}
	var all []*upstream.DTable
	for _, ws := range list.Workspaces {
		pseudo := isPseudo(ws)
		for _, d := range ws.Tables {
			if keep != nil && !keep(d.UUID) {
				continue
			}
			all = append(all, d)
			atHome := !pseudo && d.WorkspaceID == ws.ID
			if _, seen := byUUID[d.UUID]; !seen || (atHome && !home[d.UUID]) {
				byUUID[d.UUID] = d
				home[d.UUID] = atHome
			}
		}
	}
	// Bases shared into a group come last: they are listed in full elsewhere
	// when the caller can see their home.
	for _, ws := range list.Workspaces {
		for _, d := range ws.GroupSharedTables {
			if keep != nil && !keep(d.UUID) {
				continue
			}
			all = append(all, d)
			if _, seen := byUUID[d.UUID]; !seen {
				byUUID[d.UUID] = d
			}
		}
	}
	// The entry chosen for a base shared with the caller may be its starred
	// copy, which can lack the share details the shared list carries. The
	// list may be shared with other requests (a cache), so copy, never
	// change, its entries.
	for _, d := range all {
		if chosen := byUUID[d.UUID]; chosen != d && chosen.Permission == nil && d.Permission != nil {
			merged := *chosen
			merged.CopyShare(d)
			byUUID[d.UUID] = &merged
		}
	}
	return byUUID
}

func (s *Snapshot) list(ws *upstream.Workspace, d *upstream.DTable) {
	if _, seen := s.listedIn[d.UUID]; !seen {
		s.order = append(s.order, d.UUID)
	}
	s.listedIn[d.UUID] = append(s.listedIn[d.UUID], ws)
}

// DTables returns every visible base once (the entry NewSnapshot prefers),
// in order of first appearance.
func (s *Snapshot) DTables() []*upstream.DTable {
	s.index()
	out := make([]*upstream.DTable, len(s.order))
	for i, u := range s.order {
		out[i] = s.byUUID[u]
	}
	return out
}

// ListedIn returns the workspaces listing the base with uuid (its own, the
// starred and shared pseudo-workspaces, groups it is shared into).
func (s *Snapshot) ListedIn(uuid string) []*upstream.Workspace {
	s.index()
	return s.listedIn[uuid]
}

// DTableByName returns the base called name (exactly) in workspace id, or
// nil. Bases whose workspace the caller cannot see (shared with them) are
// found by their workspace id too.
func (s *Snapshot) DTableByName(workspaceID, name string) *upstream.DTable {
	s.index()
	if ws := s.byID[workspaceID]; ws != nil {
		for _, d := range ws.Tables {
			if d.Name == name {
				return s.byUUID[d.UUID]
			}
		}
	}
	for _, u := range s.order {
		if d := s.byUUID[u]; d.WorkspaceID == workspaceID && d.Name == name {
			return d
		}
	}
	return nil
}

// Personal returns the caller's personal workspace, or nil.
func (s *Snapshot) Personal() *upstream.Workspace {
	for _, ws := range s.List.Workspaces {
		if ws.Type == upstream.WorkspacePersonal {
			return ws
		}
	}
	return nil
}

// FolderOf returns the folder holding the base with uuid, looking in the
// base's own workspace first; nil when it is in none.
func (s *Snapshot) FolderOf(d *upstream.DTable) *upstream.Folder {
	s.indexWorkspaces()
	find := func(ws *upstream.Workspace) *upstream.Folder {
		for _, f := range ws.Folders {
			for _, it := range f.Items {
				if it.ItemID == d.UUID {
					return f
				}
			}
		}
		return nil
	}
	if ws := s.byID[d.WorkspaceID]; ws != nil {
		if f := find(ws); f != nil {
			return f
		}
	}
	for _, ws := range s.List.Workspaces {
		if f := find(ws); f != nil {
			return f
		}
	}
	return nil
}

// Canonical returns the one entry every list answers for the base d,
// listed in ws (see NewSnapshot), so that a base is one object with one set
// of fields whatever list a client reads it from; d itself when the
// snapshot has none (a view's base).
//
// It does not build the full base index, which for a large account costs
// more than the rest of a plain `workspaces { tables }` query: only bases
// listed somewhere other than once in their own workspace (the starred and
// shared lists, group shares) can have another entry, and those few are
// chosen apart, with the same rules. (A base listed twice in its own
// workspace, which no SeaTable version sends, is not looked for.)
func (s *Snapshot) Canonical(ws *upstream.Workspace, d *upstream.DTable) *upstream.DTable {
	s.elsewhereOnce.Do(func() {
		elsewhere := map[string]bool{}
		for _, w := range s.List.Workspaces {
			pseudo := isPseudo(w)
			for _, t := range w.Tables {
				if pseudo || t.WorkspaceID != w.ID {
					elsewhere[t.UUID] = true
				}
			}
			for _, t := range w.GroupSharedTables {
				elsewhere[t.UUID] = true
			}
		}
		if len(elsewhere) > 0 {
			s.elsewhere = choose(s.List, func(u string) bool { return elsewhere[u] })
		}
	})
	if c, ok := s.elsewhere[d.UUID]; ok {
		return c
	}
	if ws != nil && !isPseudo(ws) && d.WorkspaceID == ws.ID {
		return d // listed once, at home: its own entry
	}
	if c := s.DTable(d.UUID); c != nil {
		return c
	}
	return d
}

// ViewBase returns the base of a view shared into a group: its canonical
// entry when the caller sees the base, otherwise the view's entry without
// the view's own details (which belong to the view, not the base); nil
// when no such base is listed.
func (s *Snapshot) ViewBase(uuid string) *upstream.DTable {
	if d := s.DTable(uuid); d != nil {
		return d
	}
	s.viewOnce.Do(func() {
		s.viewBases = map[string]*upstream.DTable{}
		for _, ws := range s.List.Workspaces {
			for _, v := range ws.GroupSharedViews {
				if _, seen := s.viewBases[v.UUID]; seen {
					continue
				}
				base := *v // the list may be shared: copy, never change, its entries
				base.ViewShareID, base.SharedName = nil, nil
				base.CopyShare(&upstream.DTable{})
				s.viewBases[v.UUID] = &base
			}
		}
	})
	return s.viewBases[uuid]
}

// FolderWorkspace returns the id of the workspace that lists folder f:
// part of the folder's identity, which SeaTable sends in the folder itself
// only on some servers. A folder from another snapshot (read before a
// write) falls back to what the folder says.
func (s *Snapshot) FolderWorkspace(f *upstream.Folder) string {
	s.folderOnce.Do(func() {
		s.folderHome = map[*upstream.Folder]string{}
		for _, ws := range s.List.Workspaces {
			for _, fo := range ws.Folders {
				s.folderHome[fo] = ws.ID
			}
		}
	})
	if id, ok := s.folderHome[f]; ok {
		return id
	}
	if f.WorkspaceID != nil {
		return *f.WorkspaceID
	}
	return ""
}

// Workspace returns the workspace with id, or nil.
func (s *Snapshot) Workspace(id string) *upstream.Workspace {
	s.indexWorkspaces()
	return s.byID[id]
}

// DTable returns the base with the (normalised) uuid, or nil.
func (s *Snapshot) DTable(uuid string) *upstream.DTable {
	s.index()
	return s.byUUID[uuid]
}

// BatchObserver learns the size of every batch (metrics); loader is one of
// "snapshot" (one fetch of the memoised response: always 1), and inside
// bases "baseMetadata", "baseRows", "baseRow" (bases.go). Lookups by id in
// the snapshot are map reads, not batches, and are not reported.
type BatchObserver interface {
	ObserveBatch(loader string, size int)
}

// Option configures Loaders.
type Option func(*Loaders)

// WithBatchObserver reports batch sizes to o.
func WithBatchObserver(o BatchObserver) Option { return func(l *Loaders) { l.observer = o } }

// observed wraps a batch function so that its batch sizes reach the observer.
func observed[K comparable, V any](l *Loaders, name string, fn dataloader.BatchFunc[K, V]) dataloader.BatchFunc[K, V] {
	return func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		if l.observer != nil {
			l.observer.ObserveBatch(name, len(keys))
		}
		return fn(ctx, keys)
	}
}

// Loaders are one request's dataloaders.
type Loaders struct {
	fetcher  upstream.Lister
	observer BatchObserver
	caller   *auth.Caller
	// broken, when set, is what every read returns (loaders used outside a
	// request: a bug).
	broken error
	// fresh reads skip every answer the fetch stack keeps (FreshReads).
	fresh bool
	// events marks a subscription's loaders (ForEvents): they never read
	// SeaTable, every read answers with the event being resolved (event).
	events bool

	mu     sync.Mutex
	detail bool
	fields upstream.Fields
	// pinned keeps detail at true and fields at all for a batch's shared
	// loaders: its operations may want different ones, and one call
	// serves them all.
	pinned bool
	snaps  map[snapshotKey]*snapshotCall
	event  *upstream.WorkspaceList // ForEvents: the list of the event being resolved

	// Inside bases (bases.go): built on first use, under mu.
	basesCfg Bases
	bases    *baseLoaders
}

// New builds the loaders for one request of caller c.
func New(f upstream.Lister, c *auth.Caller, opts ...Option) *Loaders {
	l := &Loaders{fetcher: f, caller: c, detail: true, fields: upstream.AllFields, snaps: map[snapshotKey]*snapshotCall{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

// WithCaller returns fresh loaders like l (same fetcher and options) for
// another caller: a WebSocket connection's token comes from its
// connection_init payload, after the upgrade request's loaders were built.
func (l *Loaders) WithCaller(c *auth.Caller) *Loaders {
	return New(l.fetcher, c, l.options()...)
}

// Rebind returns fresh loaders for l's caller that read through f: a
// subscription resolves each event against the list the event carries.
func (l *Loaders) Rebind(f upstream.Lister) *Loaders {
	return New(f, l.caller, l.options()...)
}

// options are the request-wide options l was built with, for loaders that
// replace it within the same request or connection.
func (l *Loaders) options() []Option {
	o := []Option{WithBatchObserver(l.observer), WithBases(l.basesCfg)}
	if l.fresh {
		o = append(o, FreshReads())
	}
	return o
}

// Anew returns new loaders like l (same caller and options, FreshReads
// included), with nothing read yet: each operation on a WebSocket
// connection, which outlives many operations, reads anew.
func (l *Loaders) Anew() *Loaders { return l.Rebind(l.fetcher) }

// ForEvents returns loaders for one subscription of l's caller: they read
// nothing themselves; each event's list is given to them (Serve) before
// the event's fields resolve, so nested fields (DTable.workspace, …) read
// that poll's answer, never a list memoised when the subscription began,
// and cost no upstream call.
func (l *Loaders) ForEvents() *Loaders {
	e := l.Rebind(l.fetcher)
	e.events = true
	return e
}

// Serve makes list what l's reads answer from now on, forgetting what was
// read from the previous one: a subscription's event. Loaders not made by
// ForEvents ignore it. Events of one subscription are resolved one after
// another, so the switch cannot race with the previous event's fields.
func (l *Loaders) Serve(list *upstream.WorkspaceList) {
	if !l.events {
		return
	}
	l.mu.Lock()
	l.event = list
	l.snaps = map[snapshotKey]*snapshotCall{}
	l.mu.Unlock()
}

// ForBatch keeps detail at true and fields at all: the operations of a
// batch share one set of loaders, they may want different ones, and one
// call serves them all.
func ForBatch() Option { return func(l *Loaders) { l.pinned = true } }

// FreshReads makes every read ask for SeaTable's answer now, past the
// answers the fetch stack keeps (upstream.Read.Fresh): the HTTP layer sets
// it for a client that sent Cache-Control: no-cache.
func FreshReads() Option { return func(l *Loaders) { l.fresh = true } }

// ReadsFresh reports whether l was built with FreshReads, so that layers
// sharing work between requests (replay, shared execution) keep such
// requests apart from the others.
func (l *Loaders) ReadsFresh() bool { return l.fresh }

func (l *Loaders) fetch(ctx context.Context, k snapshotKey) (snap *Snapshot, err error) {
	if l.broken != nil {
		return nil, l.broken
	}
	if l.events {
		l.mu.Lock()
		list := l.event
		l.mu.Unlock()
		if list == nil {
			return nil, apperr.New(apperr.Internal, "no event to resolve")
		}
		return NewSnapshot(list), nil
	}
	token, err := l.caller.Token()
	if err != nil {
		return nil, err
	}
	// A panic here would be caught by the dataloader, which prints it with
	// the standard logger; turn it into an INTERNAL error instead, so it is
	// logged once, through slog, with the token redacted.
	defer func() {
		if p := recover(); p != nil {
			snap, err = nil, apperr.Wrap(apperr.Internal, "internal error", errors.New(l.caller.Redact(fmt.Sprintf("panic while reading SeaTable: %v", p))))
		}
	}()
	read := upstream.Read{Detail: k.detail, Omit: upstream.AllFields &^ k.fields, Fresh: l.fresh}
	list, err := l.fetcher.ListWorkspaces(ctx, token, read)
	if err != nil {
		return nil, fmt.Errorf("load workspaces: %w", err)
	}
	return NewSnapshot(list), nil
}

// snapshotKey is what a memoised fetch asked SeaTable and the decoder for.
type snapshotKey struct {
	detail bool
	fields upstream.Fields
}

// snapshotCall is one memoised fetch; done is closed once snap/err are set.
type snapshotCall struct {
	done chan struct{}
	snap *Snapshot
	err  error
}

// snapshot returns this request's memoised workspace list: the first caller
// fetches it, concurrent callers wait for that fetch, errors included.
func (l *Loaders) snapshot(ctx context.Context) (*Snapshot, error) {
	l.mu.Lock()
	k := snapshotKey{l.detail, l.fields}
	c, started := l.snaps[k]
	if !started {
		// A list read with more fields serves a read that needs fewer.
		for have, hc := range l.snaps {
			if have.detail == k.detail && have.fields&k.fields == k.fields {
				c, started = hc, true
				break
			}
		}
	}
	if !started {
		c = &snapshotCall{done: make(chan struct{})}
		l.snaps[k] = c
	}
	l.mu.Unlock()
	if !started {
		if l.observer != nil {
			l.observer.ObserveBatch("snapshot", 1)
		}
		c.snap, c.err = l.fetch(ctx, k) // fetch turns panics into errors
		close(c.done)
		return c.snap, c.err
	}
	select {
	case <-c.done:
		return c.snap, c.err
	case <-ctx.Done():
		return nil, fmt.Errorf("load workspaces: %w", ctx.Err())
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

// SetDetail chooses whether this request's upstream call asks for base
// lists. The GraphQL layer sets it once per operation, before any resolver
// reads, from the fields the operation selects; the default is true.
func (l *Loaders) SetDetail(detail bool) {
	l.mu.Lock()
	l.detail = detail || l.pinned
	l.mu.Unlock()
}

// SetFields chooses which optional base fields this request's upstream
// answer needs decoded (upstream.Fields). Like SetDetail, the GraphQL layer
// sets it once per operation, from the fields the operation selects; the
// default is all of them.
func (l *Loaders) SetFields(f upstream.Fields) {
	l.mu.Lock()
	if l.pinned {
		f = upstream.AllFields
	}
	l.fields = f
	l.mu.Unlock()
}

// Snapshot returns this request's memoised workspace list with its indexes,
// for resolvers that work on whole lists (search, paging, folders).
func (l *Loaders) Snapshot(ctx context.Context) (*Snapshot, error) { return l.snapshot(ctx) }

// Invalidate forgets what this request has read, and what the fetch stack keeps
// for this token, so that reads after a write see the new state.
func (l *Loaders) Invalidate(ctx context.Context) {
	l.mu.Lock()
	l.snaps = map[snapshotKey]*snapshotCall{}
	l.mu.Unlock()
	if token, err := l.caller.Token(); err == nil {
		if inv, ok := l.fetcher.(upstream.Invalidator); ok {
			inv.Invalidate(ctx, token)
		}
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
// Like every lookup by id it reads the request's one memoised list: a map
// read on its snapshot, with no batching window to wait for (resolvers and
// the fast path alike).
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
	// The anonymous caller: Invalidate and Redact work on it too.
	l := New(nil, auth.From(ctx))
	l.broken = apperr.New(apperr.Internal, "no loaders on context")
	return l
}

package loaders

// Inside a base. A base's metadata and rows come from SeaTable's base API
// (upstream.BaseReader), one base at a time, each call costing a base
// token (exchanged and cached by upstream) and counting against SeaTable's
// per-base rate limit. Per request:
//
//   - metadata is read once per base (keyed by uuid), rows once per
//     (base, table, view, start, limit), a row once per (base, table, id),
//     however many fields, aliases, lists or node(id:) lookups reach them;
//   - the base's name and workspace, which the token exchange needs, come
//     from the request's memoised workspace list: a base the caller cannot
//     see there is never opened (its lookups answer nil, with no call);
//   - calls for different bases run side by side, at most Parallel at a
//     time per request (one request cannot flood SeaTable);
//   - at most MaxBases distinct bases are opened; calls for any further
//     base fail with BAD_USER_INPUT naming the limit, before any call.
//     Within one batch, bases are admitted in the order the workspace list
//     shows them, so which bases exceed the limit does not depend on
//     goroutine timing.
//
// Nothing of a base is kept beyond the request (only base tokens, in
// upstream): metadata and rows are read live.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Bases configures reading inside bases.
type Bases struct {
	// Reader reads metadata and rows; nil makes every base field fail as
	// INTERNAL.
	Reader upstream.BaseReader
	// MaxBases is the most distinct bases one request may open; 0 is
	// unlimited.
	MaxBases int
	// Parallel is the most base calls one request has in flight; 0 or less
	// means DefaultBaseParallel.
	Parallel int
}

// DefaultBaseParallel is the default of Bases.Parallel: with the default
// MAX_BASES_PER_REQUEST of 20, "tables of 10 bases" is one wave (1 list read,
// then exchange and metadata side by side: 3 round trips cold), while one
// request still cannot open more than 10 connections to SeaTable at once.
const DefaultBaseParallel = 10

// WithBases lets the loaders read inside bases through b.Reader.
func WithBases(b Bases) Option { return func(l *Loaders) { l.basesCfg = b } }

// RowsKey is one page of rows: the base's uuid, the table's and the view's
// names (as SeaTable's rows endpoint takes them) and the window.
type RowsKey struct {
	Base, Table, View string
	Start, Limit      int
}

// RowKey is one row: the base's uuid, the table's name and the row's id.
type RowKey struct{ Base, Table, Row string }

// baseLoaders are one request's loaders inside bases.
type baseLoaders struct {
	l   *Loaders
	cfg Bases
	sem chan struct{} // Parallel slots, shared by every base call of the request

	mu     sync.Mutex
	opened map[string]bool // uuids admitted (see admit)

	metadata *dataloader.Loader[string, *upstream.BaseMetadata]
	rows     *dataloader.Loader[RowsKey, []upstream.Row]
	row      *dataloader.Loader[RowKey, *upstream.Row]
}

func newBaseLoaders(l *Loaders, cfg Bases) *baseLoaders {
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultBaseParallel
	}
	b := &baseLoaders{l: l, cfg: cfg, sem: make(chan struct{}, cfg.Parallel), opened: map[string]bool{}}
	b.metadata = dataloader.NewBatchedLoader(observed(l, "baseMetadata", func(ctx context.Context, uuids []string) []*dataloader.Result[*upstream.BaseMetadata] {
		out := make([]*dataloader.Result[*upstream.BaseMetadata], len(uuids))
		fan(b, ctx, uuids, func(i int) string { return uuids[i] }, func(ctx context.Context, i int, token string, ref *upstream.BaseRef, err error) {
			r := &dataloader.Result[*upstream.BaseMetadata]{Error: err}
			if err == nil && ref != nil {
				r.Data, r.Error = b.cfg.Reader.BaseMetadata(ctx, token, *ref)
				if r.Error != nil {
					r.Error = fmt.Errorf("read metadata of base %s: %w", ref.UUID, r.Error)
				}
			}
			out[i] = r
		})
		return out
	}), dataloader.WithWait[string, *upstream.BaseMetadata](wait))
	b.rows = dataloader.NewBatchedLoader(observed(l, "baseRows", func(ctx context.Context, keys []RowsKey) []*dataloader.Result[[]upstream.Row] {
		out := make([]*dataloader.Result[[]upstream.Row], len(keys))
		fan(b, ctx, keys, func(i int) string { return keys[i].Base }, func(ctx context.Context, i int, token string, ref *upstream.BaseRef, err error) {
			r := &dataloader.Result[[]upstream.Row]{Error: err}
			if err == nil && ref != nil {
				k := keys[i]
				r.Data, r.Error = b.cfg.Reader.Rows(ctx, token, *ref, upstream.RowsQuery{Table: k.Table, View: k.View, Start: k.Start, Limit: k.Limit})
				if r.Error != nil {
					r.Error = fmt.Errorf("read rows of base %s: %w", ref.UUID, r.Error)
				}
			}
			out[i] = r
		})
		return out
	}), dataloader.WithWait[RowsKey, []upstream.Row](wait))
	b.row = dataloader.NewBatchedLoader(observed(l, "baseRow", func(ctx context.Context, keys []RowKey) []*dataloader.Result[*upstream.Row] {
		out := make([]*dataloader.Result[*upstream.Row], len(keys))
		fan(b, ctx, keys, func(i int) string { return keys[i].Base }, func(ctx context.Context, i int, token string, ref *upstream.BaseRef, err error) {
			r := &dataloader.Result[*upstream.Row]{Error: err}
			if err == nil && ref != nil {
				k := keys[i]
				r.Data, r.Error = b.cfg.Reader.Row(ctx, token, *ref, k.Table, k.Row)
				if r.Error != nil {
					r.Error = fmt.Errorf("read a row of base %s: %w", ref.UUID, r.Error)
				}
			}
			out[i] = r
		})
		return out
	}), dataloader.WithWait[RowKey, *upstream.Row](wait))
	return b
}

// fan runs one call per key, at most Parallel at a time across the
// request, and waits for all. Each call gets the base's ref from the
// workspace list (nil, with no error, when the caller cannot see the base:
// nothing is called then) or the error that keeps it from running. done
// is called exactly once per key.
func fan[K any](b *baseLoaders, ctx context.Context, keys []K, uuidOf func(int) string, done func(ctx context.Context, i int, token string, ref *upstream.BaseRef, err error)) {
	fail := func(err error) {
		for i := range keys {
			done(ctx, i, "", nil, err)
		}
	}
	if b.cfg.Reader == nil {
		fail(apperr.New(apperr.Internal, "reading inside bases is not configured"))
		return
	}
	token, err := b.l.caller.Token()
	if err != nil {
		fail(err)
		return
	}
	snap, err := b.l.snapshot(ctx)
	if err != nil {
		fail(err)
		return
	}
	refs := make([]*upstream.BaseRef, len(keys))
	for i := range keys {
		refs[i] = baseRef(snap, uuidOf(i))
	}
	// Admit in the list's order (see the file comment), then start.
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	if b.cfg.MaxBases > 0 && len(keys) > 1 {
		pos := map[string]int{}
		for i, d := range snap.DTables() {
			pos[d.UUID] = i
		}
		sort.SliceStable(order, func(x, y int) bool { return pos[uuidOf(order[x])] < pos[uuidOf(order[y])] })
	}
	var wg sync.WaitGroup
	for _, i := range order {
		ref := refs[i]
		if ref == nil {
			done(ctx, i, "", nil, nil)
			continue
		}
		if err := b.admit(ref.UUID); err != nil {
			done(ctx, i, "", nil, err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			finished := false
			defer func() {
				if p := recover(); p != nil && !finished {
					done(ctx, i, "", nil, apperr.Wrap(apperr.Internal, "internal error", errors.New(b.l.caller.Redact(fmt.Sprintf("panic while reading a base: %v", p)))))
				}
			}()
			select {
			case b.sem <- struct{}{}:
			case <-ctx.Done():
				finished = true
				done(ctx, i, "", nil, fmt.Errorf("read base %s: %w", ref.UUID, ctx.Err()))
				return
			}
			defer func() { <-b.sem }()
			done(ctx, i, token, ref, nil)
			finished = true
		}()
	}
	wg.Wait()
}

// admit counts uuid among the bases this request opens; past MaxBases it
// refuses.
func (b *baseLoaders) admit(uuid string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.opened[uuid] {
		return nil
	}
	if b.cfg.MaxBases > 0 && len(b.opened) >= b.cfg.MaxBases {
		return apperr.New(apperr.BadUserInput, fmt.Sprintf("this request opens more than %d bases (MAX_BASES_PER_REQUEST); ask for the contents of fewer bases per request", b.cfg.MaxBases))
	}
	b.opened[uuid] = true
	return nil
}

// baseRef names the base with uuid for the token exchange, from the list:
// its own entry, or the entry of a view shared into a group; nil when the
// caller cannot see it.
func baseRef(snap *Snapshot, uuid string) *upstream.BaseRef {
	d := snap.ViewBase(uuid)
	if d == nil {
		return nil
	}
	return &upstream.BaseRef{UUID: d.UUID, WorkspaceID: d.WorkspaceID, Name: d.Name}
}

func (l *Loaders) baseLoaders() (*baseLoaders, error) {
	if l.broken != nil {
		return nil, l.broken
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bases == nil {
		l.bases = newBaseLoaders(l, l.basesCfg)
	}
	return l.bases, nil
}

// BaseMetadata returns the tables, columns and views of the base with
// uuid (36 characters, lower case), read once per request; nil when the
// caller cannot see the base.
func (l *Loaders) BaseMetadata(ctx context.Context, uuid string) (*upstream.BaseMetadata, error) {
	b, err := l.baseLoaders()
	if err != nil {
		return nil, err
	}
	return b.metadata.Load(ctx, uuid)()
}

// Rows returns a page of a table's (or a view's) rows, read once per
// request; nil when the caller cannot see the base.
func (l *Loaders) Rows(ctx context.Context, k RowsKey) ([]upstream.Row, error) {
	b, err := l.baseLoaders()
	if err != nil {
		return nil, err
	}
	return b.rows.Load(ctx, k)()
}

// Row returns one row, read once per request; nil when the caller cannot
// see the base. A row the table does not have is upstream's NOT_FOUND.
func (l *Loaders) Row(ctx context.Context, k RowKey) (*upstream.Row, error) {
	b, err := l.baseLoaders()
	if err != nil {
		return nil, err
	}
	return b.row.Load(ctx, k)()
}

package live

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Bounds of the rendered events kept for sharing. An event evicted early
// costs one more render, never a wrong answer.
const (
	maxRenderBytes   = 128 << 20
	maxRenderEntries = 4096
)

// RenderKey names one rendered event: the poll answer it was rendered
// from and everything else its bytes depend on. List and Prev are kept by
// the entry, so their addresses cannot be reused while it lives.
type RenderKey struct {
	// List is the answer the event shows; Prev the one before it, for
	// events that show differences (nil otherwise).
	List, Prev *upstream.WorkspaceList
	// Stream is what else decides the bytes: the document, the
	// variables and the operation name.
	Stream string
}

type renderKey struct {
	RenderKey
	token string // keyed hash: a token is never kept here
}

type rendered struct {
	done chan struct{}
	data []byte
	ok   bool
}

// renders memoises rendered events, one render in flight per key, so the
// subscriptions of one token, document and variables share one copy of
// each event's bytes however many they are.
type renders struct {
	mu      sync.Mutex
	entries map[renderKey]*rendered
	order   []renderKey // oldest first, for eviction
	bytes   int
	count   atomic.Int64 // renders run
}

// Render returns the event named by k for token's subscriptions, calling
// render at most once per key while the entry lives (followers wait for
// the leader's bytes). ok is false when render was not able to (the
// caller then renders on its own) or ctx ended first. The bytes are
// shared: callers must not change them.
func (h *Hub) Render(ctx context.Context, token string, k RenderKey, render func() ([]byte, bool)) ([]byte, bool) {
	key := renderKey{RenderKey: k, token: tokenhash.Sum(h.key, token)}
	r := &h.renders
	r.mu.Lock()
	if r.entries == nil {
		r.entries = map[renderKey]*rendered{}
	}
	if e, ok := r.entries[key]; ok {
		r.mu.Unlock()
		select {
		case <-e.done:
			return e.data, e.ok
		case <-ctx.Done():
			return nil, false
		}
	}
	e := &rendered{done: make(chan struct{})}
	r.entries[key] = e
	r.order = append(r.order, key)
	r.mu.Unlock()

	r.count.Add(1)
	func() {
		defer close(e.done)
		defer func() {
			if recover() != nil {
				e.data, e.ok = nil, false
			}
		}()
		e.data, e.ok = render()
	}()

	r.mu.Lock()
	defer r.mu.Unlock()
	if !e.ok || len(e.data) > maxRenderBytes {
		// Nothing worth keeping: the waiters already have their answer.
		r.drop(key, e)
		return e.data, e.ok
	}
	r.bytes += len(e.data)
	// Keep what the latest answer needs: renders of the same stream from
	// older answers serve only a subscription still one event behind.
	for _, old := range r.order {
		if old.token == key.token && old.Stream == key.Stream && old.List != key.List {
			r.drop(old, nil)
		}
	}
	for i := 0; i < len(r.order) && (r.bytes > maxRenderBytes || len(r.entries) > maxRenderEntries); {
		if !r.drop(r.order[i], nil) {
			i++ // still rendering: accounted when it ends
		}
	}
	r.order = compactOrder(r.order, r.entries)
	return e.data, e.ok
}

// drop removes k's entry when it is done (and is e, when e is given);
// false when it is still rendering.
func (r *renders) drop(k renderKey, e *rendered) bool {
	old, ok := r.entries[k]
	if !ok || (e != nil && old != e) {
		return true
	}
	select {
	case <-old.done:
	default:
		return false
	}
	if old.ok && len(old.data) <= maxRenderBytes {
		r.bytes -= len(old.data)
	}
	delete(r.entries, k)
	return true
}

// forget drops every render of the token whose keyed hash is name: its
// poller ended, so no subscription of it is left to share them.
func (r *renders) forget(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.order {
		if k.token == name {
			r.drop(k, nil)
		}
	}
	r.order = compactOrder(r.order, r.entries)
}

// compactOrder drops keys of entries already removed.
func compactOrder(order []renderKey, entries map[renderKey]*rendered) []renderKey {
	out := order[:0]
	for _, k := range order {
		if _, ok := entries[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// Renders is how many events Render rendered (not served from its memo).
func (h *Hub) Renders() int64 { return h.renders.count.Load() }

// Package replay replays whole GraphQL HTTP responses of queries that
// read nothing but the caller's workspace list, for as long as the upstream
// answer they were computed from is still the current one. It is on only
// with the response cache (CACHE_TTL): the cache below hands out the same
// decoded list until its TTL ends or a write invalidates it, so a replayed
// response can never be older than what a fresh run would read, and needs
// no invalidation of its own. The tie to the list is a weak pointer, so a
// stored response never keeps an expired list in memory.
//
// A replay skips GraphQL parsing, execution and encoding altogether: for a
// repeated query it costs a hash, a map lookup and a write. Entries are keyed
// by an HMAC of the caller's token plus everything in the request that can
// change the response (method, URL query, body, content negotiation), so
// they are only ever replayed to the same token for the same request.
package replay

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"time"
	"weak"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/internal/lru"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// maxRequestBytes bounds the request bodies considered for replay; larger
// ones pass through untouched.
const maxRequestBytes = 64 << 10

// Store holds replayable responses, bounded by bytes.
type Store struct {
	maxBytes  int64
	ttl       time.Duration
	hashKey   []byte
	partition func(ctx context.Context) string
	// OnReplay, if set, learns about every replayed response (its
	// operation name and how long the replay took): a replay skips
	// GraphQL, so metrics and request logs would not see it otherwise.
	OnReplay func(ctx context.Context, operation string, d time.Duration)

	entries *lru.Cache[*entry]
}

type entry struct {
	from        weak.Pointer[upstream.WorkspaceList]
	detail      bool
	operation   string
	contentType string
	body        []byte
}

// New returns a store of at most maxBytes of responses, each kept at most
// ttl. partition, if set, separates requests that differ in a way the
// request line and body do not show (a cache bypass).
func New(maxBytes int64, ttl time.Duration, partition func(ctx context.Context) string) *Store {
	return &Store{maxBytes: maxBytes, ttl: ttl, hashKey: tokenhash.NewKey(), partition: partition,
		entries: lru.New[*entry](maxBytes, 0)}
}

// outcome is filled in by the GraphQL layer for a response worth keeping.
type outcome struct {
	mu        sync.Mutex
	from      *upstream.WorkspaceList
	detail    bool
	operation string
}

type outcomeKey struct{}

// Report marks the request's response as replayable: it was computed,
// without errors, from list alone (fetched with detail). The GraphQL layer
// calls it; outside Middleware it does nothing.
// operation is the operation's name ("" when anonymous), reported again
// with each replay.
func Report(ctx context.Context, list *upstream.WorkspaceList, detail bool, operation string) {
	if o, ok := ctx.Value(outcomeKey{}).(*outcome); ok {
		o.mu.Lock()
		o.from, o.detail, o.operation = list, detail, operation
		o.mu.Unlock()
	}
}

// Middleware replays stored responses and stores replayable ones. It must
// run inside graph.WithLoaders (it needs the request's loaders).
func (s *Store) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		start := time.Now()
		l := loaders.For(ctx)
		caller, ok := auth.From(ctx).Hash(s.hashKey)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		body, whole := readBody(r)
		if !whole {
			next.ServeHTTP(w, r)
			return
		}
		key := caller + "\x00" + r.Method + "\x00" + r.URL.RawQuery + "\x00" + r.Header.Get("Content-Type") +
			"\x00" + r.Header.Get("Accept") + "\x00" + string(body)
		if s.partition != nil {
			key += "\x00" + s.partition(ctx)
		}
		if e, ok := s.get(key); ok {
			l.SetDetail(e.detail)
			if cur, err := l.List(ctx); err == nil && cur == e.from.Value() {
				w.Header().Set("Content-Type", e.contentType)
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(e.body)
				if s.OnReplay != nil {
					s.OnReplay(ctx, e.operation, time.Since(start))
				}
				return
			}
		}
		o := &outcome{}
		tw := &teeWriter{ResponseWriter: w, limit: s.maxBytes}
		next.ServeHTTP(tw, r.WithContext(context.WithValue(ctx, outcomeKey{}, o)))
		o.mu.Lock()
		from, detail, operation := o.from, o.detail, o.operation
		o.mu.Unlock()
		if from != nil && tw.status == http.StatusOK && !tw.overflow {
			s.put(key, &entry{from: weak.Make(from), detail: detail, operation: operation,
				contentType: w.Header().Get("Content-Type"), body: tw.buf.Bytes()})
		}
	})
}

// readBody reads a small POST body and puts it back for the next handler;
// whole is false when the body is too large to consider.
func readBody(r *http.Request) (body []byte, whole bool) {
	if r.Method != http.MethodPost || r.Body == nil {
		return nil, true
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	rest := r.Body
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), rest), rest}
	return b, err == nil && len(b) <= maxRequestBytes
}

// teeWriter passes a response through and keeps a copy (up to limit).
type teeWriter struct {
	http.ResponseWriter
	limit    int64
	status   int
	buf      bytes.Buffer
	overflow bool
}

// Flush passes a flush on (incremental delivery needs an http.Flusher).
func (t *teeWriter) Flush() { _ = http.NewResponseController(t.ResponseWriter).Flush() }

func (t *teeWriter) WriteHeader(code int) {
	if t.status == 0 {
		t.status = code
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	if !t.overflow {
		if int64(t.buf.Len()+len(p)) > t.limit {
			t.overflow = true
			t.buf = bytes.Buffer{}
		} else {
			t.buf.Write(p)
		}
	}
	return t.ResponseWriter.Write(p)
}

// get returns the entry under key while the list it was computed from is
// still alive (the cache below still hands it out) and its TTL lasts.
func (s *Store) get(key string) (*entry, bool) {
	e, ok := s.entries.Get(key, time.Now())
	if !ok {
		return nil, false
	}
	if e.from.Value() == nil {
		s.entries.Remove(key)
		return nil, false
	}
	return e, true
}

func (s *Store) put(key string, e *entry) {
	s.entries.Add(key, e, int64(len(e.body)+len(key))+256, time.Now().Add(s.ttl))
}

package graph

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/redistest"
)

// hashes returns the names h0 ... h(n-1).
func hashes(n int) []string {
	h := make([]string, n)
	for i := range h {
		h[i] = "h" + strconv.Itoa(i)
	}
	return h
}

func TestPersistedQueriesShared(t *testing.T) {
	ctx := context.Background()
	_, rc := redistest.StartWithClient(t)
	a, b := NewAPQStore(APQOptions{MaxEntries: 10, MaxBytes: 1 << 20, Redis: rc}), NewAPQStore(APQOptions{MaxEntries: 10, MaxBytes: 1 << 20, Redis: rc})
	if _, ok := b.Get(ctx, "h1"); ok {
		t.Fatal("unknown hash found")
	}
	a.Add(ctx, "h1", "{ workspaces { id } }")
	if q, ok := b.Get(ctx, "h1"); !ok || q != "{ workspaces { id } }" {
		t.Fatalf("b.Get = %q %v", q, ok)
	}
}

// TestPersistedQueriesBoundedByBytes: the in-process store holds at most
// MaxBytes of queries, texts over MaxQueryBytes are never stored, and one
// replica writes at most MaxBytes of text to Redis per window, with a TTL,
// so an APQ flood cannot fill Redis and evict keys the server needs.
func TestPersistedQueriesBoundedByBytes(t *testing.T) {
	ctx := context.Background()
	_, rc := redistest.StartWithClient(t)
	p := NewAPQStore(APQOptions{MaxBytes: 4 << 10, MaxQueryBytes: 1 << 10, Redis: rc})
	p.Add(ctx, "huge", strings.Repeat("x", 2<<10))
	if _, ok := p.Get(ctx, "huge"); ok {
		t.Fatal("a query over MaxQueryBytes was stored")
	}
	for _, h := range hashes(20) {
		p.Add(ctx, h, strings.Repeat("y", 1000))
	}
	used := int64(0)
	for _, h := range append([]string{"huge"}, hashes(20)...) {
		if q, ok := p.local.Get(h, time.Time{}); ok {
			used += apqEntrySize(h, q)
		}
	}
	if used > 4<<10 {
		t.Fatalf("in process: %d bytes, want at most 4 KiB", used)
	}
	keys, err := rc.Keys(ctx, apqPrefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 {
		t.Fatalf("%d queries in Redis, want the 4 that fit the 4 KiB budget", len(keys))
	}
	for _, k := range keys {
		if ttl := rc.TTL(ctx, k).Val(); ttl <= 0 || ttl > apqTTL {
			t.Fatalf("%s has TTL %v", k, ttl)
		}
	}
	// A fresh replica finds a query written within the budget.
	if _, ok := NewAPQStore(APQOptions{MaxBytes: 4 << 10, Redis: rc}).Get(ctx, "h0"); !ok {
		t.Fatal("a query within the budget was not shared")
	}
}

// TestPersistedQueriesRedisDown: with Redis down, persisted queries
// degrade to misses, and the in-process copy still serves.
func TestPersistedQueriesRedisDown(t *testing.T) {
	ctx := context.Background()
	srv, rc := redistest.StartWithClient(t)
	srv.Stop()
	p := NewAPQStore(APQOptions{MaxEntries: 10, MaxBytes: 1 << 20, Redis: rc})
	p.Add(ctx, "h", "{ x }")
	if q, ok := p.Get(ctx, "h"); !ok || q != "{ x }" {
		t.Fatal("in-process APQ copy must survive Redis being down")
	}
	if _, ok := NewAPQStore(APQOptions{MaxEntries: 10, MaxBytes: 1 << 20, Redis: rc}).Get(ctx, "h"); ok {
		t.Fatal("a fresh replica cannot know the query while Redis is down")
	}
}

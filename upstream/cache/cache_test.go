package cache

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/redistest"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// counting is an upstream that answers each token with its own list (a
// workspace named after the token and the call number) and can fail.
type counting struct {
	calls atomic.Int64
	fail  atomic.Bool
}

func (u *counting) ListWorkspaces(_ context.Context, token string, r upstream.Read) (*upstream.WorkspaceList, error) {
	n := u.calls.Add(1)
	if u.fail.Load() {
		return nil, apperr.New(apperr.UpstreamUnavailable, "down")
	}
	body := []byte(`{"workspace_list":[{"id":` + itoa(n) + `,"name":"` + token + `","type":"personal"}]}`)
	l, err := upstream.DecodeWorkspaceListBytes(body)
	if err != nil {
		return nil, err
	}
	l.Detail = r.Detail
	l.Body = body
	return l, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// counters counts a cache's hits and misses.
type counters struct{ hits, misses atomic.Int64 }

func (c *counters) Hit()  { c.hits.Add(1) }
func (c *counters) Miss() { c.misses.Add(1) }

func name(t *testing.T, l *upstream.WorkspaceList) string {
	t.Helper()
	if l == nil || len(l.Workspaces) != 1 {
		t.Fatalf("unexpected list %+v", l)
	}
	return l.Workspaces[0].Name + "#" + l.Workspaces[0].ID
}

func TestLocalCache(t *testing.T) {
	ctx := context.Background()
	up := &counting{}
	clk := &clock{t: time.Unix(1e9, 0)}
	stats := &counters{}
	c := New(up, Options{TTL: 5 * time.Second, MaxBytes: 1 << 20, Stats: stats})
	c.now = clk.now

	first, _ := c.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true})
	again, _ := c.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true})
	if first != again || up.calls.Load() != 1 {
		t.Fatalf("second read within the TTL made %d upstream calls", up.calls.Load())
	}
	if l, _ := c.ListWorkspaces(ctx, "bob", upstream.Read{Detail: true}); name(t, l) != "bob#2" {
		t.Fatalf("bob got %s", name(t, l))
	}
	if l, _ := c.ListWorkspaces(ctx, "alice", upstream.Read{}); name(t, l) != "alice#3" || l.Detail {
		t.Fatal("detail=false must be a separate entry")
	}
	if stats.hits.Load() != 1 || stats.misses.Load() != 3 {
		t.Errorf("hits %d misses %d, want 1 and 3", stats.hits.Load(), stats.misses.Load())
	}

	clk.advance(5 * time.Second)
	if l, _ := c.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true}); name(t, l) != "alice#4" {
		t.Fatalf("expired entry served: %s", name(t, l))
	}

	// Cache-Control: no-cache reads upstream, and the fresh answer is kept.
	if l, _ := c.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true, Fresh: true}); name(t, l) != "alice#5" {
		t.Fatalf("bypass served %s", name(t, l))
	}
	if l, _ := c.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true}); name(t, l) != "alice#5" {
		t.Fatalf("after a bypass: %s, want the fresh answer", name(t, l))
	}

	// A write through alice drops alice's entries only.
	bob, _ := c.ListWorkspaces(ctx, "bob", upstream.Read{Detail: true})
	c.Invalidate(ctx, "alice")
	if l, _ := c.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true}); name(t, l) != "alice#7" {
		t.Fatalf("after Invalidate: %s", name(t, l))
	}
	if l, _ := c.ListWorkspaces(ctx, "bob", upstream.Read{Detail: true}); l != bob {
		t.Fatalf("bob's entry was dropped by alice's write: %s", name(t, l))
	}

	// Keys never hold the token: the entries are found under keyed hashes.
	for _, tok := range []string{"alice", "bob"} {
		k := c.localKey(tok, true)
		if strings.Contains(k, tok) {
			t.Fatalf("cache key %q contains a token", k)
		}
		if _, ok := c.local.Get(k, clk.now()); !ok {
			t.Fatalf("%s's entry is not under %q", tok, k)
		}
	}
}

func TestErrorsAreNeverCached(t *testing.T) {
	ctx := context.Background()
	up := &counting{}
	c := New(up, Options{TTL: time.Minute, MaxBytes: 1 << 20})
	up.fail.Store(true)
	if _, err := c.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true}); err == nil {
		t.Fatal("want the upstream error")
	}
	up.fail.Store(false)
	if l, err := c.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true}); err != nil || name(t, l) != "alice#2" {
		t.Fatalf("after a failure: %v %v", l, err)
	}
}

func TestBoundedByBytes(t *testing.T) {
	ctx := context.Background()
	body := fakeseatable.Generate(20, 10) // ~55 KB, estimated ~110 KB decoded
	up := upstreamFunc(func(token string) (*upstream.WorkspaceList, error) {
		return upstream.DecodeWorkspaceListBytes(body)
	})
	calls := 0
	counted := upstreamFunc(func(token string) (*upstream.WorkspaceList, error) { calls++; return up(token) })
	c := New(counted, Options{TTL: time.Minute, MaxBytes: 250 << 10})
	for _, tok := range []string{"a", "b", "c"} {
		_, _ = c.ListWorkspaces(ctx, tok, upstream.Read{Detail: true})
	}
	if used := localBytes(c, "a", "b", "c"); used > 250<<10 {
		t.Fatalf("store holds %d bytes, bound is %d", used, 250<<10)
	}
	calls = 0
	_, _ = c.ListWorkspaces(ctx, "c", upstream.Read{Detail: true}) // most recent: kept
	_, _ = c.ListWorkspaces(ctx, "a", upstream.Read{Detail: true}) // oldest: evicted
	if calls != 1 {
		t.Fatalf("%d upstream calls, want 1 (only the evicted entry)", calls)
	}
	// An answer larger than the whole bound is never stored.
	small := New(counted, Options{TTL: time.Minute, MaxBytes: 1 << 10})
	calls = 0
	_, _ = small.ListWorkspaces(ctx, "a", upstream.Read{Detail: true})
	_, _ = small.ListWorkspaces(ctx, "a", upstream.Read{Detail: true})
	if used := localBytes(small, "a"); calls != 2 || used != 0 {
		t.Fatalf("oversized answer stored (%d calls, %d bytes)", calls, used)
	}
}

// localBytes is what c holds in process for the tokens' detailed lists.
func localBytes(c *Cache, tokens ...string) int64 {
	var n int64
	for _, tok := range tokens {
		if l, ok := c.local.Get(c.localKey(tok, true), c.now()); ok {
			n += estimatedSize(l)
		}
	}
	return n
}

type upstreamFunc func(token string) (*upstream.WorkspaceList, error)

func (f upstreamFunc) ListWorkspaces(_ context.Context, token string, _ upstream.Read) (*upstream.WorkspaceList, error) {
	return f(token)
}

func TestSharedCacheAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	_, rc := redistest.StartWithClient(t)
	up := &counting{}
	a := New(up, Options{TTL: time.Minute, MaxBytes: 1 << 20, Redis: rc})
	b := New(up, Options{TTL: time.Minute, MaxBytes: 1 << 20, Redis: rc})

	if l, err := a.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true}); err != nil || name(t, l) != "alice#1" {
		t.Fatalf("a: %v %v", l, err)
	}
	if l, err := b.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true}); err != nil || name(t, l) != "alice#1" {
		t.Fatalf("b did not find a's entry: %v %v", l, err)
	}
	if up.calls.Load() != 1 {
		t.Fatalf("%d upstream calls, want 1", up.calls.Load())
	}
	if l, _ := b.ListWorkspaces(ctx, "bob", upstream.Read{Detail: true}); name(t, l) != "bob#2" {
		t.Fatalf("bob got %s", name(t, l))
	}

	// A write through replica a is seen by replica b (its in-process copy too).
	a.Invalidate(ctx, "alice")
	if l, _ := b.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true}); name(t, l) != "alice#3" {
		t.Fatalf("b served %s after a's write", name(t, l))
	}
	if l, _ := a.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true}); name(t, l) != "alice#3" {
		t.Fatalf("a served %s, want b's fresh entry", name(t, l))
	}
	if l, _ := a.ListWorkspaces(ctx, "bob", upstream.Read{Detail: true}); name(t, l) != "bob#2" {
		t.Fatalf("bob's entry was dropped by alice's write: %s", name(t, l))
	}

	keys, err := rc.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "alice") || strings.Contains(k, "bob") {
			t.Fatalf("redis key %q contains a token", k)
		}
		if ttl := rc.TTL(ctx, k).Val(); k != "sgql:hmac-key" && ttl <= 0 {
			t.Errorf("redis key %q has no expiry", k)
		}
	}
}

func TestRedisDownServesFromUpstream(t *testing.T) {
	ctx := context.Background()
	srv, rc := redistest.StartWithClient(t)
	up := &counting{}
	c := New(up, Options{TTL: time.Minute, MaxBytes: 1 << 20, Redis: rc})
	if _, err := c.ListWorkspaces(ctx, "alice", upstream.Read{Detail: true}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	for i := 0; i < 3; i++ {
		start := time.Now()
		l, err := c.ListWorkspaces(ctx, "bob", upstream.Read{Detail: true})
		if err != nil || l.Workspaces[0].Name != "bob" {
			t.Fatalf("with Redis down: %v %v", l, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("a read took %v with Redis down", d)
		}
	}
	c.Invalidate(ctx, "alice") // must not fail or hang either
}

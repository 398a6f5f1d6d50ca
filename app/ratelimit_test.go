package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/redistest"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestAnonymousCallersCannotDrainTheFallbackAccount: 200 anonymous
// requests with Cache-Control: no-cache, served with SEATABLE_TOKEN and the
// cache on. Before, each was a SeaTable call (200 of 200) and nothing
// limited them; now no-cache is ignored for them, so the cache answers and
// they cost SeaTable one call; answers from the cache spend no rate limit,
// so none is refused. (Uncached calls are limited per address:
// TestRateLimitsChargeSeaTableCalls.)
func TestAnonymousCallersCannotDrainTheFallbackAccount(t *testing.T) {
	e := newTestEnv(t, withEnv("SEATABLE_TOKEN", "fallback-tok"), withEnv("CACHE_TTL", "1m"))
	e.fake.SetToken("fallback-tok", fakeseatable.Fixture(fakeseatable.Seed))
	limited := 0
	for range 200 {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader([]byte(`{"query":"{ workspaces { id } }"}`)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cache-Control", "no-cache")
		status, resp := e.do(t, req)
		if status == http.StatusTooManyRequests {
			if len(resp.Errors) != 1 || code(resp.Errors[0]) != "RATE_LIMITED" || resp.Errors[0].Extensions["retryAfter"] == nil {
				t.Fatalf("429 without RATE_LIMITED and retryAfter: %+v", resp.Errors)
			}
			limited++
		}
	}
	t.Logf("200 anonymous no-cache requests: %d SeaTable calls, %d rate limited", e.fake.Calls(), limited)
	if e.fake.Calls() > 3 || limited > 0 {
		t.Fatalf("%d SeaTable calls (want at most 3), %d rate limited (want none: the cache answered)", e.fake.Calls(), limited)
	}
}

// TestRateLimitPerToken: with RATE_LIMIT, a token past its burst of
// SeaTable calls (each request one: no cache) gets RATE_LIMITED while
// another token is unaffected; off by default.
func TestRateLimitPerToken(t *testing.T) {
	e := newTestEnv(t, withEnv("RATE_LIMIT", "1", "RATE_BURST", "2"))
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	e.fake.SetToken("tok-b", fakeseatable.Fixture(fakeseatable.Seed))
	var statuses []int
	for range 3 {
		status, _ := e.post(t, "Token "+tokA, `{ workspaces { id } }`, nil)
		statuses = append(statuses, status)
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v, want 200 200 429", statuses)
	}
	if status, _ := e.post(t, "Token tok-b", `{ workspaces { id } }`, nil); status != 200 {
		t.Fatalf("another token: %d", status)
	}
	off := newTestEnv(t)
	off.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	for range 50 {
		if status, _ := off.post(t, "Token "+tokA, `{ workspaces { id } }`, nil); status != 200 {
			t.Fatalf("rate limited with RATE_LIMIT unset: %d", status)
		}
	}
}

// TestRateLimitSharedThroughRedis: two replicas on one Redis share a
// token's budget.
func TestRateLimitSharedThroughRedis(t *testing.T) {
	rs := redistest.Start(t)
	fake := fakeseatable.New()
	fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	replica := func() string {
		return newTestEnv(t, withFake(fake), withRedis(rs), withEnv("RATE_LIMIT", "1", "RATE_BURST", "2")).url
	}
	a, b := replica(), replica()
	post := func(url string) int {
		body, _ := json.Marshal(map[string]string{"query": "{ workspaces { id } }"})
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+tokA)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	got := []int{post(a), post(a), post(b)}
	if got[0] != 200 || got[1] != 200 || got[2] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v, want 200 200 429: replica b must see a's use", got)
	}
	_ = time.Second
}

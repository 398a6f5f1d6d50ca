package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/internal/redistest"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// postJSON sends a raw GraphQL request body with extra headers.
func (e *testEnv) postJSON(t *testing.T, body any, header http.Header) gqlResponse {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range header {
		req.Header[k] = vs
	}
	_, resp := e.do(t, req)
	return resp
}

func TestResponseCacheOverHTTP(t *testing.T) {
	fake := fakeseatable.New()
	fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	fake.SetToken("tok-b", fakeseatable.Fixture(fakeseatable.Current))
	e := newTestEnv(t, withFake(fake), withCache(time.Minute))
	auth := http.Header{"Authorization": {"Token " + tokA}}
	q := map[string]any{"query": `{ workspaces { name tables { name } } }`}

	first := e.postJSON(t, q, auth)
	second := e.postJSON(t, q, auth)
	if string(first.Data) != string(second.Data) || len(first.Errors) > 0 {
		t.Fatalf("cached answer differs: %s vs %s", first.Data, second.Data)
	}
	if n := fake.Calls(); n != 1 {
		t.Fatalf("%d upstream calls for two identical requests, want 1", n)
	}
	// Another token is never served tokA's entry.
	other := e.postJSON(t, q, http.Header{"Authorization": {"Token tok-b"}})
	if string(other.Data) == string(first.Data) || fake.Calls() != 2 {
		t.Fatalf("tok-b got tokA's answer or no call: %s", other.Data)
	}
	// Cache-Control: no-cache goes upstream.
	for _, h := range []http.Header{{"Cache-Control": {"no-cache"}}, {"Cache-Control": {"max-age=0, No-Cache"}}, {"Pragma": {"no-cache"}}} {
		before := fake.Calls()
		h.Set("Authorization", "Token "+tokA)
		if r := e.postJSON(t, q, h); string(r.Data) != string(first.Data) {
			t.Fatalf("bypass answered %s", r.Data)
		}
		if fake.Calls() != before+1 {
			t.Errorf("%v did not bypass the cache", h)
		}
	}
	// Upstream errors are not cached.
	fake.SetToken("tok-c", fakeseatable.Fixture(fakeseatable.Seed))
	authC := http.Header{"Authorization": {"Token tok-c"}}
	fake.FailWith(http.StatusBadGateway, nil, "")
	if r := e.postJSON(t, q, authC); len(r.Errors) == 0 {
		t.Fatal("want the upstream error")
	}
	fake.SetHook(nil)
	before := fake.Calls()
	if r := e.postJSON(t, q, authC); len(r.Errors) != 0 || !strings.Contains(string(r.Data), `"group one"`) {
		t.Fatalf("after recovery: %s %+v", r.Data, r.Errors)
	}
	if fake.Calls() != before+1 {
		t.Errorf("the error was served from the cache")
	}
}

// TestIsolationWithCoalescingAndCache runs many concurrent requests for
// several tokens with distinct data through coalescing and the cache, and
// checks that every answer is its own token's.
func TestIsolationWithCoalescingAndCache(t *testing.T) {
	for _, perf := range []struct {
		name  string
		cache bool
		redis bool
	}{{"coalescing", false, false}, {"coalescing+cache", true, false}, {"coalescing+cache+redis", true, true}} {
		t.Run(perf.name, func(t *testing.T) {
			var opts []func(*envOptions)
			if perf.cache {
				opts = append(opts, withCache(time.Minute))
			}
			if perf.redis {
				opts = append(opts, withRedis(redistest.Start(t)))
			}
			fake := fakeseatable.New()
			const tokens = 5
			want := map[string]string{}
			for i := 0; i < tokens; i++ {
				tok := fmt.Sprintf("iso-token-%d", i)
				fake.SetToken(tok, []byte(fmt.Sprintf(`{"workspace_list":[{"id":%d,"name":"ws-of-%s","type":"personal","table_list":[{"id":1,"uuid":"00000000-0000-4000-8000-%012d","name":"base-of-%s"}]}]}`, i+1, tok, i, tok)))
				want[tok] = fmt.Sprintf(`{"workspaces":[{"seatableId":"%d","name":"ws-of-%s","tables":[{"name":"base-of-%s"}]}],"w":{"name":"ws-of-%s"}}`, i+1, tok, tok, tok)
			}
			e := newTestEnv(t, append(opts, withFake(fake))...)
			var wg sync.WaitGroup
			errs := make(chan string, 50*4)
			for g := 0; g < 50; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := 0; r < 4; r++ {
						tok := fmt.Sprintf("iso-token-%d", (g+r)%tokens)
						id := fmt.Sprint((g+r)%tokens + 1)
						body, _ := json.Marshal(map[string]any{"query": `{ workspaces { seatableId name tables { name } } w: workspace(id: "` + id + `") { name } }`})
						req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Token "+tok)
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							errs <- err.Error()
							return
						}
						var out gqlResponse
						_ = json.NewDecoder(resp.Body).Decode(&out)
						resp.Body.Close()
						if string(out.Data) != want[tok] {
							errs <- fmt.Sprintf("%s got %s", tok, out.Data)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
			if n := fake.Calls(); n > 200 {
				t.Errorf("%d upstream calls for 200 requests", n)
			}
		})
	}
}

func apqRequest(query string, withQuery bool) map[string]any {
	sum := sha256.Sum256([]byte(query))
	body := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}}
	if withQuery {
		body["query"] = query
	}
	return body
}

func TestPersistedQueriesInProcess(t *testing.T) {
	fake := fakeseatable.New()
	fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	e := newTestEnv(t, withFake(fake))
	auth := http.Header{"Authorization": {"Token " + tokA}}
	q := `{ workspaces { id name } }`
	if r := e.postJSON(t, apqRequest(q, false), auth); len(r.Errors) != 1 || code(r.Errors[0]) != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown hash: %+v", r.Errors)
	}
	if r := e.postJSON(t, apqRequest(q, true), auth); len(r.Errors) != 0 {
		t.Fatalf("register: %+v", r.Errors)
	}
	if r := e.postJSON(t, apqRequest(q, false), auth); len(r.Errors) != 0 || !strings.Contains(string(r.Data), `"group one"`) {
		t.Fatalf("by hash: %s %+v", r.Data, r.Errors)
	}
	wrong := apqRequest(q, true)
	wrong["query"] = `{ workspaces { id } }`
	if r := e.postJSON(t, wrong, auth); len(r.Errors) != 1 || code(r.Errors[0]) != "BAD_USER_INPUT" {
		t.Fatalf("hash of another query: %+v, want BAD_USER_INPUT", r.Errors)
	}
	// Documents that fail to parse, validate or coerce their variables are
	// never persisted (gqlgen's own extension stored any text whose hash
	// matched, before parsing and without a token).
	for _, bad := range []map[string]any{
		apqRequest(`{ workspaces { nosuchfield } }`, true),
		apqRequest(`{ workspaces { id `, true),
		func() map[string]any {
			r := apqRequest(`query($id: ID!) { workspace(id: $id) { id } }`, true)
			r["variables"] = map[string]any{"id": []int{1}}
			return r
		}(),
	} {
		_ = e.postJSON(t, bad, nil)
		byHash := map[string]any{"extensions": bad["extensions"]}
		if r := e.postJSON(t, byHash, nil); len(r.Errors) != 1 || code(r.Errors[0]) != "PERSISTED_QUERY_NOT_FOUND" {
			t.Errorf("%q was persisted: %+v", bad["query"], r.Errors)
		}
	}
}

// TestTwoReplicasShareRedis runs two server instances against one Redis and
// one upstream: a query persisted through one is served by the other, and
// an answer cached through one is served by the other without an upstream
// call. With Redis stopped both keep answering from upstream.
func TestTwoReplicasShareRedis(t *testing.T) {
	rs := redistest.Start(t)
	fake := fakeseatable.New()
	fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
	newReplica := func() *testEnv { return newTestEnv(t, withFake(fake), withCache(time.Minute), withRedis(rs)) }
	a, b := newReplica(), newReplica()
	auth := http.Header{"Authorization": {"Token " + tokA}}
	q := `{ workspaces { id name tables { name updatedAt } } }`

	if r := a.postJSON(t, apqRequest(q, true), auth); len(r.Errors) != 0 {
		t.Fatalf("a: %+v", r.Errors)
	}
	if fake.Calls() != 1 {
		t.Fatalf("%d upstream calls, want 1", fake.Calls())
	}
	r := b.postJSON(t, apqRequest(q, false), auth)
	if len(r.Errors) != 0 || !strings.Contains(string(r.Data), `"Marketing"`) {
		t.Fatalf("b did not serve a's persisted query: %s %+v", r.Data, r.Errors)
	}
	if hits := metricValue(t, b, "seatable_graphql_cache_requests_total", map[string]string{"result": "hit"}); fake.Calls() != 1 || hits != 1 {
		t.Fatalf("b made %d upstream calls (hits %v), want its answer from a's cache entry", fake.Calls()-1, hits)
	}

	rs.Stop()
	for _, env := range []*testEnv{a, b} {
		r := env.postJSON(t, map[string]any{"query": `{ workspaces { id name } }`}, auth)
		if len(r.Errors) != 0 || !strings.Contains(string(r.Data), `"Marketing"`) {
			t.Fatalf("with Redis down: %s %+v", r.Data, r.Errors)
		}
	}
}

// TestWritesInvalidateThroughLoaders checks the contract with mutations:
// loaders.Invalidate after a write reaches the cache behind coalescing, so
// the next read of that token goes upstream, while other tokens keep theirs.
func TestWritesInvalidateThroughLoaders(t *testing.T) {
	fake := fakeseatable.New()
	fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	fake.SetToken("tok-b", fakeseatable.Fixture(fakeseatable.Seed))
	client, err := upstream.New(httptestServer(t, fake))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.CacheTTL = time.Minute
	f := fetchStack(client, cfg, nil, nil)
	caller := func(token string) *auth.Caller {
		return auth.NewCaller(http.Header{"Authorization": {"Token " + token}}, "", false)
	}
	read := func(token string) {
		t.Helper()
		if _, err := loaders.New(f, caller(token)).Workspaces(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	read(tokA)
	read("tok-b")
	read(tokA)
	if fake.Calls() != 2 {
		t.Fatalf("%d upstream calls, want 2 (one per token)", fake.Calls())
	}
	loaders.New(f, caller(tokA)).Invalidate(context.Background())
	read(tokA)
	read("tok-b")
	if fake.Calls() != 3 {
		t.Fatalf("%d upstream calls, want 3: only tokA's entry goes", fake.Calls())
	}
}

// TestUpstreamTransport checks the connection pool: sized for concurrency,
// and HTTP/2 when the upstream offers it over TLS.
func TestUpstreamTransport(t *testing.T) {
	tr := newTransport()
	if tr.MaxIdleConnsPerHost < 64 || !tr.ForceAttemptHTTP2 || tr.DisableCompression {
		t.Fatalf("transport: idle/host %d, HTTP/2 %v, compression off %v", tr.MaxIdleConnsPerHost, tr.ForceAttemptHTTP2, tr.DisableCompression)
	}
	fake := fakeseatable.New()
	fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	var proto string
	var mu sync.Mutex
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proto = r.Proto
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	up.EnableHTTP2 = true
	up.StartTLS()
	t.Cleanup(up.Close)
	tr.TLSClientConfig = up.Client().Transport.(*http.Transport).TLSClientConfig
	client, err := upstream.New(up.URL, upstream.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.ListWorkspaces(context.Background(), tokA, upstream.Read{Detail: true}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if proto != "HTTP/2.0" {
		t.Fatalf("upstream saw %s, want HTTP/2.0", proto)
	}
}

func TestLoadPerfConfig(t *testing.T) {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil || !c.Coalesce || !c.FastPath || c.CacheTTL != 0 || c.CacheMaxBytes != 64<<20 || c.APQCacheSize != 1000 || c.RedisURL != "" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	env := map[string]string{"CACHE_TTL": "5s", "CACHE_MAX_BYTES": "1048576", "COALESCE": "false",
		"APQ_CACHE_SIZE": "0", "REDIS_URL": "redis://:secret@127.0.0.1:6379/2", "FAST_PATH": "false"}
	c, err = LoadConfig(func(k string) string { return env[k] })
	if err != nil || c.Coalesce || c.FastPath || c.CacheTTL != 5*time.Second || c.CacheMaxBytes != 1<<20 || c.APQCacheSize != 0 || c.RedisURL == "" {
		t.Fatalf("parsed %+v %v", c, err)
	}
	for k, v := range map[string]string{"CACHE_TTL": "5", "CACHE_MAX_BYTES": "0", "COALESCE": "maybe", "FAST_PATH": "sometimes",
		"APQ_CACHE_SIZE": "-1", "REDIS_URL": "http://:secret@host"} {
		_, err := LoadConfig(func(key string) string {
			if key == k {
				return v
			}
			return ""
		})
		if err == nil {
			t.Errorf("%s=%s accepted", k, v)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("error leaks the Redis password: %v", err)
		}
	}
}

// TestReusedResultsFollowTheCache checks that a reused GraphQL result never
// outlives the cached upstream answer it came from: after a no-cache
// request refreshes the cache, plain requests see the new data too.
func TestReusedResultsFollowTheCache(t *testing.T) {
	fake := fakeseatable.New()
	fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	e := newTestEnv(t, withFake(fake), withCache(time.Minute))
	auth := http.Header{"Authorization": {"Token " + tokA}}
	q := map[string]any{"query": `{ workspaces { name } }`}
	before := e.postJSON(t, q, auth)
	if again := e.postJSON(t, q, auth); string(again.Data) != string(before.Data) || fake.Calls() != 1 {
		t.Fatalf("second read: %s after %d calls", again.Data, fake.Calls())
	}
	fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
	if stale := e.postJSON(t, q, auth); string(stale.Data) != string(before.Data) {
		t.Fatalf("within the TTL the cached answer is expected, got %s", stale.Data)
	}
	fresh := e.postJSON(t, q, http.Header{"Authorization": {"Token " + tokA}, "Cache-Control": {"no-cache"}})
	if string(fresh.Data) == string(before.Data) {
		t.Fatal("no-cache served the old data")
	}
	if after := e.postJSON(t, q, auth); string(after.Data) != string(fresh.Data) {
		t.Fatalf("after the refresh a plain request got %s, want %s", after.Data, fresh.Data)
	}
}

// TestAnswersArePrivateToTheCaller: GET, APQ and replayed answers (the ones
// a browser or proxy could keep) say they belong to one caller, chosen by
// the Authorization header.
func TestAnswersArePrivateToTheCaller(t *testing.T) {
	fake := fakeseatable.New()
	fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	e := newTestEnv(t, withFake(fake), withCache(time.Minute))
	q := `{ workspaces { id name } }`
	apq, _ := json.Marshal(apqRequest(q, true))
	byHash, _ := json.Marshal(apqRequest(q, false))
	plain, _ := json.Marshal(map[string]any{"query": q})
	for _, tc := range []struct {
		name   string
		method string
		target string
		body   []byte
	}{
		{"GET", http.MethodGet, "/graphql?query=" + url.QueryEscape(q), nil},
		{"APQ register", http.MethodPost, "/graphql", apq},
		{"APQ by hash", http.MethodPost, "/graphql", byHash},
		{"POST", http.MethodPost, "/graphql", plain},
		{"POST replayed", http.MethodPost, "/graphql", plain},
	} {
		req, _ := http.NewRequest(tc.method, e.url+tc.target, bytes.NewReader(tc.body))
		req.Header.Set("Authorization", "Token "+tokA)
		if tc.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "private" || !slices.Contains(resp.Header.Values("Vary"), "Authorization") {
			t.Errorf("%s: %d Cache-Control %q Vary %q", tc.name, resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Values("Vary"))
		}
	}
}

// TestCacheMaxBytesBoundsBothStores: the answers and the replayable
// responses share CACHE_MAX_BYTES (before, each could use all of it).
func TestCacheMaxBytesBoundsBothStores(t *testing.T) {
	for _, total := range []int64{1, 1 << 20, 64<<20 + 1} {
		if a, r := cacheShares(total); a+r != total || a < 0 || r < 0 {
			t.Errorf("cacheShares(%d) = %d + %d", total, a, r)
		}
	}
}

// TestDeferThroughEveryLayer: a deferred query streams through the whole
// handler (request log, result cache, the HTTP layer), also when the same
// answer is asked for again with the cache on.
func TestDeferThroughEveryLayer(t *testing.T) {
	fake := fakeseatable.New()
	fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	e := newTestEnv(t, withFake(fake), withCache(time.Minute))
	body, _ := json.Marshal(map[string]any{"query": `{ workspace(id: "2") { seatableId ... @defer { tables { name } } } }`})
	for i := range 2 {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "multipart/mixed;deferSpec=20220824, application/json")
		req.Header.Set("Authorization", "Token "+tokA)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// Streamed: "private, no-store"; replayed from the result cache: "private".
		cc := resp.Header.Get("Cache-Control")
		if (i == 0 && cc != "private, no-store") || !strings.HasPrefix(cc, "private") || !slices.Contains(resp.Header.Values("Vary"), "Authorization") {
			t.Errorf("request %d: Cache-Control %q, Vary %q", i, resp.Header.Get("Cache-Control"), resp.Header.Values("Vary"))
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/mixed") || !strings.Contains(string(out), `"incremental":[{"data":{"tables":[{"name":"testing"}]}`) ||
			!strings.HasSuffix(string(out), "-----\r\n") {
			t.Errorf("request %d: %s\n%s", i, resp.Header.Get("Content-Type"), out)
		}
	}
}

// TestRedisLogsGoThroughSlog: go-redis's own lines (here a failed dial)
// reach slog instead of its default logger on stderr.
func TestRedisLogsGoThroughSlog(t *testing.T) {
	logs := &syncBuffer{}
	RouteRedisLogs(slog.New(slog.NewJSONHandler(logs, nil)))
	rc, err := newRedisClient("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	_ = rc.Ping(context.Background()).Err()
	if !strings.Contains(logs.String(), `"msg":"redis: `) {
		t.Fatalf("no go-redis line in slog: %q", logs.String())
	}
}

// TestReplaysAreCounted: a response replayed from the result
// cache is counted in metrics and named in the request log like one that
// ran; before, only responses that went through gqlgen were.
func TestReplaysAreCounted(t *testing.T) {
	e := newTestEnv(t, withEnv("CACHE_TTL", "1m"))
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	for range 3 {
		if _, r := e.post(t, "Token "+tokA, `query Listing { workspaces { id name } }`, nil); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
	}
	fams, _ := e.scrape(t)
	if n := series(fams, "seatable_graphql_graphql_operations_total")["operation=Listing,outcome=ok"]; n != 3 {
		t.Fatalf("Listing counted %v times, want 3 (one run, two replays)", n)
	}
	if n := strings.Count(e.logs.String(), `"operation":"Listing"`); n != 3 {
		t.Fatalf("%d request log lines name the operation, want 3:\n%s", n, e.logs.String())
	}
}

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// The per-operation gate: every operation, whatever its transport (POST,
// GET, a batch's element, SSE, each subscribe on a WebSocket), meets the
// same trusted-document check, query size bound and rate limits.

const trustedSub = "subscription W { workspacesChanged { workspaces { id: seatableId } } }"

// dialWSURL opens a graphql-transport-ws connection to /graphql with query
// parameters.
func dialWSURL(t *testing.T, e *testEnv, params url.Values) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(e.url, "http") + "/graphql"
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &wsClient{t: t, conn: conn}, resp, nil
}

// wsInit sends connection_init with payload and wants connection_ack.
func (c *wsClient) init(payload map[string]any) {
	c.t.Helper()
	c.send(map[string]any{"type": "connection_init", "payload": payload})
	if m := c.next(); m.Type != "connection_ack" {
		c.t.Fatalf("want connection_ack, got %s %s", m.Type, m.Payload)
	}
}

// refusedFor reads what the server answers operation id and fails the
// test unless it is an `error` message (a request error: nothing ran)
// whose payload contains want.
func (c *wsClient) refusedFor(id, want string) {
	c.t.Helper()
	m := c.nextFor(id)
	if m.Type != "error" || !strings.Contains(string(m.Payload), want) {
		c.t.Fatalf("operation %s: want an error message containing %q, got %s %s", id, want, m.Type, m.Payload)
	}
}

// TestTrustedDocumentsOverWebSocket: with TRUSTED_DOCUMENTS_ONLY, a plain
// graphql-ws upgrade succeeds, a trusted subscription runs (by its text or
// its APQ hash), and any other operation gets an `error` message for its
// id. Before, the plain upgrade got 400, and an upgrade whose URL named a
// trusted documentId let every later operation on the socket run anything.
func TestTrustedDocumentsOverWebSocket(t *testing.T) {
	manifest := writeManifest(t, map[string]string{sha256hex(trustedSub): trustedSub, sha256hex(trustedList): trustedList})
	e, _ := newLiveEnv(t, withEnv("TRUSTED_DOCUMENTS", manifest, "TRUSTED_DOCUMENTS_ONLY", "true"))

	c, resp, err := dialWSURL(t, e, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("plain upgrade refused: HTTP %d %v", status, err)
	}
	c.init(map[string]any{"Authorization": "Token " + liveToken})
	c.subscribe("trusted", trustedSub)
	if p := c.nextData("trusted"); len(p.Errors) > 0 || !strings.Contains(string(p.Data), "workspacesChanged") {
		t.Fatalf("trusted subscription: %s %+v", p.Data, p.Errors)
	}
	c.send(map[string]any{"id": "by-hash", "type": "subscribe", "payload": map[string]any{
		"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": "sha256:" + sha256hex(trustedList)}}}})
	if p := c.nextData("by-hash"); len(p.Errors) > 0 || !strings.Contains(string(p.Data), "seatableId") {
		t.Fatalf("trusted query by its hash: %s %+v", p.Data, p.Errors)
	}
	c.subscribe("other", "{ workspaces { name } }")
	c.refusedFor("other", "only trusted documents")
	c.subscribe("mutation", `mutation { starDTable(uuid: "00000000000000000000000000000000") { dtable { uuid } } }`)
	c.refusedFor("mutation", "only trusted documents")
	// A trusted hash does not carry other text.
	c.send(map[string]any{"id": "smuggled", "type": "subscribe", "payload": map[string]any{"query": "{ workspaces { name } }",
		"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256hex(trustedList)}}}})
	c.refusedFor("smuggled", "does not match")

	// The upgrade's URL names a trusted document: no pass for the socket.
	c, _, err = dialWSURL(t, e, url.Values{"documentId": {sha256hex(trustedList)}})
	if err != nil {
		t.Fatalf("upgrade naming a documentId: %v", err)
	}
	c.init(map[string]any{"Authorization": "Token " + liveToken})
	c.subscribe("other", "{ workspaces { name } }")
	c.refusedFor("other", "only trusted documents")
}

// TestTrustedAPQHashCarriesOnlyItsDocument: with APQ off
// (APQ_CACHE_SIZE=0), untrusted text sent with a trusted document's APQ
// hash is refused over POST, GET, a batch and SSE (before, it ran); without
// TRUSTED_DOCUMENTS_ONLY it is refused as a hash that does not match.
func TestTrustedAPQHashCarriesOnlyItsDocument(t *testing.T) {
	manifest := writeManifest(t, map[string]string{sha256hex(trustedList): trustedList})
	const other = "{ workspaces { name } }"
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + sha256hex(trustedList) + `"}}`
	body, _ := json.Marshal(map[string]any{"query": other, "extensions": json.RawMessage(ext)})
	for _, only := range []string{"true", "false"} {
		e := newTestEnv(t, withEnv("TRUSTED_DOCUMENTS", manifest, "TRUSTED_DOCUMENTS_ONLY", only, "APQ_CACHE_SIZE", "0"))
		e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
		send := func(name string, req *http.Request) (int, string) {
			t.Helper()
			req.Header.Set("Authorization", "Token "+tokA)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(raw), `"name"`) || !(strings.Contains(string(raw), "does not match") || strings.Contains(string(raw), "only trusted documents")) {
				t.Errorf("only=%s %s: untrusted text ran or was not refused: %d %s", only, name, resp.StatusCode, raw)
			}
			return resp.StatusCode, string(raw)
		}
		post := func(accept string, b []byte) *http.Request {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+"/graphql", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			return req
		}
		status, raw := send("POST", post("", body))
		if only == "false" && (status != http.StatusOK || strings.Contains(raw, `"data"`)) {
			t.Errorf("a hash that does not match, application/json: %d %s, want 200 without data", status, raw)
		}
		if status, raw := send("POST graphql-response+json", post("application/graphql-response+json", body)); status != http.StatusBadRequest {
			t.Errorf("graphql-response+json: %d %s, want 400", status, raw)
		}
		send("batch", post("", []byte("["+string(body)+"]")))
		get, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.url+"/graphql?"+url.Values{"query": {other}, "extensions": {ext}}.Encode(), nil)
		send("GET", get)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		sse := post("text/event-stream", body).WithContext(ctx)
		send("SSE", sse)
		cancel()
	}
}

// TestClientPreset6PersistedDocuments: GraphQL Code Generator's
// client-preset 6 writes manifest keys and __meta__.hash as
// "sha256:<hex>" (testdata/client-preset-6 is its output). Its documented
// recipes send that hash as documentId and as the APQ sha256Hash; both
// work in TRUSTED_DOCUMENTS_ONLY mode, and the APQ recipe works against a
// server with APQ and no manifest (before: 400, and "provided APQ hash
// does not match query").
func TestClientPreset6PersistedDocuments(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "client-preset-6", "persisted-documents.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest map[string]string
	if err := json.Unmarshal(raw, &manifest); err != nil || len(manifest) == 0 {
		t.Fatalf("manifest: %v", err)
	}
	path := writeManifest(t, manifest)
	e := newTestEnv(t, withEnv("TRUSTED_DOCUMENTS", path, "TRUSTED_DOCUMENTS_ONLY", "true"))
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	plain := newTestEnv(t)
	plain.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	for hash, text := range manifest {
		if !strings.HasPrefix(hash, "sha256:") || hash != "sha256:"+sha256hex(text) {
			t.Fatalf("not client-preset 6's form: %q", hash)
		}
		apq := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}
		for name, body := range map[string]any{"documentId": map[string]any{"documentId": hash}, "APQ sha256Hash": apq} {
			if status, r := e.postRaw(t, body); status != http.StatusOK || len(r.Errors) > 0 || len(r.Data) < 3 {
				t.Errorf("%s %s: %d %s %+v", name, hash, status, r.Data, r.Errors)
			}
		}
		// APQ without a manifest: unknown hash, then the text with it.
		if _, r := plain.postRaw(t, apq); len(r.Errors) != 1 || code(r.Errors[0]) != "PERSISTED_QUERY_NOT_FOUND" {
			t.Errorf("APQ, first: %+v", r.Errors)
		}
		apq["query"] = text
		if status, r := plain.postRaw(t, apq); status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("APQ with its text: %d %+v", status, r.Errors)
		}
		delete(apq, "query")
		if status, r := plain.postRaw(t, apq); status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("APQ, persisted: %d %+v", status, r.Errors)
		}
	}
}

// TestWebSocketOperationsMeetTheHTTPLimits: one anonymous socket, served
// with SEATABLE_TOKEN, sends 200 queries as fast as it can: SeaTable is
// called no more than the fallback limit's burst allows, the rest get
// RATE_LIMITED with retryAfter (before: 200 SeaTable calls). A query over
// MAX_QUERY_BYTES is refused on the socket (before: accepted).
func TestWebSocketOperationsMeetTheHTTPLimits(t *testing.T) {
	e, _ := newLiveEnv(t, withEnv("SEATABLE_TOKEN", liveToken, "MAX_QUERY_BYTES", "1024"))
	c, _, err := dialWSURL(t, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.init(map[string]any{})
	c.subscribe("big", "{ workspaces { id } }"+strings.Repeat(" ", 2000))
	c.refusedFor("big", "MAX_QUERY_BYTES")
	calls := e.fake.Calls()
	const n = 200
	limited := 0
	for i := range n {
		id := fmt.Sprint("q", i)
		c.subscribe(id, "{ workspaces { id } }")
		m := c.nextFor(id)
		if m.Type == "next" && strings.Contains(string(m.Payload), "RATE_LIMITED") {
			if !strings.Contains(string(m.Payload), "retryAfter") {
				t.Fatalf("RATE_LIMITED without retryAfter: %s", m.Payload)
			}
			limited++
		}
		if m.Type == "next" {
			if m := c.nextFor(id); m.Type != "complete" {
				t.Fatalf("query %s not completed: %s %s", id, m.Type, m.Payload)
			}
		}
	}
	made := e.fake.Calls() - calls
	t.Logf("%d queries on one anonymous socket: %d SeaTable calls, %d RATE_LIMITED", n, made, limited)
	if made > int64(defaultFallbackLimit.Burst+2) || limited < n-defaultFallbackLimit.Burst-2 {
		t.Fatalf("%d SeaTable calls (want at most %d), %d RATE_LIMITED", made, defaultFallbackLimit.Burst+2, limited)
	}
}

// withDemo serves as the command serves the embedded demo: no SEATABLE_URL,
// the fallback token "demo", writes allowed with it.
func withDemo() func(*envOptions) {
	return func(o *envOptions) {
		o.configure = func(c *Config) { c.Demo, c.Token, c.FallbackTokenWrites = true, "demo", true }
	}
}

// TestRateLimitsChargeSeaTableCalls: with SEATABLE_TOKEN, 100 quick
// tokenless requests that call nothing ({ __typename }, introspection,
// answers from the cache) are all served; requests that call SeaTable are
// limited per address past the burst (each one a call: no cache), with 429,
// Retry-After, RATE_LIMITED and retryAfter. In the demo nothing is limited.
// Before: the eleventh request got 429, whatever it cost, demo included.
func TestRateLimitsChargeSeaTableCalls(t *testing.T) {
	count := func(e *testEnv, query string, n int) (limited int) {
		t.Helper()
		for range n {
			status, r := e.post(t, "", query, nil)
			if status == http.StatusTooManyRequests {
				if len(r.Errors) != 1 || code(r.Errors[0]) != "RATE_LIMITED" || r.Errors[0].Extensions["retryAfter"] == nil {
					t.Fatalf("429 without RATE_LIMITED and retryAfter: %+v", r.Errors)
				}
				limited++
			} else if status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("%s: %d %+v", query, status, r.Errors)
			}
		}
		return limited
	}
	cheap := newTestEnv(t, withEnv("SEATABLE_TOKEN", "fallback-tok", "CACHE_TTL", "1m"))
	cheap.fake.SetToken("fallback-tok", fakeseatable.Fixture(fakeseatable.Seed))
	for _, q := range []string{"{ __typename }", "{ __schema { queryType { name } } }", "{ workspaces { id } }"} {
		if limited := count(cheap, q, 100); limited != 0 {
			t.Errorf("%s: %d of 100 tokenless requests got 429", q, limited)
		}
	}
	if calls := cheap.fake.Calls(); calls != 1 {
		t.Errorf("%d SeaTable calls, want 1 (then the cache)", calls)
	}

	costly := newTestEnv(t, withEnv("SEATABLE_TOKEN", "fallback-tok"))
	costly.fake.SetToken("fallback-tok", fakeseatable.Fixture(fakeseatable.Seed))
	limited := count(costly, "{ workspaces { id } }", 100)
	t.Logf("100 tokenless uncached reads: %d SeaTable calls, %d got 429", costly.fake.Calls(), limited)
	if calls := costly.fake.Calls(); calls > int64(defaultFallbackLimit.Burst+2) || limited < 100-defaultFallbackLimit.Burst-2 {
		t.Fatalf("%d SeaTable calls, %d limited", calls, limited)
	}

	demo := newTestEnv(t, withDemo())
	demo.fake.AcceptAnyToken(fakeseatable.Fixture(fakeseatable.Demo))
	for _, q := range []string{"{ __typename }", "{ workspaces { id } }"} {
		if limited := count(demo, q, 100); limited != 0 {
			t.Errorf("demo %s: %d of 100 tokenless requests got 429", q, limited)
		}
	}
}

// TestBatchIsChargedAsAWhole: a batch of reads shares one SeaTable call and
// spends one; a batch of mutations spends one per write, so RATE_LIMIT
// bounds what one HTTP request can make SeaTable do (before: the request
// counted once, whatever it called).
func TestBatchIsChargedAsAWhole(t *testing.T) {
	e := newTestEnv(t, withEnv("RATE_LIMIT", "1", "RATE_BURST", "3"))
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	items := make([]string, 10)
	for i := range items {
		items[i] = `{"query":"{ workspaces { id } }"}`
	}
	_, results, raw := postBatch(t, e, "["+strings.Join(items, ",")+"]")
	for _, r := range results {
		if len(r.Errors) > 0 {
			t.Fatalf("a batch of 10 reads: %s", raw)
		}
	}
	reads := e.fake.Calls()
	for i := range items {
		items[i] = fmt.Sprintf(`{"query":"mutation { createDTable(input: {workspaceId: \"1\", name: \"B%d\"}) { dtable { uuid } } }"}`, i)
	}
	_, results, raw = postBatch(t, e, "["+strings.Join(items, ",")+"]")
	limited := 0
	for _, r := range results {
		if len(r.Errors) > 0 && code(r.Errors[0]) == "RATE_LIMITED" {
			limited++
		}
	}
	writes := e.fake.Calls() - reads
	t.Logf("a batch of 10 reads: %d SeaTable calls; then a batch of 10 mutations: %d SeaTable calls, %d RATE_LIMITED", reads, writes, limited)
	if reads != 1 || writes > 2 || limited < 8 {
		t.Fatalf("reads %d, writes %d, limited %d: %s", reads, writes, limited, raw)
	}
}

// TestWebSocketAuthentication: connection_init's token is read from the
// top level or from headers.Authorization (hasura/go-graphql-client,
// Apollo connectionParams), names in any case; a payload with keys but no
// token is refused with 4403 and the reason in the close frame, never
// served SEATABLE_TOKEN (before: served the shared account).
func TestWebSocketAuthentication(t *testing.T) {
	e, _ := newLiveEnv(t, withEnv("SEATABLE_TOKEN", otherToken))
	e.fake.SetToken(otherToken, fakeseatable.Fixture(fakeseatable.Seed))
	for _, payload := range []map[string]any{
		{"headers": map[string]any{"Authorization": "Token " + liveToken}},
		{"HEADERS": map[string]any{"authorization": "Token " + liveToken}},
		{"AUTHORIZATION": "Bearer " + liveToken},
	} {
		c, _, err := dialWSURL(t, e, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.init(payload)
		c.subscribe("q", "{ workspaces { name } }")
		// The Demo fixture (liveToken) has a workspace the Seed one
		// (SEATABLE_TOKEN) has not.
		mine := postGraphQL(t, e, liveToken, "{ workspaces { name } }")
		if p := c.nextData("q"); string(p.Data) != string(mine.Data) {
			t.Fatalf("%v: served %s, want the token's own %s", payload, p.Data, mine.Data)
		}
	}
	c, _, err := dialWSURL(t, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"auth": map[string]any{"jwt": "x"}}})
	for {
		_, err := c.read()
		if err == nil {
			continue // connection_error, then the close
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 4403 || !strings.Contains(ce.Reason, "connection_init payload has no Authorization token") {
			t.Fatalf("want 4403 with the reason, got %v", err)
		}
		break
	}
}

// TestGraphQLWsConnectionParams runs tests/live-clients/headers.mjs:
// graphql-ws with connectionParams { headers: { Authorization } } reads
// with the caller's own token (before: SEATABLE_TOKEN's account); a
// payload without a token is closed with 4403 and its reason; a plain
// graphql-ws client of a TRUSTED_DOCUMENTS_ONLY server runs a trusted
// subscription and gets an error for anything else (before: 400 on
// upgrade).
func TestGraphQLWsConnectionParams(t *testing.T) {
	client := needNodeClient(t, "live-clients", "subscription clients", "graphql-ws", "ws")
	e := newTestEnv(t, withEnv("SEATABLE_TOKEN", otherToken))
	e.fake.SetToken(otherToken, fakeseatable.Fixture(fakeseatable.Seed))
	e.fake.SetToken(liveToken, fakeseatable.Fixture(fakeseatable.Demo))
	manifest := writeManifest(t, map[string]string{sha256hex(trustedSub): trustedSub})
	trusted := newTestEnv(t, withEnv("TRUSTED_DOCUMENTS", manifest, "TRUSTED_DOCUMENTS_ONLY", "true"))
	trusted.fake.SetToken(liveToken, fakeseatable.Fixture(fakeseatable.Demo))
	client.run(time.Minute, []string{"GRAPHQL_URL=" + e.url + "/graphql", "SEATABLE_TOKEN=" + liveToken,
		"TRUSTED_URL=" + trusted.url + "/graphql", "TRUSTED_SUBSCRIPTION=" + trustedSub}, "headers.mjs")
}

// TestGraphQLOverHTTPAuditDemo runs the graphql-http audit against the
// demo as `go run .` serves it: tokenless requests read with the demo's
// fallback token, which has no rate limit (before: the eleventh quick
// request got 429, and 8 of the 13 MUST audits failed).
func TestGraphQLOverHTTPAuditDemo(t *testing.T) {
	node := testenv.LookPath(t, testenv.NodePackages, "node", "nodejs")
	dir := filepath.Join("..", "tests", "graphql-http")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphql-http", "package.json")); err != nil {
		testenv.Missing(t, testenv.NodePackages, "the graphql-http audit suite (npm ci --prefix tests/graphql-http)", err)
	}
	e := newTestEnv(t, withDemo())
	e.fake.AcceptAnyToken(fakeseatable.Fixture(fakeseatable.Demo))
	auditGraphQLOverHTTP(t, node, dir, e.url)
}

// TestSharedCallsKeepBudgetsApart: anonymous clients at different addresses
// all read with SEATABLE_TOKEN, so their identical concurrent calls would
// be shared (coalescing, shared execution). A client over its limit does
// not join another's call in flight: it is refused at once, while the other
// is served; so it can never fail the other by leading a shared call that
// its own meter refuses.
func TestSharedCallsKeepBudgetsApart(t *testing.T) {
	var block atomic.Bool
	entered, release := make(chan struct{}, 1), make(chan struct{})
	e := newTestEnv(t, withEnv("SEATABLE_TOKEN", "fallback-tok", "COALESCE", "true", "SHARE_QUERIES", "true"),
		func(o *envOptions) {
			o.upstreamHandler = func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if block.Load() {
						entered <- struct{}{}
						<-release
					}
					next.ServeHTTP(w, r)
				})
			}
		})
	e.fake.SetToken("fallback-tok", fakeseatable.Fixture(fakeseatable.Seed))
	serve := func(addr string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ workspaces { id } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	const a, b = "192.0.2.1:1000", "192.0.2.2:1000"
	for range defaultFallbackLimit.Burst {
		if status, body := serve(a); status != http.StatusOK {
			t.Fatalf("within a's burst: %d %s", status, body)
		}
	}
	block.Store(true)
	bDone := make(chan int, 1)
	go func() { status, _ := serve(b); bDone <- status }()
	<-entered // b's call is in flight, held
	aDone := make(chan int, 1)
	go func() { status, _ := serve(a); aDone <- status }()
	select {
	case status := <-aDone:
		if status != http.StatusTooManyRequests {
			t.Errorf("a, over its limit: %d, want 429", status)
		}
	case <-time.After(5 * time.Second):
		t.Error("a, over its limit, joined b's call in flight instead of being refused")
		close(release)
		t.Logf("a, once b's call ended: %d", <-aDone)
		<-bDone
		return
	}
	close(release)
	if status := <-bDone; status != http.StatusOK {
		t.Errorf("b: %d", status)
	}
}

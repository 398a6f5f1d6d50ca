package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/seatable-graphql/seatable-graphql/app/internal/metrics"
	"github.com/seatable-graphql/seatable-graphql/app/internal/playground"
	"github.com/seatable-graphql/seatable-graphql/internal/redistest"
	"github.com/seatable-graphql/seatable-graphql/internal/requestlog"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// testEnv is the facade's HTTP handler served over real HTTP, in front of the
// fake SeaTable served over real HTTP, built by New from a configuration
// (envOptions.env) exactly as Run builds it, so features switched on by
// configuration are under test too. It is the one fixture of every
// end-to-end test (go-github's setup()); options change what differs.
type testEnv struct {
	fake     *fakeseatable.Server
	upstream *httptest.Server // the fake's HTTP server
	url      string           // the facade's base URL
	logs     *syncBuffer      // JSON lines
	cfg      Config
	app      *App
	handler  http.Handler // the facade's handler, also served at url
	metrics  *metrics.Metrics
	live     *liveServer // subscriptions: its hub and streams
	// close stops the facade and waits for requests in flight, so that what
	// a request leaves behind after its response (spans, log lines) is
	// complete.
	close func()
}

type envOptions struct {
	env    map[string]string // as LoadConfig reads it from the environment
	tracer trace.TracerProvider
	// fake is the upstream; nil: a new one. Replicas share one.
	fake *fakeseatable.Server
	// upstreamHandler, when set, wraps the fake (to observe what reaches it).
	upstreamHandler func(http.Handler) http.Handler
	quiet           bool        // discard logs (benchmarks)
	logs            *syncBuffer // where logs go; nil: a new buffer
	seams           seams
	configure       func(*Config) // after LoadConfig: what the command sets (Demo)
}

// withEnv sets configuration variables, as key, value pairs.
func withEnv(kv ...string) func(*envOptions) {
	return func(o *envOptions) {
		if o.env == nil {
			o.env = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			o.env[kv[i]] = kv[i+1]
		}
	}
}

// withFake puts the facade in front of fake, which other envs may share.
func withFake(fake *fakeseatable.Server) func(*envOptions) {
	return func(o *envOptions) { o.fake = fake }
}

// withRedis shares Redis (REDIS_URL) with every env given the same server.
func withRedis(rs *redistest.Server) func(*envOptions) { return withEnv("REDIS_URL", rs.URL) }

// withCache turns the response cache on (CACHE_TTL).
func withCache(ttl time.Duration) func(*envOptions) { return withEnv("CACHE_TTL", ttl.String()) }

func newTestEnv(t testing.TB, opts ...func(*envOptions)) *testEnv {
	t.Helper()
	var o envOptions
	for _, f := range opts {
		f(&o)
	}
	cfg, err := LoadConfig(func(k string) string { return o.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if o.configure != nil {
		o.configure(&cfg)
	}
	fake := o.fake
	if fake == nil {
		fake = fakeseatable.New()
	}
	var upstreamHandler http.Handler = fake
	if o.upstreamHandler != nil {
		upstreamHandler = o.upstreamHandler(fake)
	}
	// Mounted under a base path so that a wrong absolute URL fails.
	mux := http.NewServeMux()
	mux.Handle("/seatable/", http.StripPrefix("/seatable", upstreamHandler))
	up := httptest.NewServer(mux)
	t.Cleanup(up.Close)
	cfg.SeaTableURL = up.URL + "/seatable"
	if cfg.PlaygroundAssetsDir == playground.DefaultAssetsDir {
		// The tests run in app/; the assets are installed at the root.
		cfg.PlaygroundAssetsDir = filepath.Join("..", playground.DefaultAssetsDir)
	}
	logs := o.logs
	if logs == nil {
		logs = &syncBuffer{}
	}
	var h slog.Handler = slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})
	if o.quiet {
		h = slog.DiscardHandler
	}
	a, err := build(context.Background(), cfg, Options{Log: slog.New(requestlog.Handler(h)), Tracer: o.tracer}, o.seams)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return &testEnv{fake: fake, upstream: up, url: srv.URL, logs: logs, cfg: cfg, app: a, handler: a.Handler,
		metrics: a.metrics, close: srv.Close, live: a.live}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// post sends a GraphQL request with an optional Authorization header value.
func (e *testEnv) post(t *testing.T, authorization, query string, vars map[string]any) (int, gqlResponse) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return e.do(t, req)
}

func (e *testEnv) do(t *testing.T, req *http.Request) (int, gqlResponse) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not GraphQL JSON (%d): %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// mustData runs a query that must succeed and decodes its data into v.
func (e *testEnv) mustData(t *testing.T, authorization, query string, v any) {
	t.Helper()
	status, resp := e.post(t, authorization, query, nil)
	if status != http.StatusOK || len(resp.Errors) > 0 {
		t.Fatalf("query failed: status %d, errors %+v", status, resp.Errors)
	}
	if err := json.Unmarshal(resp.Data, v); err != nil {
		t.Fatalf("decode data: %v: %s", err, resp.Data)
	}
}

const tokA = "tokA-0123456789abcdef"

func TestFieldSelectionReturnsOnlyWhatWasAsked(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
	var data struct {
		Workspaces []map[string]json.RawMessage `json:"workspaces"`
	}
	e.mustData(t, "Token "+tokA, `{ workspaces { id name } }`, &data)
	if len(data.Workspaces) != 5 {
		t.Fatalf("got %d workspaces, want 5", len(data.Workspaces))
	}
	for _, ws := range data.Workspaces {
		var keys []string
		for k := range ws {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, ",") != "id,name" {
			t.Errorf("workspace has fields %v, want only id,name", keys)
		}
	}
}

func TestWorkspacesInUpstreamOrderWithAllFields(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
	var data struct {
		Workspaces []struct {
			ID, Name     string
			Type         *string
			GroupID      *string
			GroupOwner   *string
			IsAdmin      *bool
			DepartmentID *string
			Tables       []struct {
				UUID, Name, WorkspaceID string
				CreatedAt, UpdatedAt    *string
				Color                   *string
				Starred                 bool
				IsEncrypted, InStorage  *bool
			}
		}
	}
	e.mustData(t, "Token "+tokA, `{ workspaces { id: seatableId name type groupId groupOwner isAdmin departmentId
		tables { uuid name workspaceId createdAt updatedAt color starred isEncrypted inStorage } } }`, &data)
	var got []string
	for _, ws := range data.Workspaces {
		got = append(got, ws.ID+":"+deref(ws.Type)+":"+ws.Name)
	}
	want := "starred:STARRED:starred shared:SHARED:shared 12:PERSONAL:personal 15:GROUP:Marketing 16:GROUP:Sales"
	if strings.Join(got, " ") != want {
		t.Fatalf("workspaces = %v, want %s", got, want)
	}
	mkt := data.Workspaces[3]
	if deref(mkt.GroupID) != "4" || mkt.IsAdmin == nil || !*mkt.IsAdmin || mkt.DepartmentID != nil {
		t.Errorf("Marketing group fields wrong: %+v", mkt)
	}
	if sales := data.Workspaces[4]; deref(sales.DepartmentID) != "3" || deref(sales.GroupOwner) != "system admin" {
		t.Errorf("Sales department fields wrong: %+v", sales)
	}
	crm := data.Workspaces[2].Tables[0]
	if crm.Name != "CRM" || deref(crm.UpdatedAt) != "2026-02-20T15:45:30Z" || deref(crm.CreatedAt) != "2025-01-10T08:00:00Z" {
		t.Errorf("CRM timestamps not UTC seconds: %+v", crm)
	}
	if !crm.Starred || deref(crm.Color) != "#E91E63" || crm.InStorage == nil || !*crm.InStorage {
		t.Errorf("CRM fields wrong: %+v", crm)
	}
	if shared := data.Workspaces[1].Tables; len(shared) != 1 || shared[0].Name != "Budget 2026" {
		t.Errorf("shared workspace must list shared_table_list, got %+v", shared)
	}
	if tables := data.Workspaces[4].Tables; tables == nil || len(tables) != 0 {
		t.Errorf("empty table_list must be [], got %v", tables)
	}
}

func TestLookups(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	var data struct {
		Group, Missing, Pseudo *struct {
			ID, Name string
			Type     *string
		}
		Upper, Dashed, Unknown *struct {
			UUID, Name, WorkspaceID string
		}
	}
	e.mustData(t, "Token "+tokA, `{
		group: workspace(id: "2") { id name type }
		missing: workspace(id: "999") { id name type }
		pseudo: workspace(id: "starred") { id name type }
		upper: dtable(uuid: "B406B9BAB74E49C8AA4E5567076E5C25") { uuid name workspaceId }
		dashed: dtable(uuid: "3a4f848c-5fc9-4cc8-bbda-96d7d49a944a") { uuid name workspaceId }
		unknown: dtable(uuid: "00000000-0000-0000-0000-000000000000") { uuid name workspaceId }
	}`, &data)
	if data.Group == nil || data.Group.Name != "group one" || data.Group.Type != nil {
		t.Errorf("workspace(2) = %+v, want group one with null type (seed era)", data.Group)
	}
	if data.Missing != nil || data.Pseudo != nil {
		t.Errorf("invisible workspaces must be null, got %+v %+v", data.Missing, data.Pseudo)
	}
	if data.Upper == nil || data.Upper.UUID != "b406b9ba-b74e-49c8-aa4e-5567076e5c25" || data.Upper.Name != "hello" || data.Upper.WorkspaceID != "1" {
		t.Errorf("dtable(32 upper-case) = %+v", data.Upper)
	}
	if data.Dashed == nil || data.Dashed.Name != "testing" || data.Dashed.WorkspaceID != "2" {
		t.Errorf("dtable(36) = %+v", data.Dashed)
	}
	if data.Unknown != nil {
		t.Errorf("invisible base must be null, got %+v", data.Unknown)
	}
}

func TestDTableLookupPrefersHomeWorkspace(t *testing.T) {
	e := newTestEnv(t)
	// The starred copy comes first but lacks the colour its home entry has.
	e.fake.SetToken(tokA, []byte(`{"workspace_list":[
		{"id":"","name":"starred","type":"starred","table_list":[
			{"id":8,"workspace_id":3,"uuid":"11111111-2222-4333-8444-555555555555","name":"Plan","color":null,"starred":true},
			{"id":9,"workspace_id":40,"uuid":"99999999-2222-4333-8444-555555555555","name":"Elsewhere","starred":true}]},
		{"id":3,"name":"personal","type":"personal","table_list":[
			{"id":8,"workspace_id":3,"uuid":"11111111-2222-4333-8444-555555555555","name":"Plan","color":"#123456","starred":false}]}]}`))
	var data struct {
		Home, Away struct {
			Name      string
			Color     *string
			Starred   bool
			Workspace *struct{ ID, Name string }
		}
	}
	e.mustData(t, "Token "+tokA, `{
		home: dtable(uuid: "11111111-2222-4333-8444-555555555555") { name color starred workspace { id name } }
		away: dtable(uuid: "99999999222243338444555555555555") { name color starred workspace { id name } }
	}`, &data)
	if deref(data.Home.Color) != "#123456" || !data.Home.Starred || data.Home.Workspace == nil || data.Home.Workspace.Name != "personal" {
		t.Errorf("home = %+v, want the personal entry, starred via the starred list", data.Home)
	}
	if data.Away.Name != "Elsewhere" || !data.Away.Starred || data.Away.Workspace != nil {
		t.Errorf("away = %+v, want first appearance with null workspace", data.Away)
	}
}

func TestBackReferences(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
	var data struct {
		Workspaces []struct {
			ID     string
			Tables []struct {
				Name, WorkspaceID string
				Workspace         *struct{ ID, Name string }
			}
		}
	}
	e.mustData(t, "Token "+tokA, `{ workspaces { id tables { name workspaceId workspace { id: seatableId name } } } }`, &data)
	checked := 0
	for _, ws := range data.Workspaces {
		for _, d := range ws.Tables {
			switch d.WorkspaceID {
			case "17": // Budget 2026: shared from a workspace the token cannot see
				if d.Workspace != nil {
					t.Errorf("%s: workspace must be null, got %+v", d.Name, d.Workspace)
				}
			default:
				if d.Workspace == nil || d.Workspace.ID != d.WorkspaceID {
					t.Errorf("%s: workspace = %+v, want id %s", d.Name, d.Workspace, d.WorkspaceID)
				}
			}
			checked++
		}
	}
	if checked != 6 {
		t.Fatalf("checked %d bases, want 6", checked)
	}
}

// compositeQuery has 10 aliased workspace lookups, 10 aliased base lookups and
// a deep back-reference chain.
func compositeQuery() string {
	var b strings.Builder
	b.WriteString("{\n")
	ids := []string{"starred", "shared", "1", "2", "1", "2", "3", "404", "starred", "1"}
	for i, id := range ids {
		fmt.Fprintf(&b, "w%d: workspace(id: %q) { id name tables { name } }\n", i, id)
	}
	uuids := []string{"951b925d-0063-4fd2-96a8-7db3694a286f", "b406b9ba-b74e-49c8-aa4e-5567076e5c25",
		"3a4f848c-5fc9-4cc8-bbda-96d7d49a944a", "5b1e0c2d7f3a4e9b8c6d2a1f0e9d8c7b", "00000000-0000-0000-0000-000000000001"}
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "d%d: dtable(uuid: %q) { uuid name workspace { id tables { name } } }\n", i, uuids[i%len(uuids)])
	}
	b.WriteString("workspaces { tables { workspace { tables { workspace { id } } } } }\n}")
	return b.String()
}

func TestAtMostOneUpstreamCallPerRequest(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	var data map[string]json.RawMessage
	e.mustData(t, "Token "+tokA, compositeQuery(), &data)
	if got := e.fake.Calls(); got != 1 {
		t.Fatalf("composite query made %d upstream calls, want 1", got)
	}
	if len(data) != 21 {
		t.Fatalf("got %d top-level fields, want 21", len(data))
	}
	if string(data["w7"]) != "null" || string(data["d4"]) != "null" {
		t.Errorf("unknown lookups must be null: w7=%s d4=%s", data["w7"], data["d4"])
	}
	if !strings.Contains(string(data["d3"]), `"Team budget"`) {
		t.Errorf("32-char uuid lookup of a shared base failed: %s", data["d3"])
	}
	// Loaders are per request: a second request reads upstream again.
	e.mustData(t, "Token "+tokA, `{ workspaces { id } }`, &data)
	if got := e.fake.Calls(); got != 2 {
		t.Fatalf("after a second request: %d upstream calls, want 2", got)
	}
}

func TestTokenForwarding(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	for _, header := range []string{"Token " + tokA, "Bearer " + tokA, "bearer  " + tokA, "TOKEN " + tokA} {
		e.fake.ResetCounts()
		var data struct{ Workspaces []struct{ Name string } }
		e.mustData(t, header, `{ workspaces { name } }`, &data)
		reqs := e.fake.Requests()
		if len(reqs) != 1 {
			t.Fatalf("%q: %d upstream requests, want 1", header, len(reqs))
		}
		r := reqs[0]
		if r.Authorization != "Token "+tokA || r.Path != "/api/v2.1/workspaces/" || r.RawQuery != "detail=false" {
			t.Errorf("%q: upstream got %+v", header, r)
		}
		if len(data.Workspaces) != 2 || data.Workspaces[0].Name != "one" {
			t.Errorf("%q: data %+v", header, data)
		}
	}
}

func TestEachTokenSeesItsOwnData(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken("tok-seed", fakeseatable.Fixture(fakeseatable.Seed))
	e.fake.SetToken("tok-current", fakeseatable.Fixture(fakeseatable.Current))
	names := func(token string) string {
		var data struct{ Workspaces []struct{ Name string } }
		e.mustData(t, "Token "+token, `{ workspaces { name } }`, &data)
		var out []string
		for _, ws := range data.Workspaces {
			out = append(out, ws.Name)
		}
		return strings.Join(out, ",")
	}
	for i := 0; i < 3; i++ {
		if got := names("tok-seed"); got != "one,group one" {
			t.Fatalf("tok-seed saw %s", got)
		}
		if got := names("tok-current"); got != "starred,shared,personal,Marketing,Sales" {
			t.Fatalf("tok-current saw %s", got)
		}
	}
}

func TestMissingTokenIsUnauthenticatedWithoutUpstreamCall(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	for _, header := range []string{"", "Basic dXNlcjpwYXNz", "Token", "Token a b", "Token tökén"} {
		status, resp := e.post(t, header, `{ workspaces { id } }`, nil)
		if status != http.StatusOK || len(resp.Errors) != 1 || code(resp.Errors[0]) != "UNAUTHENTICATED" {
			t.Errorf("%q: status %d errors %+v, want one UNAUTHENTICATED", header, status, resp.Errors)
		}
		if string(resp.Data) != "null" {
			t.Errorf("%q: data = %s, want null", header, resp.Data)
		}
	}
	if n := e.fake.Calls(); n != 0 {
		t.Fatalf("upstream called %d times without a usable token", n)
	}
	// A query that needs no data works without a token.
	var data struct {
		Typename string `json:"__typename"`
	}
	e.mustData(t, "", `{ __typename }`, &data)
	if data.Typename != "Query" || e.fake.Calls() != 0 {
		t.Errorf("__typename = %q with %d calls", data.Typename, e.fake.Calls())
	}
}

func TestFallbackToken(t *testing.T) {
	e := newTestEnv(t, withEnv("SEATABLE_TOKEN", "fallback-tok"))
	e.fake.SetToken("fallback-tok", fakeseatable.Fixture(fakeseatable.Seed))
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
	var data struct{ Workspaces []struct{ Name string } }
	e.mustData(t, "", `{ workspaces { name } }`, &data)
	if got := e.fake.Requests()[0].Authorization; got != "Token fallback-tok" {
		t.Errorf("upstream got %q, want the fallback token", got)
	}
	// The client's own token wins over the fallback.
	e.mustData(t, "Token "+tokA, `{ workspaces { name } }`, &data)
	if got := e.fake.Requests()[1].Authorization; got != "Token "+tokA || len(data.Workspaces) != 5 {
		t.Errorf("upstream got %q, want the client's token", got)
	}
}

// Mutations with the server's fallback token need FALLBACK_TOKEN_WRITES:
// a shared read token must not let anonymous callers change bases.
func TestFallbackTokenWrites(t *testing.T) {
	star := `mutation { starDTable(input: {uuid: "` + travelUUID + `"}) { starred } }`
	for _, tc := range []struct {
		name, authorization, allow string
		wantCode                   string // "" = success
	}{
		{"anonymous, writes off", "", "", "UNAUTHENTICATED"},
		{"anonymous, writes on", "", "true", ""},
		{"own token, writes off", "Token " + tokA, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, withEnv("SEATABLE_TOKEN", "fallback-tok"), withEnv("FALLBACK_TOKEN_WRITES", tc.allow))
			e.fake.SetToken("fallback-tok", fakeseatable.Fixture(fakeseatable.Current))
			e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
			_, resp := e.post(t, tc.authorization, star, nil)
			writes := 0
			for _, r := range e.fake.Requests() {
				if r.Method != http.MethodGet {
					writes++
				}
			}
			switch {
			case tc.wantCode == "" && (len(resp.Errors) > 0 || writes != 1):
				t.Errorf("errors %+v, %d writes; want success with 1 write", resp.Errors, writes)
			case tc.wantCode != "" && (len(resp.Errors) != 1 || code(resp.Errors[0]) != tc.wantCode || writes != 0):
				t.Errorf("errors %+v, %d writes; want %s and no write", resp.Errors, writes, tc.wantCode)
			}
		})
	}
}

func TestUpstreamErrorsMapToCodes(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		wantCode   string
		wantStatus float64
		wantRetry  float64
	}{
		{"401", 401, nil, `{"detail":"Invalid token"}`, "UNAUTHENTICATED", 401, 0},
		{"403", 403, nil, `{"detail":"Authentication credentials were not provided."}`, "FORBIDDEN", 403, 0},
		{"404", 404, nil, `{"error_msg":"Not found."}`, "NOT_FOUND", 404, 0},
		{"429", 429, http.Header{"Retry-After": {"42"}}, `{"detail":"Request was throttled. Expected available in 42 seconds."}`, "RATE_LIMITED", 429, 42},
		{"500 html", 500, http.Header{"Content-Type": {"text/html"}}, `<html><body>Server Error (500)</body></html>`, "UPSTREAM_UNAVAILABLE", 500, 0},
		{"502 empty", 502, nil, ``, "UPSTREAM_UNAVAILABLE", 502, 0},
		{"malformed", 200, nil, `{"workspace_list": [`, "UPSTREAM_BAD_RESPONSE", 200, 0},
		{"wrong shape", 200, nil, `[{"id":1}]`, "UPSTREAM_BAD_RESPONSE", 200, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
			e.fake.FailWith(tc.status, tc.header, tc.body)
			status, resp := e.post(t, "Token "+tokA, `{ workspaces { id } w: workspace(id: "1") { id } d: dtable(uuid: "951b925d-0063-4fd2-96a8-7db3694a286f") { id } }`, nil)
			if status != http.StatusOK || len(resp.Errors) == 0 {
				t.Fatalf("status %d errors %+v", status, resp.Errors)
			}
			for _, ge := range resp.Errors {
				if code(ge) != tc.wantCode || ge.Extensions["upstreamStatus"] != tc.wantStatus {
					t.Errorf("error %+v, want code %s upstreamStatus %v", ge, tc.wantCode, tc.wantStatus)
				}
				if tc.wantRetry != 0 && ge.Extensions["retryAfter"] != tc.wantRetry {
					t.Errorf("retryAfter = %v, want %v", ge.Extensions["retryAfter"], tc.wantRetry)
				}
				for _, leak := range []string{tokA, "seatable/api", "<html>", "Invalid token", "throttled"} {
					if strings.Contains(ge.Message, leak) {
						t.Errorf("message %q leaks %q", ge.Message, leak)
					}
				}
			}
			wantCalls := int64(1)
			if tc.status == 502 { // transient: retried twice
				wantCalls = 3
			}
			if n := e.fake.Calls(); n != wantCalls {
				t.Errorf("%d upstream calls for a failing request, want %d", n, wantCalls)
			}
			if strings.Contains(e.logs.String(), tokA) {
				t.Errorf("logs contain the token")
			}
		})
	}
}

func TestBadArgumentsAndDocuments(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	cases := []struct {
		query, wantCode string
		requestError    bool // never executed: no data entry, 400 with graphql-response+json
	}{
		{`{ dtable(uuid: "not-a-uuid") { id } }`, "BAD_USER_INPUT", false},
		{`{ workspaces { id `, "GRAPHQL_PARSE_FAILED", true},
		{`{ workspaces { nope } }`, "GRAPHQL_VALIDATION_FAILED", true},
		{`query($id: ID!) { workspace(id: $id) { id } }`, "GRAPHQL_VALIDATION_FAILED", true},
	}
	for _, tc := range cases {
		for _, accept := range []string{"application/json", "application/graphql-response+json"} {
			body, _ := json.Marshal(map[string]any{"query": tc.query})
			req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", accept)
			req.Header.Set("Authorization", "Token "+tokA)
			status, resp := e.do(t, req)
			// The GraphQL-over-HTTP spec: a well-formed request gets 200 as
			// application/json; request errors get 400 as graphql-response+json.
			wantHTTP := 200
			if tc.requestError && accept != "application/json" {
				wantHTTP = 400
			}
			if status != wantHTTP || len(resp.Errors) == 0 || code(resp.Errors[0]) != tc.wantCode {
				t.Errorf("%s (%s): status %d errors %+v, want %d %s", tc.query, accept, status, resp.Errors, wantHTTP, tc.wantCode)
			}
			if hasData := resp.Data != nil; hasData == tc.requestError {
				t.Errorf("%s (%s): data entry present=%v, want %v", tc.query, accept, hasData, !tc.requestError)
			}
		}
	}
}

func TestGETQueryAndRoutes(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	req, _ := http.NewRequest(http.MethodGet, e.url+"/graphql?query="+url.QueryEscape(`{ workspace(id: "1") { name } }`), nil)
	req.Header.Set("Authorization", "Token "+tokA)
	status, resp := e.do(t, req)
	if status != 200 || string(resp.Data) != `{"workspace":{"name":"one"}}` {
		t.Errorf("GET query: %d %s %+v", status, resp.Data, resp.Errors)
	}
	e.fake.ResetCounts()
	for path, want := range map[string]string{"/healthz": "ok", "/": "GraphiQL"} {
		resp, err := http.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body lacks %q", path, resp.StatusCode, want)
		}
	}
	if resp, err := http.Get(e.url + "/nope"); err != nil || resp.StatusCode != 404 {
		t.Errorf("GET /nope: %v %v, want 404", resp.StatusCode, err)
	}
	if n := e.fake.Calls(); n != 0 {
		t.Errorf("health and playground made %d upstream calls", n)
	}
}

func TestRunServesAndShutsDownCleanly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	up := httptest.NewServer(fakeseatable.New())
	defer up.Close()
	cfg, err := LoadConfig(func(k string) string { return map[string]string{"PORT": "0", "SEATABLE_URL": up.URL}[k] })
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.DiscardHandler)) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		wantErr bool
	}{
		{map[string]string{}, false},
		{map[string]string{"PORT": "9090", "UPSTREAM_TIMEOUT": "2s"}, false},
		{map[string]string{"PORT": "http"}, true},
		{map[string]string{"PORT": "70000"}, true},
		{map[string]string{"UPSTREAM_TIMEOUT": "10"}, true},
		{map[string]string{"UPSTREAM_TIMEOUT": "-1s"}, true},
		{map[string]string{"UPSTREAM_RETRIES": "3"}, true},
		{map[string]string{"UPSTREAM_MAX_BYTES": "12"}, true},
		{map[string]string{"MAX_BODY_BYTES": "1 MB"}, true},
		{map[string]string{"MAX_DEPTH": "-1"}, true},
		{map[string]string{"COMPLEXITY_LIST_SIZE": "0"}, true},
		{map[string]string{"INTROSPECTION": "maybe"}, true},
		{map[string]string{"MAX_HEADER_BYTES": "100"}, true},
		{map[string]string{"REQUEST_TIMEOUT": "1m", "WRITE_TIMEOUT": "30s"}, true},
		{map[string]string{"REQUEST_TIMEOUT": "1m"}, false},
	} {
		c, err := LoadConfig(func(k string) string { return tc.env[k] })
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: err = %v, wantErr %v", tc.env, err, tc.wantErr)
		}
		if err == nil && tc.env["PORT"] == "9090" && (c.Port != 9090 || c.UpstreamTimeout.String() != "2s") {
			t.Errorf("%v: parsed %+v", tc.env, c)
		}
		if err == nil && len(tc.env) == 0 && (c.Port != 8080 || c.UpstreamTimeout != upstream.DefaultTimeout || c.MaxBodyBytes != 1<<20 ||
			c.UpstreamMaxBytes != 64<<20 || c.MaxDepth != 12 || !c.Introspection || c.WriteTimeout != 40*time.Second) {
			t.Errorf("defaults: %+v", c)
		}
		if err == nil && tc.env["REQUEST_TIMEOUT"] == "1m" && c.WriteTimeout != 70*time.Second {
			t.Errorf("WRITE_TIMEOUT follows REQUEST_TIMEOUT: %v", c.WriteTimeout)
		}
	}
	c, err := LoadConfig(func(k string) string {
		return map[string]string{"UPSTREAM_MAX_BYTES": "8MiB", "MAX_BODY_BYTES": "65536", "MAX_HEADER_BYTES": "16KiB",
			"INTROSPECTION": "false", "MAX_TOKENS": "0", "READ_HEADER_TIMEOUT": "3s", "IDLE_TIMEOUT": "1m"}[k]
	})
	if err != nil || c.UpstreamMaxBytes != 8<<20 || c.MaxBodyBytes != 65536 || c.MaxHeaderBytes != 16<<10 || c.Introspection || c.MaxTokens != 0 {
		t.Fatalf("sizes and switches: %v %+v", err, c)
	}
	srv := newHTTPServer(c, http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if srv.ReadHeaderTimeout != 3*time.Second || srv.IdleTimeout != time.Minute || srv.ReadTimeout != 30*time.Second ||
		srv.WriteTimeout != 40*time.Second || srv.MaxHeaderBytes != 16<<10 {
		t.Fatalf("server not configured from config: %+v", srv)
	}
}

// Every bad setting is reported at once, one line each, naming its
// variable; main prints each line after "seatable-graphql: configuration:".
func TestLoadConfigReportsEveryError(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want []string // prefixes of the error's lines, in order
	}{
		{map[string]string{"SEATABLE_URL": "cloud.seatable.io"}, []string{`SEATABLE_URL="cloud.seatable.io": want http(s)://host`}},
		{map[string]string{"SEATABLE_URL": "localhost:8000"}, []string{`SEATABLE_URL="localhost:8000": want http(s)://host`}},
		{map[string]string{"SEATABLE_URL": "ftp://cloud.seatable.io"}, []string{`SEATABLE_URL="ftp://cloud.seatable.io": want`}},
		{map[string]string{"SEATABLE_URL": "https://"}, []string{`SEATABLE_URL="https://": want`}},
		{map[string]string{"SEATABLE_URL": "https://me:s3cret@cloud.seatable.io"}, []string{"SEATABLE_URL: must not carry credentials"}},
		{map[string]string{"LISTEN_ADDR": "8080"}, []string{`LISTEN_ADDR="8080": want host:port`}},
		{map[string]string{"LISTEN_ADDR": "127.0.0.1:http"}, []string{`LISTEN_ADDR="127.0.0.1:http": want host:port`}},
		{map[string]string{"LISTEN_ADDR": "localhost:99999"}, []string{`LISTEN_ADDR="localhost:99999": want host:port`}},
		{map[string]string{
			"SEATABLE_URL": "cloud.seatable.io", "PORT": "x", "UPSTREAM_TIMEOUT": "10", "LOG_LEVEL": "loud",
			"MAX_DEPTH": "-1", "INTROSPECTION": "maybe", "CACHE_TTL": "-1s", "REDIS_URL": "localhost:6379",
		}, []string{"SEATABLE_URL=", "PORT=", "UPSTREAM_TIMEOUT=", "LOG_LEVEL=", "MAX_DEPTH=", "INTROSPECTION=", "CACHE_TTL=", "REDIS_URL:"}},
	} {
		_, err := LoadConfig(func(k string) string { return tc.env[k] })
		if err == nil {
			t.Errorf("%v: no error", tc.env)
			continue
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != len(tc.want) {
			t.Errorf("%v: %d error lines, want %d:\n%v", tc.env, len(lines), len(tc.want), err)
			continue
		}
		for i, l := range lines {
			if !strings.HasPrefix(l, tc.want[i]) {
				t.Errorf("%v: line %d is %q, want it to start with %q", tc.env, i, l, tc.want[i])
			}
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error repeats a password: %v", err)
		}
	}
}

func TestLoadConfigListenAddr(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, ":8080"}, // every interface, as before LISTEN_ADDR existed
		{map[string]string{"PORT": "9090"}, ":9090"},
		{map[string]string{"LISTEN_ADDR": "127.0.0.1:9000"}, "127.0.0.1:9000"},
		{map[string]string{"LISTEN_ADDR": "[::1]:0", "PORT": "9090"}, "[::1]:0"}, // overrides PORT
		{map[string]string{"LISTEN_ADDR": ":7000"}, ":7000"},
		{map[string]string{"SEATABLE_URL": "http://seatable.internal:8000/seatable/"}, ":8080"},
	} {
		c, err := LoadConfig(func(k string) string { return tc.env[k] })
		if err != nil || c.ListenAddr != tc.want {
			t.Errorf("%v: ListenAddr %q, err %v; want %q", tc.env, c.ListenAddr, err, tc.want)
		}
	}
}

// TestSlowAndOversizedHeaders: a client that trickles its headers is cut off
// after READ_HEADER_TIMEOUT, and an oversized header block gets 431.
func TestSlowAndOversizedHeaders(t *testing.T) {
	e := newTestEnv(t, withEnv("READ_HEADER_TIMEOUT", "300ms", "MAX_HEADER_BYTES", "8KiB"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(e.cfg, e.handler, slog.New(slog.DiscardHandler))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte("POST /graphql HTTP/1.1\r\nHost: x\r\nX-Slow: "))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(conn)
	if elapsed := time.Since(start); err != nil || elapsed > 3*time.Second {
		t.Fatalf("slow headers: connection open for %v (err %v), want closed after ~300ms", elapsed, err)
	}

	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Big", strings.Repeat("x", 16<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized headers: %d, want 431", resp.StatusCode)
	}
}

func code(e gqlError) string { s, _ := e.Extensions["code"].(string); return s }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

package upstream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/requestlog"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// Account tokens of the base tests: A and B both see the demo's bases, C
// has the current fixture and sees none of them.
const (
	tokA = "tok-A-SECRET-1111111111"
	tokB = "tok-B-SECRET-2222222222"
	tokC = "tok-C-SECRET-3333333333"
)

var (
	// hello is in the demo's personal workspace (and starred).
	hello = upstream.BaseRef{UUID: "b406b9ba-b74e-49c8-aa4e-5567076e5c25", WorkspaceID: "1", Name: "hello"}
	// teamBudget is shared with the demo user; its own workspace (3) is not
	// in the demo's list.
	teamBudget = upstream.BaseRef{UUID: "5b1e0c2d-7f3a-4e9b-8c6d-2a1f0e9d8c7b", WorkspaceID: "3", Name: "Team budget"}
	testing1   = upstream.BaseRef{UUID: "3a4f848c-5fc9-4cc8-bbda-96d7d49a944a", WorkspaceID: "2", Name: "testing"}
)

// testClock is the one clock of the fake and the token cache.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type baseHarness struct {
	*harness
	bases *upstream.BaseClient
	clock *testClock

	mu     sync.Mutex
	labels []string // client.Endpoint of every call, in order
}

// newBaseHarness serves the fake (tokens A, B on the demo dataset, C on
// the current one) under basePath, with a client whose transport counts
// per request (requestlog) and records the metric label of every call.
func newBaseHarness(t *testing.T, opts ...upstream.BaseOption) *baseHarness {
	t.Helper()
	bh := &baseHarness{clock: &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	var client *upstream.Client
	label := roundTripper(func(r *http.Request) (*http.Response, error) {
		bh.mu.Lock()
		bh.labels = append(bh.labels, client.Endpoint(r))
		bh.mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})
	bh.harness = newHarness(t, upstream.WithHTTPClient(&http.Client{Transport: requestlog.Transport(label)}))
	client = bh.client
	bh.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	bh.fake.SetToken(tokB, fakeseatable.Fixture(fakeseatable.Demo))
	bh.fake.SetToken(tokC, fakeseatable.Fixture(fakeseatable.Current))
	bh.fake.SetClock(bh.clock.now)
	bh.bases = upstream.NewBaseClient(bh.client, append([]upstream.BaseOption{upstream.WithBaseClock(bh.clock.now)}, opts...)...)
	return bh
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// counts is what the fake saw: exchanges, metadata, rows and row calls.
type counts struct{ exchange, metadata, rows, row int64 }

func (bh *baseHarness) counts() counts {
	f := bh.fake
	return counts{f.BaseCalls(fakeseatable.KindExchange), f.BaseCalls(fakeseatable.KindMetadata),
		f.BaseCalls(fakeseatable.KindRows), f.BaseCalls(fakeseatable.KindRow)}
}

func (bh *baseHarness) wantCounts(t *testing.T, when string, want counts) {
	t.Helper()
	if got := bh.counts(); got != want {
		t.Fatalf("%s: SeaTable calls %+v, want %+v", when, got, want)
	}
}

// inRequest runs fn as if serving one HTTP request, with the request's
// log record (and its upstream-call counter) on the context, and returns
// how many upstream calls the request made.
func inRequest(t *testing.T, log *slog.Logger, fn func(ctx context.Context)) int64 {
	t.Helper()
	var calls int64
	h := requestlog.Middleware(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn(r.Context())
		calls = requestlog.FromContext(r.Context()).UpstreamCalls()
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/graphql", nil))
	return calls
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)) }

func mustMetadata(t *testing.T, ctx context.Context, b upstream.BaseReader, token string, base upstream.BaseRef) *upstream.BaseMetadata {
	t.Helper()
	md, err := b.BaseMetadata(ctx, token, base)
	if err != nil {
		t.Fatalf("BaseMetadata(%s): %v", base.Name, err)
	}
	return md
}

// The first read of a base exchanges once and reads once; the second only
// reads. Counted at the fake and by the request's own counter.
func TestBaseColdWarmCounts(t *testing.T) {
	bh := newBaseHarness(t)
	var md *upstream.BaseMetadata
	cold := inRequest(t, quietLog(), func(ctx context.Context) { md = mustMetadata(t, ctx, bh.bases, tokA, hello) })
	bh.wantCounts(t, "cold", counts{exchange: 1, metadata: 1})
	if cold != 2 {
		t.Fatalf("cold request counted %d upstream calls, want 2", cold)
	}
	warm := inRequest(t, quietLog(), func(ctx context.Context) { mustMetadata(t, ctx, bh.bases, tokA, hello) })
	bh.wantCounts(t, "warm", counts{exchange: 1, metadata: 2})
	if warm != 1 {
		t.Fatalf("warm request counted %d upstream calls, want 1", warm)
	}
	// Rows and one row reuse the token too.
	ctx := context.Background()
	rows, err := bh.bases.Rows(ctx, tokA, hello, upstream.RowsQuery{Table: "Projects", Limit: 5})
	if err != nil || len(rows) != 5 {
		t.Fatalf("Rows: %d rows, %v", len(rows), err)
	}
	if _, err := bh.bases.Row(ctx, tokA, hello, "Projects", rows[0].ID); err != nil {
		t.Fatalf("Row: %v", err)
	}
	bh.wantCounts(t, "rows and row", counts{exchange: 1, metadata: 2, rows: 1, row: 1})

	if len(md.Tables) != 3 || md.Tables[0].Name != "Projects" || md.Tables[0].ID != "0000" || md.Version == 0 {
		t.Fatalf("metadata: %+v", md)
	}

	// What went over the wire: the exchange below the base path with the
	// account token, base calls with a base token minted for that account.
	reqs := bh.fake.Requests()
	if reqs[0].Path != "/api/v2.1/workspace/1/dtable/hello/access-token/" || reqs[0].Authorization != "Token "+tokA {
		t.Fatalf("exchange request: %s %q", reqs[0].Path, reqs[0].Authorization)
	}
	paths, _ := bh.seen()
	if paths[0] != basePath+"/api/v2.1/workspace/1/dtable/hello/access-token/" ||
		paths[1] != basePath+"/api-gateway/api/v2/dtables/"+hello.UUID+"/metadata/" {
		t.Fatalf("raw paths: %q", paths[:2])
	}
	for _, r := range reqs[1:] {
		owner, ok := bh.fake.BaseTokenOwner(strings.TrimPrefix(r.Authorization, "Token "))
		if !ok || owner != tokA {
			t.Fatalf("%s sent a base token of %q (known %v)", r.Path, owner, ok)
		}
	}
	if q := reqs[3].RawQuery; q != "convert_keys=true&limit=5&start=0&table_name=Projects" {
		t.Fatalf("rows query %q", q)
	}
	// Metric labels and span names are route templates: no uuid, no name.
	bh.mu.Lock()
	labels := bh.labels
	bh.mu.Unlock()
	want := []string{
		"GET /api/v2.1/workspace/{id}/dtable/{name}/access-token/",
		"GET /api-gateway/api/v2/dtables/{id}/metadata/",
		"GET /api-gateway/api/v2/dtables/{id}/metadata/",
		"GET /api-gateway/api/v2/dtables/{id}/rows/",
		"GET /api-gateway/api/v2/dtables/{id}/rows/{id}/",
	}
	if fmt.Sprint(labels) != fmt.Sprint(want) {
		t.Fatalf("labels\n got %q\nwant %q", labels, want)
	}
}

// N concurrent reads of one base by one caller exchange once.
func TestBaseExchangeCoalesced(t *testing.T) {
	bh := newBaseHarness(t)
	bh.fake.SetLatency(20 * time.Millisecond) // the reads overlap the exchange
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, err := bh.bases.BaseMetadata(context.Background(), tokA, hello); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	bh.wantCounts(t, "16 concurrent reads", counts{exchange: 1, metadata: n})
	if bh.fake.BaseTokens() != 1 {
		t.Fatalf("fake minted %d base tokens, want 1", bh.fake.BaseTokens())
	}
}

// Two callers who may both open a base each exchange and each use their
// own base token, never the other's.
func TestBaseTokensPerCaller(t *testing.T) {
	bh := newBaseHarness(t)
	ctx := context.Background()
	for range 2 {
		mustMetadata(t, ctx, bh.bases, tokA, hello)
		mustMetadata(t, ctx, bh.bases, tokB, hello)
	}
	bh.wantCounts(t, "two callers, twice", counts{exchange: 2, metadata: 4})
	var exchangedBy []string
	for _, r := range bh.fake.Requests() {
		tok := strings.TrimPrefix(r.Authorization, "Token ")
		if strings.HasSuffix(r.Path, "/access-token/") {
			exchangedBy = append(exchangedBy, tok)
			continue
		}
		owner, _ := bh.fake.BaseTokenOwner(tok)
		if want := exchangedBy[len(exchangedBy)-1]; len(exchangedBy) < 2 && owner != want {
			t.Fatalf("metadata read with a base token of %q, want %q", owner, want)
		}
		if owner != tokA && owner != tokB {
			t.Fatalf("metadata read with an unknown base token")
		}
	}
	// The order of reads was A, B, A, B: check each read's owner.
	var owners []string
	for _, r := range bh.fake.Requests() {
		if strings.HasSuffix(r.Path, "/metadata/") {
			o, _ := bh.fake.BaseTokenOwner(strings.TrimPrefix(r.Authorization, "Token "))
			owners = append(owners, o)
		}
	}
	if fmt.Sprint(owners) != fmt.Sprint([]string{tokA, tokB, tokA, tokB}) {
		t.Fatal("base tokens were not used by the caller they were minted for")
	}
	if fmt.Sprint(exchangedBy) != fmt.Sprint([]string{tokA, tokB}) {
		t.Fatal("exchanges were not made with each caller's own account token")
	}
}

// A base token the base server calls expired is renewed once and the call
// repeated once; a server that refuses fresh tokens too is an error, not a
// loop.
func TestBaseTokenExpiredRenewedOnce(t *testing.T) {
	bh := newBaseHarness(t)
	ctx := context.Background()
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.fake.ExpireBaseTokens()
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.wantCounts(t, "after expiry", counts{exchange: 2, metadata: 3})
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.wantCounts(t, "renewed token reused", counts{exchange: 2, metadata: 4})

	for _, tc := range []struct {
		status int
		body   string
	}{
		{http.StatusForbidden, `{"error_msg":"Token expired."}`},
		{http.StatusUnauthorized, `{"error_msg":"Token is invalid."}`},
	} {
		bh.fake.SetHook(nil)
		mustMetadata(t, ctx, bh.bases, tokA, hello) // a cached token
		bh.fake.ResetBaseCalls()
		bh.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.Contains(r.URL.Path, "/api-gateway/") {
				return false
			}
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
			return true
		})
		_, err := bh.bases.BaseMetadata(ctx, tokA, hello)
		if apperr.CodeOf(err) != apperr.UpstreamBadResponse {
			t.Fatalf("%d twice: %v, want UPSTREAM_BAD_RESPONSE", tc.status, err)
		}
		bh.wantCounts(t, fmt.Sprintf("%d on every base call", tc.status), counts{exchange: 1, metadata: 2})
	}
	// Other 403s are permission errors: no renewal.
	bh.fake.SetHook(nil)
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.fake.ResetBaseCalls()
	bh.fake.FailWith(http.StatusForbidden, nil, `{"error_msg":"Permission denied."}`)
	if _, err := bh.bases.BaseMetadata(ctx, tokA, hello); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("403 permission: %v", err)
	}
	bh.wantCounts(t, "403 permission denied", counts{exchange: 0, metadata: 1})
}

// The cache retires a token before its exp (read from the JWT), and a
// token without a readable exp after the assumed lifetime.
func TestBaseTokenLifetime(t *testing.T) {
	bh := newBaseHarness(t)
	ctx := context.Background()
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.clock.advance(fakeseatable.DefaultBaseTokenLifetime - 2*time.Hour)
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.wantCounts(t, "70 h later", counts{exchange: 1, metadata: 2})
	bh.clock.advance(90 * time.Minute) // 30 min before exp: within the margin
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.wantCounts(t, "just before exp", counts{exchange: 2, metadata: 3})

	// A token minted for 30 days is kept 3 days at most.
	bh = newBaseHarness(t)
	bh.fake.SetBaseTokenLifetime(30 * 24 * time.Hour)
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.clock.advance(70 * time.Hour)
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.clock.advance(2 * time.Hour)
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.wantCounts(t, "30-day token, 72 h later", counts{exchange: 2, metadata: 3})

	bh = newBaseHarness(t)
	bh.fake.SetBaseTokenExpiry(false)
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.clock.advance(upstream.DefaultBaseTokenLifetime - 3*time.Hour)
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.wantCounts(t, "no exp, 21 h later", counts{exchange: 1, metadata: 2})
	bh.clock.advance(3 * time.Hour)
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	bh.wantCounts(t, "no exp, 24 h later", counts{exchange: 2, metadata: 3})
}

// A dtable_server on another host is refused with no call to it; naming
// the host allows it.
func TestBaseForeignHostRefused(t *testing.T) {
	var foreignCalls atomic.Int64
	bh := newBaseHarness(t)
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignCalls.Add(1)
		bh.fake.ServeHTTP(w, r)
	}))
	defer foreign.Close()
	// Same machine, other port: another origin.
	bh.fake.SetBaseServer(hello.UUID, foreign.URL+"/api-gateway/")
	ctx := context.Background()
	_, err := bh.bases.BaseMetadata(ctx, tokA, hello)
	if !errors.Is(err, upstream.ErrForeignBaseHost) || apperr.CodeOf(err) != apperr.UpstreamBadResponse {
		t.Fatalf("foreign host: %v", err)
	}
	if strings.Contains(err.Error(), strings.TrimPrefix(foreign.URL, "http://")) {
		t.Fatalf("error names the foreign host: %v", err)
	}
	if foreignCalls.Load() != 0 {
		t.Fatalf("%d calls to the foreign host", foreignCalls.Load())
	}
	bh.wantCounts(t, "foreign host", counts{exchange: 1})
	// Other bases are unaffected.
	mustMetadata(t, ctx, bh.bases, tokA, testing1)
	// A refused answer is not cached: the next read exchanges again.
	_, _ = bh.bases.BaseMetadata(ctx, tokA, hello)
	bh.wantCounts(t, "foreign host, again", counts{exchange: 3, metadata: 1})
	if foreignCalls.Load() != 0 {
		t.Fatalf("%d calls to the foreign host", foreignCalls.Load())
	}

	// Named explicitly, the host is fine.
	allowed := upstream.NewBaseClient(bh.client, upstream.WithAllowedBaseHosts([]string{foreign.URL}))
	mustMetadata(t, ctx, allowed, tokA, hello)
	if foreignCalls.Load() != 1 {
		t.Fatalf("%d calls to the allowed host, want 1", foreignCalls.Load())
	}
	// A different scheme on the configured host is another origin too.
	bh.fake.SetBaseServer(hello.UUID, strings.Replace(bh.baseURL, "http://", "https://", 1)+"/api-gateway/")
	if _, err := bh.bases.BaseMetadata(ctx, tokA, hello); !errors.Is(err, upstream.ErrForeignBaseHost) {
		t.Fatalf("https on the http host: %v", err)
	}
}

func TestCheckBaseHosts(t *testing.T) {
	for _, tc := range []struct {
		hosts []string
		ok    bool
	}{
		{nil, true},
		{[]string{"gw.example.com", "https://gw.example.com:8443", "http://10.0.0.5:8080", "https://gw.example.com/"}, true},
		{[]string{""}, false},
		{[]string{"https://gw.example.com/api-gateway/"}, false},
		{[]string{"https://user:pw@gw.example.com"}, false},
		{[]string{"ftp://gw.example.com"}, false},
		{[]string{"https://gw.example.com?x=1"}, false},
	} {
		err := upstream.CheckBaseHosts(tc.hosts)
		if (err == nil) != tc.ok {
			t.Errorf("CheckBaseHosts(%q) = %v, want ok %v", tc.hosts, err, tc.ok)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("error repeats the entry: %v", err)
		}
	}
}

// Rows: pages, views with a filter and a sort, one row, cells verbatim.
func TestBaseRows(t *testing.T) {
	bh := newBaseHarness(t)
	ctx := context.Background()
	md := mustMetadata(t, ctx, bh.bases, tokA, hello)
	projects := md.Tables[0]
	types := map[string]string{}
	for _, c := range projects.Columns {
		types[c.Name] = c.Type
	}
	for name, typ := range map[string]string{"Tasks": "link", "Due": "date", "Tags": "multiple-select",
		"Owner": "collaborator", "Budget": "number", "Done": "checkbox", "Gauge": "x-custom-gauge"} {
		if types[name] != typ {
			t.Errorf("column %s has type %q, want %q", name, types[name], typ)
		}
	}
	if projects.Columns[0].Data != nil || !bytes.Contains(projects.Columns[7].Data, []byte(`"other_table_id":"tK5a"`)) {
		t.Errorf("column data: %s / %s", projects.Columns[0].Data, projects.Columns[7].Data)
	}
	if len(projects.Views) != 3 || projects.Views[1].Name != "In progress" || projects.Views[1].Type != "table" {
		t.Errorf("views: %+v", projects.Views)
	}

	// Paging through all 36 rows, 10 at a time.
	var all []upstream.Row
	for start := 0; ; start += 10 {
		page, err := bh.bases.Rows(ctx, tokA, hello, upstream.RowsQuery{Table: "Projects", Start: start, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 10 {
			break
		}
	}
	if len(all) != 36 {
		t.Fatalf("paged %d rows, want 36", len(all))
	}
	bh.wantCounts(t, "paging", counts{exchange: 1, metadata: 1, rows: 4})
	seen := map[string]bool{}
	verbatim := false
	for _, r := range all {
		if r.ID == "" || seen[r.ID] || r.Created == nil || r.Modified == nil {
			t.Fatalf("row %+v", r)
		}
		seen[r.ID] = true
		if bytes.Contains(r.Values, []byte(`"_`)) {
			t.Fatalf("system member in values: %s", r.Values)
		}
		if !bytes.HasPrefix(r.Values, []byte(`{"Name":"Project `)) {
			t.Fatalf("values not in column order: %s", r.Values)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r.Values, &m); err != nil {
			t.Fatalf("values are not an object: %v", err)
		}
		verbatim = verbatim || bytes.Contains(r.Values, []byte(`"Budget":12345678901234567890`))
	}
	if !verbatim {
		t.Fatal("no row kept the integer past 2^53 verbatim")
	}
	if all[0].Created.Nanosecond() == 0 || all[0].Created.Location() != time.UTC {
		t.Fatalf("_ctime lost its milliseconds or zone: %v", all[0].Created)
	}

	// A view with a filter on a select column and a sort by date.
	inProgress, err := bh.bases.Rows(ctx, tokA, hello, upstream.RowsQuery{Table: "Projects", View: "In progress", Limit: 1000})
	if err != nil || len(inProgress) == 0 || len(inProgress) >= 36 {
		t.Fatalf("view rows: %d, %v", len(inProgress), err)
	}
	prev := ""
	for _, r := range inProgress {
		var cells struct{ Status, Due string }
		_ = json.Unmarshal(r.Values, &cells)
		if cells.Status != "In progress" {
			t.Fatalf("view row with status %q", cells.Status)
		}
		if cells.Due != "" && cells.Due < prev {
			t.Fatalf("view rows not sorted by Due: %q after %q", cells.Due, prev)
		}
		if cells.Due != "" {
			prev = cells.Due
		}
	}
	if q := bh.fake.Requests()[len(bh.fake.Requests())-1].RawQuery; !strings.Contains(q, "view_name=In+progress") {
		t.Fatalf("view query %q", q)
	}

	// One row; an unknown one is NOT_FOUND.
	row, err := bh.bases.Row(ctx, tokA, hello, "Projects", all[3].ID)
	if err != nil || row.ID != all[3].ID || !bytes.Equal(row.Values, all[3].Values) {
		t.Fatalf("Row: %+v, %v", row, err)
	}
	if _, err := bh.bases.Row(ctx, tokA, hello, "Projects", "NoSuchRowAAAAAAAAAAAAA"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown row: %v", err)
	}
	if _, err := bh.bases.Rows(ctx, tokA, hello, upstream.RowsQuery{Table: "Nope", Limit: 1}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown table: %v", err)
	}
	for _, q := range []upstream.RowsQuery{{Table: "Projects", Limit: 0}, {Table: "Projects", Limit: 1001}, {Table: "Projects", Start: -1, Limit: 1}, {Limit: 1}} {
		before := bh.counts()
		if _, err := bh.bases.Rows(ctx, tokA, hello, q); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatalf("Rows(%+v): %v, want BAD_USER_INPUT", q, err)
		}
		if bh.counts() != before {
			t.Fatalf("Rows(%+v) called SeaTable", q)
		}
	}
}

// Errors per base carry the usual codes.
func TestBaseErrors(t *testing.T) {
	bh := newBaseHarness(t)
	ctx := context.Background()
	cases := []struct {
		name  string
		token string
		base  upstream.BaseRef
		code  apperr.Code
	}{
		{"unknown base", tokA, upstream.BaseRef{UUID: "11111111-2222-4333-8444-555555555555", WorkspaceID: "1", Name: "nope"}, apperr.NotFound},
		{"not in the caller's list", tokC, hello, apperr.Forbidden},
		{"bad account token", "tok-unknown-0000000", hello, apperr.Unauthenticated},
		{"no token", "", hello, apperr.Unauthenticated},
		{"pseudo workspace id", tokA, upstream.BaseRef{UUID: hello.UUID, WorkspaceID: "starred", Name: "hello"}, apperr.BadUserInput},
		{"bad uuid", tokA, upstream.BaseRef{UUID: "x", WorkspaceID: "1", Name: "hello"}, apperr.BadUserInput},
		{"uuid of another base", tokA, upstream.BaseRef{UUID: testing1.UUID, WorkspaceID: "1", Name: "hello"}, apperr.UpstreamBadResponse},
	}
	for _, tc := range cases {
		_, err := bh.bases.BaseMetadata(ctx, tc.token, tc.base)
		if apperr.CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	// A base shared with the caller is exchanged in its own workspace.
	mustMetadata(t, ctx, bh.bases, tokA, teamBudget)
	if r := bh.fake.Requests(); r[len(r)-2].Path != "/api/v2.1/workspace/3/dtable/Team%20budget/access-token/" &&
		r[len(r)-2].Path != "/api/v2.1/workspace/3/dtable/Team budget/access-token/" {
		t.Fatalf("shared base exchanged at %q", r[len(r)-2].Path)
	}

	// The gateway's rate limit: 429 with X-RateLimit-Reset, no Retry-After.
	bh.fake.RateLimitBase(hello.UUID, true)
	_, err := bh.bases.BaseMetadata(ctx, tokA, hello)
	ae, _ := apperr.As(err)
	if apperr.CodeOf(err) != apperr.RateLimited || ae.RetryAfter < 41*time.Second || ae.RetryAfter > 42*time.Second {
		t.Fatalf("rate limited: %v (retry after %v)", err, ae)
	}
	mustMetadata(t, ctx, bh.bases, tokA, testing1) // another base is fine
}

// Older servers: dtable_server ends in /dtable-server/, resources under api/v1.
func TestBaseLegacyServer(t *testing.T) {
	bh := newBaseHarness(t)
	bh.fake.SetLegacyBaseServer(true)
	ctx := context.Background()
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	if _, err := bh.bases.Rows(ctx, tokA, hello, upstream.RowsQuery{Table: "Tasks", View: "Open tasks", Limit: 3}); err != nil {
		t.Fatal(err)
	}
	paths, _ := bh.seen()
	if paths[1] != basePath+"/dtable-server/api/v1/dtables/"+hello.UUID+"/metadata/" {
		t.Fatalf("legacy path %q", paths[1])
	}
}

// No base token reaches an error string or a log line, whatever the base
// server echoes.
func TestBaseTokenNeverLeaks(t *testing.T) {
	bh := newBaseHarness(t)
	var logs bytes.Buffer
	log := slog.New(requestlog.Handler(slog.NewJSONHandler(&logs, nil)))
	ctx := context.Background()
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	echo := func(status int, format string) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.Contains(r.URL.Path, "/api-gateway/") {
				return false
			}
			tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Token ")
			w.WriteHeader(status)
			fmt.Fprintf(w, format, tok, tok)
			return true
		}
	}
	var errs []error
	for _, h := range []func(http.ResponseWriter, *http.Request) bool{
		echo(http.StatusBadRequest, `{"error_msg":"bad token %s", "detail":"%s"}`),
		echo(http.StatusForbidden, `{"error_msg":"Token expired. %s %s"}`),
		echo(http.StatusUnauthorized, `{"detail":"Invalid token %s %s"}`),
		echo(http.StatusInternalServerError, `<html>%s %s</html>`),
		echo(http.StatusOK, `{"metadata": 1, "x": "%s %s"`),
		echo(http.StatusOK, `{"rows": [{"_id": "%s", "x": %s}]}`),
	} {
		bh.fake.SetHook(h)
		calls := inRequest(t, log, func(ctx context.Context) {
			for _, call := range []func() error{
				func() error { _, err := bh.bases.BaseMetadata(ctx, tokA, hello); return err },
				func() error {
					_, err := bh.bases.Rows(ctx, tokA, hello, upstream.RowsQuery{Table: "Projects", Limit: 2})
					return err
				},
				func() error { _, err := bh.bases.Row(ctx, tokA, hello, "Projects", "x"); return err },
			} {
				err := call()
				if err != nil {
					log.ErrorContext(ctx, "base call failed", "err", err)
				}
				errs = append(errs, err)
			}
		})
		if calls == 0 {
			t.Fatal("no upstream calls counted")
		}
	}
	// The exchange's own answer holds a base token; a bad one must not
	// show it either.
	bh.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/access-token/") {
			fmt.Fprintf(w, `{"access_token":"eyJ.SECRET-BASE-TOKEN.sig","dtable_uuid":"%s","dtable_server":"not a url"}`, testing1.UUID)
			return true
		}
		return false
	})
	_, err := bh.bases.BaseMetadata(ctx, tokB, hello)
	errs = append(errs, err)
	_, err = bh.bases.BaseMetadata(ctx, tokB, testing1)
	errs = append(errs, err)

	secrets := []string{"SECRET-BASE-TOKEN", tokA, tokB}
	for _, r := range bh.fake.Requests() {
		if tok := strings.TrimPrefix(r.Authorization, "Token "); strings.Count(tok, ".") == 2 {
			secrets = append(secrets, tok)
		}
	}
	if len(secrets) < 4 {
		t.Fatal("no base token was sent")
	}
	failures := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		failures++
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Fatalf("error holds a token: %s", text)
				}
			}
		}
	}
	if failures < 15 {
		t.Fatalf("only %d calls failed; the hooks did not bite", failures)
	}
	for _, s := range secrets {
		if strings.Contains(logs.String(), s) {
			t.Fatalf("log holds a token:\n%s", logs.String())
		}
	}
}

// The base servers have a circuit breaker of their own: a failing API
// gateway does not cut off the account API, and the other way round.
func TestBaseBreakerSeparate(t *testing.T) {
	bh := newBaseHarness(t)
	var mu sync.Mutex
	var states []string
	bh.bases = upstream.NewBaseClient(bh.client, upstream.WithBaseClock(bh.clock.now),
		upstream.WithBaseBreakerStateHook(func(from, to string) {
			mu.Lock()
			defer mu.Unlock()
			states = append(states, from+"->"+to)
		}))
	ctx := context.Background()
	// The breaker counts failures once several callers fail: three.
	callers := []string{tokA, tokB, "tok-D-SECRET-4444444444"}
	bh.fake.SetToken(callers[2], fakeseatable.Fixture(fakeseatable.Demo))
	for _, tok := range callers {
		mustMetadata(t, ctx, bh.bases, tok, hello) // a cached token
	}
	bh.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/api-gateway/") {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	var last error
	for i := range 12 {
		_, last = bh.bases.BaseMetadata(ctx, callers[i%3], hello)
	}
	if apperr.CodeOf(last) != apperr.UpstreamUnavailable || !strings.Contains(last.Error(), "circuit open") {
		t.Fatalf("gateway down: %v, want the base breaker open", last)
	}
	if _, err := bh.client.ListWorkspaces(ctx, tokA, upstream.Read{}); err != nil {
		t.Fatalf("account API cut off by the gateway's failures: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(states) != "[closed->open]" {
		t.Fatalf("base breaker hook saw %v", states)
	}
}

// Names and row ids are single path segments, whatever they hold.
func TestBasePathSegments(t *testing.T) {
	bh := newBaseHarness(t)
	ctx := context.Background()
	_, _ = bh.bases.BaseMetadata(ctx, tokA, upstream.BaseRef{UUID: hello.UUID, WorkspaceID: "1", Name: "../../a/b?c#d"})
	mustMetadata(t, ctx, bh.bases, tokA, hello)
	_, _ = bh.bases.Row(ctx, tokA, hello, "Projects", "..")
	_, _ = bh.bases.Row(ctx, tokA, hello, "Projects", "a/b")
	paths, _ := bh.seen()
	want := []string{
		basePath + "/api/v2.1/workspace/1/dtable/../../a/b?c#d/access-token/",
		basePath + "/api/v2.1/workspace/1/dtable/hello/access-token/",
		basePath + "/api-gateway/api/v2/dtables/" + hello.UUID + "/metadata/",
		basePath + "/api-gateway/api/v2/dtables/" + hello.UUID + "/rows/../",
		basePath + "/api-gateway/api/v2/dtables/" + hello.UUID + "/rows/a/b/",
	}
	if fmt.Sprint(paths) != fmt.Sprint(want) {
		t.Fatalf("paths (decoded)\n got %q\nwant %q", paths, want)
	}
	// As sent: each stayed one segment.
	reqs := bh.fake.Requests()
	if len(reqs) != 5 || reqs[0].Path != "/api/v2.1/workspace/1/dtable/../../a/b?c#d/access-token/" {
		t.Fatalf("requests: %+v", reqs)
	}
	if bh.counts() != (counts{exchange: 2, metadata: 1, row: 2}) {
		t.Fatalf("counts %+v: a segment escaped its place", bh.counts())
	}
}

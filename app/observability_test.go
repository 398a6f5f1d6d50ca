package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/seatable-graphql/seatable-graphql/app/internal/metrics"
	"github.com/seatable-graphql/seatable-graphql/app/internal/readiness"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// scrape fetches /metrics over HTTP and parses the exposition format.
func (e *testEnv) scrape(t *testing.T) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	resp, err := http.Get(e.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams, string(raw)
}

// series returns the label sets (as "k=v,k=v", sorted by name as exposed)
// of a family, with each series' counter value or histogram sample count.
func series(fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	f := fams[name]
	if f == nil {
		return out
	}
	for _, m := range f.Metric {
		var kv []string
		for _, l := range m.Label {
			kv = append(kv, l.GetName()+"="+l.GetValue())
		}
		v := m.GetCounter().GetValue()
		if h := m.GetHistogram(); h != nil {
			v = float64(h.GetSampleCount())
		}
		if g := m.GetGauge(); g != nil {
			v = g.GetValue()
		}
		out[strings.Join(kv, ",")] = v
	}
	return out
}

func TestMetricsAfterRequests(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	var data map[string]json.RawMessage
	e.mustData(t, "Token "+tokA, `query Mine { workspaces { id } }`, &data)
	e.mustData(t, "Token "+tokA, `query Mine { workspaces { id } }`, &data)
	famsBefore, _ := e.scrape(t)
	snapshotsBefore := series(famsBefore, "seatable_graphql_dataloader_batch_size")["loader=snapshot"]
	e.mustData(t, "Token "+tokA, compositeQuery(), &data) // anonymous, many lookups of one read
	famsAfter, _ := e.scrape(t)
	batches := series(famsAfter, "seatable_graphql_dataloader_batch_size")
	if got := batches["loader=snapshot"] - snapshotsBefore; got != 1 {
		t.Errorf("the composite query's lookups by id read %v snapshots, want 1: %v", got, batches)
	}
	e.post(t, "", `query NoToken { workspaces { id } }`, nil)
	e.post(t, "Token "+tokA, `{ workspaces { `, nil)
	e.fake.FailWith(http.StatusTooManyRequests, http.Header{"Retry-After": {"3"}}, `{"detail":"throttled"}`)
	e.post(t, "Token "+tokA, `query Busy { workspaces { id } }`, nil)

	fams, raw := e.scrape(t)
	ops := series(fams, "seatable_graphql_graphql_operations_total")
	for labels, want := range map[string]float64{
		"operation=Mine,outcome=ok":                       2,
		"operation=anonymous,outcome=ok":                  1,
		"operation=other,outcome=UNAUTHENTICATED":         1, // no token: no name label
		"operation=unparsed,outcome=GRAPHQL_PARSE_FAILED": 1,
		"operation=Busy,outcome=RATE_LIMITED":             1,
	} {
		if ops[labels] != want {
			t.Errorf("operations_total{%s} = %v, want %v", labels, ops[labels], want)
		}
	}
	if len(ops) != 5 {
		t.Errorf("operations_total has %d series, want 5: %v", len(ops), ops)
	}
	if d := series(fams, "seatable_graphql_graphql_operation_duration_seconds"); d["operation=Mine"] != 2 || d["operation=unparsed"] != 1 {
		t.Errorf("operation duration counts: %v", d)
	}

	up := series(fams, "seatable_graphql_upstream_requests_total")
	want := map[string]float64{
		"endpoint=GET /api/v2.1/workspaces/,status=200": 3,
		"endpoint=GET /api/v2.1/workspaces/,status=429": 1,
	}
	if fmt.Sprint(up) != fmt.Sprint(want) {
		t.Errorf("upstream_requests_total = %v, want %v (the request without a token must not call upstream)", up, want)
	}
	if d := series(fams, "seatable_graphql_upstream_request_duration_seconds"); d["endpoint=GET /api/v2.1/workspaces/"] != 4 {
		t.Errorf("upstream duration counts: %v", d)
	}

	// Lookups by id are map reads on the snapshot, not batches: only
	// reads are reported, each fetch of the list as one.
	for _, m := range fams["seatable_graphql_dataloader_batch_size"].GetMetric() {
		if l := m.Label[0].GetValue(); l != "snapshot" {
			t.Errorf("a %q batch: only reads of SeaTable are batches", l)
		} else if h := m.GetHistogram(); h.GetSampleSum() != float64(h.GetSampleCount()) {
			t.Errorf("snapshot batches of %v keys in %d batches, want 1 each", h.GetSampleSum(), h.GetSampleCount())
		}
	}
	// At least the scrape itself; an earlier request's handler may still be
	// returning after its client read the response.
	if g := series(fams, "seatable_graphql_http_requests_in_flight")[""]; g < 1 {
		t.Errorf("in flight during the scrape = %v, want >= 1 (the scrape itself)", g)
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("Go runtime metrics missing")
	}
	if strings.Contains(raw, tokA) || strings.Contains(raw, "workspaces {") || strings.Contains(raw, "127.0.0.1") {
		t.Error("/metrics exposes a token, query text or upstream host")
	}
}

func TestMetricsCacheHooks(t *testing.T) {
	e := newTestEnv(t)
	e.metrics.CacheHit()
	e.metrics.CacheHit()
	e.metrics.CacheMiss()
	fams, _ := e.scrape(t)
	got := series(fams, "seatable_graphql_cache_requests_total")
	if got["result=hit"] != 2 || got["result=miss"] != 1 {
		t.Errorf("cache_requests_total = %v", got)
	}
}

// A client inventing operation names (or sending ones no dashboard should
// show) must not be able to grow the number of series. (Without a token
// names are never labels: TestAnonymousOperationNamesAreNotLabels.)
func TestMetricsOperationNameFloodStaysBounded(t *testing.T) {
	e := newTestEnv(t)
	// Names are admitted by operations of a token SeaTable accepted
	// (issue 18), so the flood reads with a valid token.
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	const n = 3 * metrics.MaxOperations
	for i := 0; i < n; i++ {
		e.post(t, "Token "+tokA, fmt.Sprintf(`query Flood%d { workspaces { id } }`, i), nil)
	}
	long := "L" + strings.Repeat("x", 100)
	e.post(t, "Token "+tokA, `query `+long+` { workspaces { id } }`, nil)
	// The requested operationName is client input too; an unknown one
	// fails validation and must not become a label.
	body := `{"query":"query A { __typename }","operationName":"` + tokA + `"}`
	resp, err := http.Post(e.url+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	fams, raw := e.scrape(t)
	ops := series(fams, "seatable_graphql_graphql_operations_total")
	names := map[string]bool{}
	for labels := range ops {
		names[strings.Split(strings.TrimPrefix(labels, "operation="), ",")[0]] = true
	}
	if len(names) > metrics.MaxOperations+3 { // + other, anonymous, unparsed
		t.Fatalf("%d distinct operation labels after %d names, want at most %d", len(names), n, metrics.MaxOperations+3)
	}
	if ops["operation=other,outcome=ok"] != float64(n-metrics.MaxOperations+1) {
		t.Errorf("operations folded into other = %v, want %d", ops["operation=other,outcome=ok"], n-metrics.MaxOperations+1)
	}
	if !names["Flood0"] || names[fmt.Sprintf("Flood%d", metrics.MaxOperations)] {
		t.Errorf("want the first %d names kept and later ones folded", metrics.MaxOperations)
	}
	if strings.Contains(raw, long) || strings.Contains(raw, tokA) {
		t.Error("an over-long operation name or a requested operationName reached /metrics")
	}
	if ops["operation=unparsed,outcome=GRAPHQL_VALIDATION_FAILED"] != 1 {
		t.Errorf("unknown operationName: %v", ops)
	}
}

// The span tree of one request: server span -> GraphQL operation span ->
// upstream client span, one trace, and SeaTable receives that trace's
// traceparent.
func TestTracingSpanTree(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	var mu sync.Mutex
	var traceparents []string
	e := newTestEnv(t, func(o *envOptions) {
		o.tracer = tp
		o.upstreamHandler = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				traceparents = append(traceparents, r.Header.Get("traceparent"))
				mu.Unlock()
				next.ServeHTTP(w, r)
			})
		}
	})
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	var data map[string]json.RawMessage
	e.mustData(t, "Token "+tokA, `query Mine { workspaces { id } w: workspace(id: "1") { name } }`, &data)
	e.close() // waits for the handler to return, so the server span has ended

	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	server, op, client := byName["POST /graphql"], byName["query Mine"], byName["GET /api/v2.1/workspaces/"]
	if len(spans) != 3 || !server.SpanContext.IsValid() || !op.SpanContext.IsValid() || !client.SpanContext.IsValid() {
		var names []string
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("spans %q, want exactly POST /graphql, query Mine, GET /api/v2.1/workspaces/", names)
	}
	if server.SpanKind != trace.SpanKindServer || client.SpanKind != trace.SpanKindClient {
		t.Errorf("kinds: server %v, client %v", server.SpanKind, client.SpanKind)
	}
	if server.Parent.IsValid() {
		t.Errorf("server span has a parent without an incoming traceparent")
	}
	if op.Parent.SpanID() != server.SpanContext.SpanID() || client.Parent.SpanID() != op.SpanContext.SpanID() {
		t.Errorf("tree: op parent %s (server %s), client parent %s (op %s)",
			op.Parent.SpanID(), server.SpanContext.SpanID(), client.Parent.SpanID(), op.SpanContext.SpanID())
	}
	traceID := server.SpanContext.TraceID()
	if op.SpanContext.TraceID() != traceID || client.SpanContext.TraceID() != traceID {
		t.Errorf("spans are in different traces")
	}
	attrs := map[string]string{}
	for _, a := range op.Attributes {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	if attrs["graphql.operation.name"] != "Mine" || attrs["graphql.operation.type"] != "query" {
		t.Errorf("operation span attributes: %v", attrs)
	}
	if len(traceparents) != 1 {
		t.Fatalf("upstream saw %d requests, want 1", len(traceparents))
	}
	// traceparent: version-traceid-parentid-flags; the parent is the client span.
	want := fmt.Sprintf("00-%s-%s-01", traceID, client.SpanContext.SpanID())
	if traceparents[0] != want {
		t.Errorf("upstream traceparent %q, want %q", traceparents[0], want)
	}
	for _, s := range spans {
		for _, a := range s.Attributes {
			v := a.Value.Emit()
			if strings.Contains(v, tokA) || strings.Contains(strings.ToLower(string(a.Key)), "authorization") || strings.Contains(v, "workspaces {") {
				t.Errorf("span %q attribute %s=%q carries a token, the Authorization header or query text", s.Name, a.Key, v)
			}
		}
	}
}

// An incoming traceparent is continued, and an error sets the operation
// span's status to its code.
func TestTracingContinuesCallerTraceAndRecordsErrors(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	e := newTestEnv(t, func(o *envOptions) { o.tracer = tp })
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", strings.NewReader(`{"query":"{ workspaces { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-01")
	e.do(t, req) // no token: UNAUTHENTICATED, no upstream call
	for _, probe := range []string{"/healthz", "/metrics"} {
		if resp, err := http.Get(e.url + probe); err == nil {
			resp.Body.Close()
		}
	}
	e.close()
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want server + operation (and none for probes)", len(spans))
	}
	for _, s := range spans {
		if s.SpanContext.TraceID().String() != callerTrace {
			t.Errorf("span %q not in the caller's trace", s.Name)
		}
		if s.Name == "query" && (s.Status.Description != "UNAUTHENTICATED" || s.Status.Code.String() != "Error") {
			t.Errorf("operation span status %+v", s.Status)
		}
	}
}

type logLine map[string]any

func (e *testEnv) requestLines(t *testing.T) []logLine {
	t.Helper()
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if l["msg"] == "request" {
			out = append(out, l)
		}
	}
	return out
}

func TestRequestLogLine(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	send := func(id, auth, query string) *http.Response {
		body, _ := json.Marshal(map[string]string{"query": query})
		req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if got := send("req-42.a:b", "Token "+tokA, `query Mine { workspaces { id } }`).Header.Get("X-Request-Id"); got != "req-42.a:b" {
		t.Errorf("sane incoming id not echoed: %q", got)
	}
	hostile := "bad id <script>" + strings.Repeat("x", 300)
	generated := send(hostile, "", `{ workspaces { id } }`).Header.Get("X-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(generated) {
		t.Errorf("hostile id replaced by %q, want a fresh 24-hex id", generated)
	}
	e.close()

	lines := e.requestLines(t)
	if len(lines) != 2 {
		t.Fatalf("%d request lines, want 2: %s", len(lines), e.logs)
	}
	ok, failed := lines[0], lines[1]
	for k, want := range map[string]any{"request_id": "req-42.a:b", "method": "POST", "path": "/graphql", "status": 200.0,
		"operation": "Mine", "operation_type": "query", "outcome": "ok", "upstream_calls": 1.0, "level": "INFO"} {
		if ok[k] != want {
			t.Errorf("log %s = %v, want %v (line %v)", k, ok[k], want, ok)
		}
	}
	if d, _ := ok["duration_ms"].(float64); d <= 0 {
		t.Errorf("duration_ms = %v", ok["duration_ms"])
	}
	for k, want := range map[string]any{"request_id": generated, "operation": "", "outcome": "error", "upstream_calls": 0.0} {
		if failed[k] != want {
			t.Errorf("failed request: log %s = %v, want %v", k, failed[k], want)
		}
	}
	if codes, _ := failed["error_codes"].([]any); len(codes) != 1 || codes[0] != "UNAUTHENTICATED" {
		t.Errorf("error_codes = %v", failed["error_codes"])
	}
}

// Debug logs of requests carrying tokens, well-formed or not, and of the
// failures they cause, never contain a token.
func TestLogsNeverContainTokens(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	secrets := []string{tokA, "s3cr3t-half-one", "s3cr3t-half-two", "dXNlcjpwYXNzd29yZA", "unknown-tok-9f8e7d", "eyJhbGciOiJIUzI1NiJ9.e30.sig"}
	headers := []string{
		"Token " + tokA, "Bearer " + tokA, "Token s3cr3t-half-one s3cr3t-half-two", "Basic dXNlcjpwYXNzd29yZA",
		"Token unknown-tok-9f8e7d", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "Token" + tokA, "Token " + tokA + "\x01",
	}
	for _, h := range headers {
		body := `{"query":"{ workspaces { id } dtable(uuid: \"nope\") { id } }"}`
		req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header["Authorization"] = []string{h} // bypass net/http's header checks
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	e.fake.FailWith(http.StatusInternalServerError, nil, `{"detail":"`+tokA+`"}`)
	e.post(t, "Token "+tokA, `{ workspaces { id } }`, nil)
	e.fake.FailWith(http.StatusOK, nil, `not json `+tokA)
	e.post(t, "Token "+tokA, `{ workspaces { id } }`, nil)
	req, _ := http.NewRequest(http.MethodGet, e.url+"/graphql?query="+tokA, nil)
	req.Header.Set("Authorization", "Token "+tokA)
	e.do(t, req)
	e.close()
	logs := e.logs.String()
	if len(e.requestLines(t)) < len(headers) {
		t.Fatalf("too few request lines to be a meaningful check: %s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q:\n%s", s, logs)
		}
	}
}

func TestReadyzChecksUpstreamAtMostOncePerTTL(t *testing.T) {
	now := time.Unix(1000, 0)
	var clockMu sync.Mutex
	e := newTestEnv(t, func(o *envOptions) {
		o.seams.ready = func(check func(context.Context) error) *readiness.Probe {
			p := readiness.New(check)
			p.Now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
			return p
		}
	})
	probe := func() (int, string) {
		resp, err := http.Get(e.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	pings := func() int {
		n := 0
		for _, r := range e.fake.Requests() {
			if r.Path == "/api2/ping/" {
				if r.Authorization != "" {
					t.Errorf("ping carried an Authorization header")
				}
				n++
			}
		}
		return n
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if status, body := probe(); status != 200 || body != "ready\n" {
				t.Errorf("readyz: %d %q", status, body)
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 5; i++ {
		probe()
	}
	if n := pings(); n != 1 {
		t.Fatalf("25 probes within the TTL made %d upstream pings, want 1", n)
	}
	// After the TTL, the next probe checks again and sees SeaTable down.
	e.fake.FailWith(http.StatusBadGateway, nil, "<html>bad gateway at 10.0.0.7</html>")
	clockMu.Lock()
	now = now.Add(readiness.DefaultTTL)
	clockMu.Unlock()
	status, body := probe()
	if status != http.StatusServiceUnavailable || body != "not ready: SeaTable check failed: UPSTREAM_UNAVAILABLE: HTTP 502 at GET /seatable/api2/ping/\n" {
		t.Errorf("readyz with SeaTable down: %d %q", status, body)
	}
	probe()
	if n := len(e.fake.Requests()); n != 2 {
		t.Errorf("%d upstream requests, want 2 pings", n)
	}
	// /healthz never calls upstream.
	e.fake.ResetCounts()
	if resp, err := http.Get(e.url + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	if e.fake.Calls() != 0 {
		t.Error("healthz called upstream")
	}
}

func TestCORS(t *testing.T) {
	const allowed, denied = "https://app.example.com", "https://evil.example.net"
	preflight := func(e *testEnv, origin string) http.Header {
		req, _ := http.NewRequest(http.MethodOptions, e.url+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, x-request-id")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	post := func(e *testEnv, origin string) http.Header {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	noCORS := func(name string, h http.Header) {
		t.Helper()
		for k := range h {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s: got %s: %v", name, k, h[k])
			}
		}
	}

	e := newTestEnv(t, withEnv("CORS_ALLOWED_ORIGINS", allowed))
	h := preflight(e, allowed)
	if h.Get("Access-Control-Allow-Origin") != allowed {
		t.Errorf("allowed preflight: Allow-Origin %q", h.Get("Access-Control-Allow-Origin"))
	}
	if m := h.Get("Access-Control-Allow-Methods"); m != "POST" {
		t.Errorf("allowed preflight: Allow-Methods %q", m)
	}
	if got := strings.ToLower(h.Get("Access-Control-Allow-Headers")); !strings.Contains(got, "authorization") || !strings.Contains(got, "content-type") || !strings.Contains(got, "x-request-id") {
		t.Errorf("allowed preflight: Allow-Headers %q", got)
	}
	h = post(e, allowed)
	if h.Get("Access-Control-Allow-Origin") != allowed || h.Get("Access-Control-Expose-Headers") != "X-Request-Id, Retry-After" {
		t.Errorf("allowed POST: %v", h)
	}
	noCORS("denied preflight", preflight(e, denied))
	noCORS("denied POST", post(e, denied))

	def := newTestEnv(t) // no CORS_ALLOWED_ORIGINS
	noCORS("default preflight", preflight(def, allowed))
	noCORS("default POST", post(def, allowed))
}

func TestNewLoggerFormat(t *testing.T) {
	for _, tc := range []struct {
		format string
		json   bool
	}{{"", true}, {"json", true}, {"text", false}} {
		f, err := os.CreateTemp(t.TempDir(), "log")
		if err != nil {
			t.Fatal(err)
		}
		NewLogger(f, Config{LogFormat: tc.format}).Info("hello", "k", "v")
		f.Close()
		b, _ := os.ReadFile(f.Name())
		if isJSON := json.Valid(bytes.TrimSpace(b)); isJSON != tc.json {
			t.Errorf("LOG_FORMAT=%q to a file: %s", tc.format, b)
		}
	}
	f, _ := os.CreateTemp(t.TempDir(), "log")
	NewLogger(f, Config{LogLevel: 4}).Info("dropped") // LOG_LEVEL=warn
	f.Close()
	if b, _ := os.ReadFile(f.Name()); len(b) != 0 {
		t.Errorf("info logged at level warn: %s", b)
	}
}

func TestLoadConfigObservability(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		wantErr bool
		check   func(Config) bool
	}{
		{map[string]string{}, false, func(c Config) bool {
			return c.LogLevel == 0 && c.LogFormat == "" && c.CORSOrigins == nil && c.OTLPEndpoint == ""
		}},
		{map[string]string{"LOG_LEVEL": "DEBUG", "LOG_FORMAT": "text"}, false, func(c Config) bool {
			return c.LogLevel == -4 && c.LogFormat == "text"
		}},
		{map[string]string{"LOG_LEVEL": "verbose"}, true, nil},
		{map[string]string{"LOG_FORMAT": "xml"}, true, nil},
		{map[string]string{"CORS_ALLOWED_ORIGINS": " https://app.example.com, http://localhost:3000 ,https://*.example.org"}, false, func(c Config) bool {
			return fmt.Sprint(c.CORSOrigins) == "[https://app.example.com http://localhost:3000 https://*.example.org]"
		}},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "*"}, false, func(c Config) bool { return len(c.CORSOrigins) == 1 }},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "app.example.com"}, true, nil},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com/graphql"}, true, nil},
		{map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com,"}, true, nil},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, false, func(c Config) bool {
			return c.OTLPEndpoint == "http://collector:4318"
		}},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://c/v1/traces", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false, func(c Config) bool {
			return c.OTLPEndpoint == "https://c/v1/traces"
		}},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, true, nil},
	} {
		c, err := LoadConfig(func(k string) string { return tc.env[k] })
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: err = %v, wantErr %v", tc.env, err, tc.wantErr)
		}
		if err == nil && tc.check != nil && !tc.check(c) {
			t.Errorf("%v: parsed %+v", tc.env, c)
		}
	}
}

// With tracing off there is no tracing layer: nothing is propagated.
func TestTracingOffPropagatesNothing(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	e := newTestEnv(t, func(o *envOptions) {
		o.upstreamHandler = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Header.Get("traceparent"))
				mu.Unlock()
				next.ServeHTTP(w, r)
			})
		}
	})
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	body := `{"query":"{ workspaces { id } }"}`
	req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+tokA)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if status, resp := e.do(t, req); status != 200 || len(resp.Errors) > 0 {
		t.Fatalf("%d %+v", status, resp.Errors)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "" {
		t.Errorf("upstream saw traceparent %q with tracing off", seen)
	}
}

// lineWriter hands each log line to a channel, so a test can wait for one.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	select {
	case w <- string(p):
	default: // nobody is waiting for more lines
	}
	return len(p), nil
}

// The whole binary's wiring with OTEL_EXPORTER_OTLP_ENDPOINT set: a request
// to the demo produces spans that reach the collector by the time run
// returns (the provider is flushed on shutdown).
func TestRunExportsTracesOverOTLP(t *testing.T) {
	var mu sync.Mutex
	var exports []string
	collector := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		exports = append(exports, r.Method+" "+r.URL.Path)
		mu.Unlock()
	}))
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector)
	demo := fakeseatable.New()
	demo.AcceptAnyToken(fakeseatable.Fixture(fakeseatable.Demo))
	env := map[string]string{"PORT": "0", "OTEL_EXPORTER_OTLP_ENDPOINT": collector,
		"SEATABLE_URL": httptestServer(t, demo), "SEATABLE_TOKEN": "demo"}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	lines := make(lineWriter, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.NewJSONHandler(lines, nil))) }()
	var playground string
	for playground == "" {
		select {
		case l := <-lines:
			var rec struct{ Playground string }
			_ = json.Unmarshal([]byte(l), &rec)
			playground = rec.Playground
		case err := <-done:
			t.Fatalf("run returned before serving: %v", err)
		}
	}
	resp, err := http.Post(playground+"graphql", "application/json", strings.NewReader(`{"query":"query Demo { workspaces { id } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(exports) == 0 || exports[0] != "POST /v1/traces" {
		t.Errorf("collector saw %v, want POST /v1/traces", exports)
	}
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// The load script's queries (bench/main.go has the same three).
const (
	benchQ1 = `{ workspaces { id ownerName tables { name updatedAt } } }`
	benchQ3 = `{ workspaces { id name } }`
)

// BenchmarkRequest measures whole requests through the handler (parse,
// loaders, one upstream call over loopback HTTP, decode, resolve, encode)
// against the fake with the small and large generated datasets.
func BenchmarkRequest(b *testing.B) {
	datasets := []struct {
		name string
		body []byte
	}{{"small-20x10", fakeseatable.Generate(20, 10)}, {"large-500x50", fakeseatable.Generate(500, 50)}}
	queries := []struct{ name, query string }{{"Q1", benchQ1}, {"Q2", q2()}, {"Q3", benchQ3}}
	for _, ds := range datasets {
		fake := fakeseatable.New()
		fake.SetToken(tokA, ds.body)
		fake.SetRecordRequests(false)
		for _, cached := range []bool{false, true} {
			opts := []func(*envOptions){withFake(fake), func(o *envOptions) { o.quiet = true }}
			suffix := ""
			if cached {
				opts, suffix = append(opts, withCache(time.Hour)), "-cached"
			}
			h := newTestEnv(b, opts...).handler
			for _, q := range queries {
				body := `{"query":` + jsonString(q.query) + `}`
				b.Run(ds.name+"/"+q.name+suffix, func(b *testing.B) {
					b.ReportAllocs()
					fake.ResetCounts()
					for b.Loop() {
						mustServe(b, h, body, nil)
					}
					b.ReportMetric(float64(fake.Calls())/float64(b.N), "upstream-calls/op")
				})
			}
		}
	}
}

// mustServe posts body as tokA through h in process and fails the
// benchmark unless the answer is 200 without errors.
func mustServe(b *testing.B, h http.Handler, body string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+tokA)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
		b.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	return rec
}

func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// BenchmarkLayers runs Q1 on the small list through the whole handler
// with one layer switched on or off at a time, against the defaults
// ("defaults": rate limit, tracing, CORS and trusted documents off; APQ,
// limits, coalescing, shared execution and the fast path on; logs
// discarded before they are formatted). A layer's cost per request is its
// row's ns/op and allocs/op minus the defaults' of the same run. Layers
// that no setting switches off (auth, metrics, loaders, the operation
// hooks) are part of every row.
func BenchmarkLayers(b *testing.B) {
	body := fakeseatable.Generate(20, 10)
	fake := fakeseatable.New()
	fake.SetToken(tokA, body)
	fake.SetRecordRequests(false)
	manifest := filepath.Join(b.TempDir(), "persisted-documents.json")
	doc, _ := json.Marshal(map[string]string{sha256hex(benchQ1): benchQ1})
	if err := os.WriteFile(manifest, doc, 0o600); err != nil {
		b.Fatal(err)
	}
	quiet := func(o *envOptions) { o.quiet = true }
	variants := []struct {
		name   string
		opts   []func(*envOptions)
		origin string // an Origin header, for CORS
	}{
		{name: "defaults", opts: []func(*envOptions){quiet}},
		{name: "+tracing", opts: []func(*envOptions){quiet, func(o *envOptions) { o.tracer = sdktrace.NewTracerProvider() }}},
		{name: "+request-log", opts: []func(*envOptions){func(o *envOptions) { o.logs = &syncBuffer{}; o.env = map[string]string{"LOG_LEVEL": "info"} }}},
		{name: "+cors", opts: []func(*envOptions){quiet, withEnv("CORS_ALLOWED_ORIGINS", "https://app.example")}, origin: "https://app.example"},
		{name: "+rate-limit", opts: []func(*envOptions){quiet, withEnv("RATE_LIMIT", "1000000")}},
		{name: "+trusted-documents", opts: []func(*envOptions){quiet, withEnv("TRUSTED_DOCUMENTS", manifest)}},
		{name: "-apq", opts: []func(*envOptions){quiet, withEnv("APQ_CACHE_SIZE", "0")}},
		{name: "-limits", opts: []func(*envOptions){quiet, withEnv("MAX_DEPTH", "0", "MAX_ALIASES", "0", "MAX_COMPLEXITY", "0", "MAX_TOKENS", "0")}},
		{name: "-coalesce", opts: []func(*envOptions){quiet, withEnv("COALESCE", "false")}},
		{name: "-share-queries", opts: []func(*envOptions){quiet, withEnv("SHARE_QUERIES", "false")}},
		{name: "-fast-path", opts: []func(*envOptions){quiet, withEnv("FAST_PATH", "false")}},
		// Again at the end: the spread of the two is the run's noise.
		{name: "defaults-again", opts: []func(*envOptions){quiet}},
	}
	reqBody := `{"query":` + jsonString(benchQ1) + `}`
	for _, v := range variants {
		h := newTestEnv(b, append([]func(*envOptions){withFake(fake)}, v.opts...)...).handler
		header := http.Header{}
		if v.origin != "" {
			header.Set("Origin", v.origin)
		}
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := testenv.ProcessCPU()
			for b.Loop() {
				mustServe(b, h, reqBody, header)
			}
			// The process's CPU (the fake's share included, the same in
			// every row): steadier than wall time on a shared machine.
			b.ReportMetric(float64(testenv.ProcessCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkBaseRows measures the load script's "first 100 rows of a table"
// (bench/main.go, R100) through the handler: the list, the base's metadata
// and one rows read (the base token is reused), 48 rows answered.
func BenchmarkBaseRows(b *testing.B) {
	fake := fakeseatable.New()
	fake.SetToken(tokA, fakeseatable.Generate(20, 10))
	fake.SetRecordRequests(false)
	e := newTestEnv(b, withFake(fake), func(o *envOptions) { o.quiet = true })
	var data struct {
		Data struct {
			Dtables struct{ Nodes []struct{ UUID string } }
		}
	}
	rec := mustServe(b, e.handler, `{"query":"{ dtables(first: 1) { nodes { uuid } } }"}`, nil)
	if err := json.Unmarshal(rec.Body.Bytes(), &data); err != nil || len(data.Data.Dtables.Nodes) == 0 {
		b.Fatalf("no base: %v %s", err, rec.Body.String())
	}
	body := `{"query":` + jsonString(fmt.Sprintf(`{ dtable(uuid: %q) { table(name: "Tasks") { rows(first: 100) { edges { cursor node { id values updatedAt } } pageInfo { hasNextPage endCursor } } } } }`, data.Data.Dtables.Nodes[0].UUID)) + `}`
	b.ReportAllocs()
	fake.ResetCounts()
	for b.Loop() {
		mustServe(b, e.handler, body, nil)
	}
	b.ReportMetric(float64(fake.Calls())/float64(b.N), "upstream-calls/op")
}

package app

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
						req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Token "+tokA)
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
							b.Fatalf("%d %s", rec.Code, rec.Body.String())
						}
					}
					b.ReportMetric(float64(fake.Calls())/float64(b.N), "upstream-calls/op")
				})
			}
		}
	}
}

func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
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
		Dtables struct{ Nodes []struct{ UUID string } }
	}
	e.mustData(&testing.T{}, "Token "+tokA, `{ dtables(first: 1) { nodes { uuid } } }`, &data)
	body := `{"query":` + jsonString(fmt.Sprintf(`{ dtable(uuid: %q) { table(name: "Tasks") { rows(first: 100) { edges { cursor node { id values updatedAt } } pageInfo { hasNextPage endCursor } } } } }`, data.Dtables.Nodes[0].UUID)) + `}`
	b.ReportAllocs()
	fake.ResetCounts()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+tokA)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
			b.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
	}
	b.ReportMetric(float64(fake.Calls())/float64(b.N), "upstream-calls/op")
}

package app

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// isolationTenants are five tokens that each see different data under the
// same ids: workspace 7 and base 11111111-… exist for everyone, with
// different names. A cache, coalescing layer or loader keyed on anything
// but the token would hand one tenant another's names.
var isolationTenants = []string{"alpha", "bravo", "charlie", "delta", "echo"}

func isolationToken(tenant string) string { return "tok-" + tenant + "-5f0c2e9a7b31d4c8" }

func isolationFixture(tenant string) []byte {
	return []byte(fmt.Sprintf(`{"workspace_list":[
		{"id":"","name":"starred","type":"starred","table_list":[]},
		{"id":7,"name":"ws-of-%[1]s","type":"personal","table_list":[
			{"id":1,"workspace_id":7,"uuid":"11111111-2222-4333-8444-555555555555","name":"base-of-%[1]s","updated_at":"2026-01-01T00:00:00+00:00"},
			{"id":2,"workspace_id":7,"uuid":"22222222-2222-4333-8444-555555555555","name":"second-of-%[1]s"}]},
		{"id":8,"name":"group-of-%[1]s","type":"group","group_id":3,"table_list":[]}]}`, tenant))
}

var isolationQueries = []string{
	`{ workspaces { id name tables { uuid name workspace { name } } } }`,
	`{ workspace(id: "7") { name tables { name } } }`,
	`{ dtable(uuid: "11111111222243338444555555555555") { name workspace { name } } }`,
	`{ a: workspace(id: "8") { name } b: dtable(uuid: "22222222-2222-4333-8444-555555555555") { name } }`,
}

// TestIsolationBetweenTokens runs the isolation check with the default
// configuration. CI also runs it under -race (.ci/after.d/20-race.sh).
// Features that share data across requests (caches, coalescing) must add a
// variant here that switches them on, e.g.
// runIsolation(t, withEnv("CACHE_TTL", "1m")).
func TestIsolationBetweenTokens(t *testing.T) { runIsolation(t) }

// runIsolation sends requests from 50 goroutines spread over five tokens,
// concurrently, and checks that each response names only its own tenant.
func runIsolation(t *testing.T, opts ...func(*envOptions)) {
	const goroutines, perGoroutine = 50, 12
	e := newTestEnv(t, opts...)
	for _, tenant := range isolationTenants {
		e.fake.SetToken(isolationToken(tenant), isolationFixture(tenant))
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: goroutines}}
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range perGoroutine {
				// Tokens rotate per request, so one goroutine's
				// connections carry several tenants too.
				tenant := isolationTenants[(g+i)%len(isolationTenants)]
				query := isolationQueries[rng.IntN(len(isolationQueries))]
				body := fmt.Sprintf(`{"query":%q}`, query)
				req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Token "+isolationToken(tenant))
				resp, err := client.Do(req)
				if err != nil {
					fail("%s: %v", tenant, err)
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				got := string(raw)
				if resp.StatusCode != 200 || strings.Contains(got, `"errors"`) || !strings.Contains(got, "-of-"+tenant) {
					fail("%s %s: %d %s", tenant, query, resp.StatusCode, got)
				}
				for _, other := range isolationTenants {
					if other != tenant && strings.Contains(got, other) {
						fail("%s saw %s's data: %s", tenant, other, got)
					}
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if n := e.fake.Calls(); n == 0 || n > goroutines*perGoroutine {
		t.Errorf("%d upstream calls for %d requests", n, goroutines*perGoroutine)
	}
}

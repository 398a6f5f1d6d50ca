package app

// Issue 18 (hardening, round three): the bounds of answer sizes, of batches as a whole, of a token SeaTable rejects, of cancelled
// work's logging, of the metrics' operation names and of concurrent
// renames.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// firstCode is the extensions.code of a response's first error, "" without.
func firstCode(r gqlResponse) string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// postBatchAs is postBatch with a token of one's choice.
func postBatchAs(t *testing.T, e *testEnv, token string, items []map[string]any) []gqlResponse {
	t.Helper()
	body, _ := json.Marshal(items)
	req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out) != len(items) {
		t.Fatalf("batch answer: %v, %d answers for %d operations", err, len(out), len(items))
	}
	return out
}

func aliasedUpdates(n int) string {
	var b strings.Builder
	b.WriteString("mutation {")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, ` u%d: updateDTable(input: {uuid: "951b925d00634fd296a87db3694a286f", color: "#00000%d"}) { dtable { uuid } }`, i, i%10)
	}
	b.WriteString(" }")
	return b.String()
}

// TestBatchIsLimitedAsAWhole: a batch's operations share one complexity
// and one alias budget, so a batch of ten costs no more than one operation
// may.
func TestBatchIsLimitedAsAWhole(t *testing.T) {
	t.Run("aliased mutations", func(t *testing.T) {
		e := newTestEnv(t)
		e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
		e.fake.ResetCounts()
		items := make([]map[string]any, 10)
		for i := range items {
			items[i] = map[string]any{"query": aliasedUpdates(50)}
		}
		out := postBatchAs(t, e, tokA, items)
		if len(out[0].Errors) != 0 {
			t.Fatalf("first operation: %+v", out[0].Errors)
		}
		if firstCode(out[1]) != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(out[1].Errors[0].Message, "MAX_ALIASES") {
			t.Fatalf("operation 1: %+v", out[1].Errors)
		}
		for i, r := range out[2:] { // over the batch's aliases or, later, its tokens
			if len(r.Errors) == 0 || len(r.Data) != 0 && string(r.Data) != "null" {
				t.Fatalf("operation %d: %+v", i+2, r.Errors)
			}
		}
		// One read and one write per aliased update, for the first only.
		if calls := e.fake.Calls(); calls != 100 {
			t.Fatalf("batch of 10 x 50 aliased updates made %d SeaTable calls, want 100", calls)
		}
	})
	t.Run("complexity", func(t *testing.T) {
		e := newTestEnv(t, withEnv("MAX_COMPLEXITY", "25"))
		e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
		q := map[string]any{"query": "{ workspaces { id } }"} // 1 + 10 x 1
		out := postBatchAs(t, e, tokA, []map[string]any{q, q, q})
		if firstCode(out[0]) != "" || firstCode(out[1]) != "" || firstCode(out[2]) != "GRAPHQL_VALIDATION_FAILED" ||
			!strings.Contains(out[2].Errors[0].Message, "MAX_COMPLEXITY") {
			t.Fatalf("want the third over the batch's complexity: %+v %+v %+v", out[0].Errors, out[1].Errors, out[2].Errors)
		}
	})
	t.Run("tokens", func(t *testing.T) {
		e := newTestEnv(t)
		e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
		// 1,900 tokens each: under MAX_TOKENS (2000) alone, over
		// MAX_BATCH_TOKENS (4000) together.
		q := map[string]any{"query": "{" + strings.Repeat(" __typename", 1898) + " }"}
		out := postBatchAs(t, e, tokA, []map[string]any{q, q, q})
		if firstCode(out[0]) != "" || firstCode(out[1]) != "" || firstCode(out[2]) != "BAD_USER_INPUT" ||
			!strings.Contains(out[2].Errors[0].Message, "MAX_BATCH_TOKENS") {
			t.Fatalf("want the third over the batch's tokens: %+v %+v %+v", out[0].Errors, out[1].Errors, out[2].Errors)
		}
	})
}

// TestRejectedTokenStopsTheBatch: once SeaTable answers 401, the rest of
// the operation's mutations and the batch's operations are answered
// UNAUTHENTICATED without a call.
func TestRejectedTokenStopsTheBatch(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	e.fake.ResetCounts()
	items := make([]map[string]any, 3)
	for i := range items {
		items[i] = map[string]any{"query": aliasedUpdates(5)}
	}
	out := postBatchAs(t, e, "garbage-0123456789abcdef", items)
	for i, r := range out {
		if len(r.Errors) == 0 {
			t.Fatalf("operation %d succeeded", i)
		}
		for _, err := range r.Errors {
			if err.Extensions["code"] != "UNAUTHENTICATED" {
				t.Fatalf("operation %d: %+v", i, r.Errors)
			}
		}
	}
	if calls := e.fake.Calls(); calls != 1 {
		t.Fatalf("a rejected token made %d SeaTable calls in a batch of 3 x 5 mutations, want 1", calls)
	}
}

// bigAccount is a token's list of 20 workspaces x 250 bases.
func bigAccount(t *testing.T, e *testEnv) {
	t.Helper()
	e.fake.SetToken(tokA, fakeseatable.Generate(20, 250))
}

func aliasedTables(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " a%d: workspaces { tables { uuid name updatedAt } }", i)
	}
	b.WriteString(" }")
	return b.String()
}

// TestAnswerBytesAreBounded: an answer over MAX_RESPONSE_BYTES is an error
// naming the limit, on the fast path and on gqlgen's executor, and is not
// built first; a batch's answers share the limit.
func TestAnswerBytesAreBounded(t *testing.T) {
	for _, fast := range []string{"true", "false"} {
		t.Run("FAST_PATH="+fast, func(t *testing.T) {
			e := newTestEnv(t, withEnv("MAX_RESPONSE_BYTES", "1200KiB", "FAST_PATH", fast))
			bigAccount(t, e)
			// One alias: about 0.53 MB, within the limit.
			status, resp := e.post(t, "Token "+tokA, aliasedTables(1), nil)
			t.Logf("one alias: %d bytes", len(resp.Data))
			if status != http.StatusOK || len(resp.Errors) != 0 || len(resp.Data) < 400<<10 {
				t.Fatalf("one alias: status %d, %d bytes, %+v", status, len(resp.Data), resp.Errors)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			status, resp = e.post(t, "Token "+tokA, aliasedTables(39), nil)
			runtime.ReadMemStats(&after)
			if status != http.StatusOK || firstCode(resp) != "BAD_USER_INPUT" || !strings.Contains(resp.Errors[0].Message, "MAX_RESPONSE_BYTES") ||
				(len(resp.Data) != 0 && string(resp.Data) != "null") {
				t.Fatalf("39 aliases: status %d, %d bytes of data, %+v", status, len(resp.Data), resp.Errors)
			}
			// The whole answer would be 39 x 0.53 MB = 21 MB, and gqlgen's
			// executor allocates several times an answer to build it.
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("39 aliases refused; %.1f MB allocated", float64(alloc)/1e6)
			if alloc > 100<<20 {
				t.Errorf("refusing the answer allocated %d MB: it was built first", alloc>>20)
			}
			// A batch: three answers of 0.53 MB do not fit 1200 KiB together.
			q := map[string]any{"query": aliasedTables(1)}
			out := postBatchAs(t, e, tokA, []map[string]any{q, q, q})
			if firstCode(out[0]) != "" || firstCode(out[1]) != "" || firstCode(out[2]) != "BAD_USER_INPUT" ||
				!strings.Contains(out[2].Errors[0].Message, "MAX_RESPONSE_BYTES") {
				t.Fatalf("batch: %+v / %+v / %+v", out[0].Errors, out[1].Errors, out[2].Errors)
			}
		})
	}
}

// TestCancelledWorkIsLoggedOnce: a request abandoned by its client logs
// one line below ERROR, not one ERROR line per field.
func TestCancelledWorkIsLoggedOnce(t *testing.T) {
	e := newTestEnv(t)
	// A token each: requests of one token would share its call still in
	// flight (coalescing), so the later ones would make none to wait for.
	tokens := []string{tokA + "-0", tokA + "-1", tokA + "-2"}
	for _, tok := range tokens {
		e.fake.SetToken(tok, fakeseatable.Fixture(fakeseatable.Demo))
	}
	release := make(chan struct{})
	var once sync.Once
	// Registered after the env's, so run before it: a failure must not
	// leave the fake's handlers waiting while the env's server closes.
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	e.fake.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		<-release // SeaTable answers only once the client has left
		return false
	})
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 25; i++ {
		fmt.Fprintf(&b, ` w%d: workspace(id: "1") { id } d%d: dtable(uuid: "951b925d00634fd296a87db3694a286f") { name }`, i, i)
	}
	b.WriteString(" workspaces { id } }")
	body, _ := json.Marshal(map[string]any{"query": b.String()})
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+tokens[i])
		go func() {
			for e.fake.Calls() < int64(i+1) {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
		}()
		// A new connection each time: the last one was cut by the
		// client leaving, and a POST sent on it would fail before it
		// reached the server (no call, never cancelled, no log line).
		if resp, err := noKeepAlive.Do(req); err == nil {
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			t.Fatalf("the request was not abandoned: %d %s", resp.StatusCode, b.String())
		}
		cancel()
	}
	// SeaTable answers once the facade has given up on all three.
	for deadline := time.Now().Add(5 * time.Second); strings.Count(e.logs.String(), `"msg":"request",`) < 3; {
		if time.Now().After(deadline) {
			t.Fatal("the facade did not end the abandoned requests")
		}
		time.Sleep(5 * time.Millisecond)
	}
	once.Do(func() { close(release) })
	e.close() // waits for the three requests' work to end
	logs := e.logs.String()
	errorLines := strings.Count(logs, `"level":"ERROR"`)
	cancelled := strings.Count(logs, `"msg":"request work cancelled"`)
	t.Logf("3 abandoned requests: %d ERROR lines, %d cancellation lines", errorLines, cancelled)
	if testing.Verbose() {
		t.Log(logs)
	}
	if errorLines != 0 || cancelled != 3 {
		t.Fatalf("3 abandoned requests logged %d ERROR lines and %d cancellation lines, want 0 and 3", errorLines, cancelled)
	}
}

// TestOperationNamesNeedAnAcceptedToken: requests with tokens SeaTable
// rejects, or that never asked SeaTable, do not use up the metrics'
// operation-name budget.
func TestOperationNamesNeedAnAcceptedToken(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	for i := 0; i < 105; i++ {
		e.post(t, fmt.Sprintf("Token garbage-%04d-0123456789", i), fmt.Sprintf("query Garbage%d { workspaces { id } }", i), nil)
		e.post(t, fmt.Sprintf("Token garbage-%04d-0123456789", i), fmt.Sprintf("query Typename%d { __typename }", i), nil)
	}
	if _, resp := e.post(t, "Token "+tokA, "query Real { workspaces { id } }", nil); len(resp.Errors) != 0 {
		t.Fatal(resp.Errors)
	}
	_, raw := e.scrape(t)
	if !strings.Contains(raw, `operation="Real"`) {
		t.Error("an accepted token's operation is not named")
	}
	if strings.Contains(raw, `operation="Garbage0"`) || strings.Contains(raw, `operation="Typename0"`) {
		t.Error("an operation name of a rejected or unchecked token was admitted")
	}
}

// TestConcurrentRenameIsAConflict: SeaTable's update addresses a base by
// workspace and name; when a concurrent rename gives that name to another
// base between the read and the write, SeaTable changes the other base,
// and the mutation must say so instead of claiming success.
func TestConcurrentRenameIsAConflict(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	var once sync.Once
	e.fake.SetHook(func(_ http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut {
			once.Do(func() {
				// Another client: "he" -> "tmp", then "hello" -> "he".
				if err := e.fake.Rename(tokA, "1", "he", "tmp"); err != nil {
					t.Error(err)
				}
				if err := e.fake.Rename(tokA, "1", "hello", "he"); err != nil {
					t.Error(err)
				}
			})
		}
		return false
	})
	_, resp := e.post(t, "Token "+tokA, `mutation { updateDTable(input: {uuid: "951b925d00634fd296a87db3694a286f", newName: "Gamma"}) { dtable { uuid name } } }`, nil)
	if firstCode(resp) != "CONFLICT" || !strings.Contains(resp.Errors[0].Message, "951b925d-0063-4fd2-96a8-7db3694a286f") {
		t.Fatalf("want CONFLICT naming the base, got %+v, data %s", resp.Errors, resp.Data)
	}
}

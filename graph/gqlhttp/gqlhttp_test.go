package gqlhttp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// fixed is a stand-in for gqlgen: it answers with a given status and body.
func fixed(status int, contentType, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", contentType)
		if status != 200 {
			w.WriteHeader(status)
		}
		_, _ = io.WriteString(w, body)
	})
}

func serve(h http.Handler, method, target, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestStatusRewrites(t *testing.T) {
	const reqErr = `{"errors":[{"message":"x","extensions":{"code":"GRAPHQL_PARSE_FAILED"}}],"data":null}`
	cases := []struct {
		name                 string
		next                 http.Handler
		method, target, body string
		wantStatus           int
		wantBody, wantAllow  string
	}{
		{"request error as application/json -> 200", fixed(422, MediaJSON, reqErr), "POST", "/graphql", `{"query":"{"}`, 200, `{"errors":[{"message":"x","extensions":{"code":"GRAPHQL_PARSE_FAILED"}}]}`, ""},
		{"request error as graphql-response+json stays 400", fixed(400, MediaGraphQLResponse, reqErr), "POST", "/graphql", `{"query":"{"}`, 400, `{"errors":[{"message":"x","extensions":{"code":"GRAPHQL_PARSE_FAILED"}}]}`, ""},
		{"mutation over GET -> 405", fixed(406, MediaJSON, `{"errors":[{"message":"GET requests only allow query operations"}],"data":null}`), "GET", "/graphql?query=mutation%7Bx%7D", "", 405, `{"errors":[{"message":"GET requests only allow query operations","extensions":{"code":"BAD_USER_INPUT"}}]}`, "POST"},
		{"success passes through untouched", fixed(200, MediaJSON, `{"data":null,"errors":[]}`), "POST", "/graphql", `{"query":"{a}"}`, 200, `{"data":null,"errors":[]}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(Handler(tc.next, Options{}), tc.method, tc.target, MediaJSON, tc.body)
			if rec.Code != tc.wantStatus || strings.TrimSpace(rec.Body.String()) != tc.wantBody || rec.Header().Get("Allow") != tc.wantAllow {
				t.Fatalf("got %d %q Allow=%q, want %d %q Allow=%q", rec.Code, rec.Body, rec.Header().Get("Allow"), tc.wantStatus, tc.wantBody, tc.wantAllow)
			}
		})
	}
}

func TestRequestDeadline(t *testing.T) {
	var left time.Duration
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := r.Context().Deadline()
		if ok {
			left = time.Until(d)
		}
	}), Options{RequestTimeout: time.Minute})
	serve(h, "POST", "/graphql", MediaJSON, `{"query":"{a}"}`)
	if left <= 50*time.Second || left > time.Minute {
		t.Fatalf("deadline in %v, want about a minute", left)
	}
}

func TestCheckParams(t *testing.T) {
	for body, want := range map[string]string{
		`{"query":"{a}"}`: "",
		`{"query":"{a}","operationName":null,"variables":null,"extensions":null}`: "",
		`{"query":"{a}","operationName":"A","variables":{"x":1},"extensions":{}}`: "",
		`{"query":""}`:    "query must be a non-empty string",
		`{"qeury":"{a}"}`: "query must be a non-empty string",
		`{"query":1}`:     "query must be a string",
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`: "",
		`{"query":null,"extensions":{"persistedQuery":{"version":1}}}`:      "",
		`{"extensions":{"persistedQuery":true}}`:                            "query must be a non-empty string",
		`{"query":"{a}","variables":[1]}`:                                   "variables and extensions must be JSON objects",
		`{"query":"{a}","extensions":"x"}`:                                  "variables and extensions must be JSON objects",
		`{"query":"{a}","operationName":1}`:                                 "operationName must be a string",
		`"query"`:                                                           "request body must be a JSON object",
		`{"query":"{a}"`:                                                    "request body is not valid JSON",
		"  ":                                                                "empty request body",
		"{\"query\":\"\xc3\x28\"}":                                          "not valid UTF-8",
		`{"query":"{a}"}` + "\n":                                            "",
		`{"query":"{a}"}{"query":"{b}"}`:                                    "request body has data after the JSON object",
		`{"query":"{a}","variables":{"x":1}}`:                               "",
	} {
		if _, got := checkParams([]byte(body), 0); !strings.Contains(got, want) || (want == "" && got != "") {
			t.Errorf("%q: %q, want %q", body, got, want)
		}
	}
}

func TestGETParams(t *testing.T) {
	h := Handler(fixed(200, MediaJSON, `{"data":{}}`), Options{})
	for target, want := range map[string]int{
		"/graphql?query=%7Ba%7D": 200,
		"/graphql":               400,
		"/graphql?query=%7Ba%7D&variables=%5B1%5D":                                         400,
		"/graphql?extensions=%7B%22persistedQuery%22%3A%7B%22version%22%3A1%7D%7D":         200,
		"/graphql?query=%7Ba%7D&extensions=%7B%22persistedQuery%22%3A%7B%22version%22%3A1": 400,
	} {
		if rec := serve(h, "GET", target, "", ""); rec.Code != want {
			t.Errorf("GET %s: %d %s, want %d", target, rec.Code, rec.Body, want)
		}
	}
}

func TestResponseType(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                  MediaJSON,
		"*/*":                               MediaJSON,
		"application/graphql-response+json": MediaGraphQLResponse,
		"application/graphql-response+json, application/json;q=0.9": MediaGraphQLResponse,
		"application/json, application/graphql-response+json":       MediaJSON,
		"text/html": MediaGraphQLResponse,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		if got := ResponseType(r); got != want {
			t.Errorf("Accept %q: %s, want %s", accept, got, want)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	h := Handler(fixed(200, MediaJSON, `{"data":{}}`), Options{MaxBodyBytes: 1024})
	body := `{"query":"{a}","variables":{"pad":"` + strings.Repeat("x", 990) + `"}}`
	if rec := serve(h, "POST", "/graphql", MediaJSON, body); rec.Code != 413 || !strings.Contains(rec.Body.String(), "exceeds the limit of 1024 bytes") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if rec := serve(h, "POST", "/graphql", MediaJSON, body[:len(body)-30]+`"}}`); rec.Code != 200 {
		t.Fatalf("under the limit: %d %s", rec.Code, rec.Body)
	}
}

// A query over MaxQueryBytes is refused with 413 before gqlgen sees it, over
// POST and GET alike; one at the limit passes.
func TestMaxQueryBytes(t *testing.T) {
	h := Handler(fixed(200, MediaJSON, `{"data":{}}`), Options{MaxQueryBytes: 16})
	atLimit, over := "{a                }"[:16], "{a                }"[:17]
	for q, want := range map[string]int{atLimit: 200, over: 413} {
		body, _ := json.Marshal(map[string]string{"query": q})
		rec := serve(h, "POST", "/graphql", MediaJSON, string(body))
		if rec.Code != want {
			t.Errorf("POST %d bytes: %d %s, want %d", len(q), rec.Code, rec.Body, want)
		}
		if want == 413 && !strings.Contains(rec.Body.String(), "query exceeds the limit of 16 bytes") {
			t.Errorf("413 body: %s", rec.Body)
		}
		if rec := serve(h, "GET", "/graphql?query="+url.QueryEscape(q), "", ""); rec.Code != want {
			t.Errorf("GET %d bytes: %d, want %d", len(q), rec.Code, want)
		}
	}
}

// TestStrictParams: parameter names are exact and appear once (gqlgen's
// encoding/json would match "QUERY" and let a later duplicate win).
func TestStrictParams(t *testing.T) {
	for body, want := range map[string]string{
		`{"query":"{a}","QUERY":"{b}"}`:                 "case-sensitive",
		`{"query":"{a}","query":"{b}"}`:                 "query twice",
		`{"Variables":{},"query":"{a}"}`:                "case-sensitive",
		`{"query":"{a}","variables":{},"variables":{}}`: "variables twice",
		`{"query":"{a}","other":1,"other":2}`:           "",
	} {
		if _, got := checkParams([]byte(body), 0); !strings.Contains(got, want) || (want == "" && got != "") {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
}

// Streams (a WebSocket upgrade, an SSE POST) get no request deadline, reach
// gqlgen with the writer unwrapped (SSE needs http.Flusher, WebSocket the
// hijacker), and an SSE POST still gets the body checks.
func TestStreamsPassThrough(t *testing.T) {
	var hadDeadline, flusher bool
	var calls int
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		_, hadDeadline = r.Context().Deadline()
		_, flusher = w.(http.Flusher)
	})
	h := Handler(next, Options{RequestTimeout: time.Minute, MaxBodyBytes: 1 << 10})

	up := httptest.NewRequest("GET", "/graphql", nil)
	up.Header.Set("Upgrade", "websocket")
	h.ServeHTTP(httptest.NewRecorder(), up)
	if calls != 1 || hadDeadline || !flusher {
		t.Fatalf("upgrade: calls %d, deadline %v, flusher %v", calls, hadDeadline, flusher)
	}

	sse := func(body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/graphql", strings.NewReader(body))
		r.Header.Set("Content-Type", MediaJSON)
		r.Header.Set("Accept", "text/event-stream")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	if rec := sse(`{"query":"subscription{a}"}`); rec.Code != 200 || calls != 2 || hadDeadline || !flusher {
		t.Fatalf("sse: %d, calls %d, deadline %v, flusher %v", rec.Code, calls, hadDeadline, flusher)
	}
	if rec := sse(`{"query":` + strings.Repeat(" ", 2<<10) + `"x"}`); rec.Code != http.StatusRequestEntityTooLarge || calls != 2 {
		t.Fatalf("oversized sse body: %d, calls %d", rec.Code, calls)
	}
	if rec := sse(`[1]`); rec.Code != http.StatusBadRequest || calls != 2 {
		t.Fatalf("bad sse body: %d, calls %d", rec.Code, calls)
	}
}

// TestBatchDecodeStopsAtMaxBatch: a batch array is decoded element by
// element and refused at element MaxBatch+1, so what follows is never
// read: here it is not even JSON, and the answer still names MAX_BATCH.
func TestBatchDecodeStopsAtMaxBatch(t *testing.T) {
	body := "[" + strings.Repeat(`{"query":"{a}"},`, 11) + strings.Repeat("x", 1<<20) + "]"
	start := time.Now()
	rec := serve(Handler(fixed(200, MediaJSON, `{"data":{}}`), Options{MaxBatch: 10}), "POST", "/graphql", MediaJSON, body)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "at most 10 operations (MAX_BATCH)") {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	t.Logf("refused in %v", time.Since(start))
}

// TestBatchAnswersShareResponseBytes: each element runs with what
// the earlier ones left of MaxResponseBytes, and an answer over it (one
// the GraphQL layer did not bound, such as a replay) is replaced by an
// error naming the limit.
func TestBatchAnswersShareResponseBytes(t *testing.T) {
	var lefts []int64
	big := `{"data":{"a":"` + strings.Repeat("x", 1100) + `"}}`
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		left, max := ResponseLimit(r.Context())
		if max != 2048 {
			t.Errorf("max = %d", max)
		}
		lefts = append(lefts, left)
		w.Header().Set("Content-Type", MediaJSON)
		_, _ = io.WriteString(w, big)
	})
	item := `{"query":"{a}"}`
	rec := serve(Handler(next, Options{MaxBatch: 10, MaxResponseBytes: 2048}), "POST", "/graphql", MediaJSON, "["+strings.Repeat(item+",", 4)+item+"]")
	var out []struct {
		Errors []errorEntry `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out) != 5 {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	for i, r := range out {
		over := len(r.Errors) > 0 && strings.Contains(r.Errors[0].Message, "MAX_RESPONSE_BYTES")
		if over != (i >= 1) {
			t.Fatalf("answer %d over the limit: %v, want %v (%s)", i, over, i >= 1, rec.Body)
		}
	}
	if len(lefts) < 2 || lefts[0] != 2048 || lefts[1] >= lefts[0] {
		t.Fatalf("limits handed to the operations: %v", lefts)
	}
	if rec.Body.Len() > 2048+512 {
		t.Fatalf("batch answer of %d bytes", rec.Body.Len())
	}
}

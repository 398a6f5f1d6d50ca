package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// refusalCase is one way a request is answered with an error envelope
// without reaching a resolver (or, for the last ones, with a resolver
// refused by a limit): what it sends, and what a client sees.
type refusalCase struct {
	name    string
	env     string // which environment of refusalEnvs serves it
	method  string
	target  string // path and query
	header  http.Header
	body    string
	prepare func(t *testing.T, e *testEnv) // before the request (a request to use a budget, shutdown)
	element int                            // in a batch's answer, the element to read
	// What the client sees: status, the first error's code and message,
	// and the headers that tell it what to do next.
	status                 int
	code, message, header2 string // header2: "Name: value" that must be set
	mediaType              string
}

// refusalEnvs are the configurations the refusal cases need.
func refusalEnvs(t *testing.T) map[string]*testEnv {
	manifest := writeManifest(t, map[string]string{sha256hex(trustedList): trustedList})
	envs := map[string]*testEnv{
		"limits": newTestEnv(t, withEnv("MAX_BODY_BYTES", "4096", "MAX_QUERY_BYTES", "1024", "MAX_BATCH", "2",
			"MAX_BATCH_TOKENS", "12", "MAX_RESPONSE_BYTES", "1024")),
		"nobatch": newTestEnv(t, withEnv("MAX_BATCH", "0")),
		"trusted": newTestEnv(t, withEnv("TRUSTED_DOCUMENTS", manifest, "TRUSTED_DOCUMENTS_ONLY", "true")),
		"rate":    newTestEnv(t, withEnv("RATE_LIMIT", "1", "RATE_BURST", "1")),
		"live":    newTestEnv(t),
	}
	for _, e := range envs {
		e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	}
	return envs
}

func refusalCases() []refusalCase {
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	gqlResp := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/graphql-response+json"}}
	long := `{"query":"{ ` + strings.Repeat("__typename ", 100) + `}"}`
	return []refusalCase{
		// graph/gqlhttp: the request is not a GraphQL-over-HTTP request.
		{name: "PUT", env: "limits", method: http.MethodPut, body: `{}`, header: jsonCT,
			status: 405, code: "BAD_USER_INPUT", message: "method not allowed: use POST (or GET for queries)", header2: "Allow: GET, POST, OPTIONS", mediaType: "application/json"},
		{name: "POST without Content-Type", env: "limits", method: http.MethodPost, body: `{"query":"{ __typename }"}`,
			status: 415, code: "BAD_USER_INPUT", message: "missing Content-Type: send application/json", mediaType: "application/json"},
		{name: "POST text/plain", env: "limits", method: http.MethodPost, body: `{"query":"{ __typename }"}`, header: http.Header{"Content-Type": {"text/plain"}},
			status: 415, code: "BAD_USER_INPUT", message: "unsupported Content-Type: send application/json", mediaType: "application/json"},
		{name: "POST latin1", env: "limits", method: http.MethodPost, body: `{"query":"{ __typename }"}`, header: http.Header{"Content-Type": {"application/json; charset=latin1"}},
			status: 415, code: "BAD_USER_INPUT", message: "unsupported charset: send utf-8", mediaType: "application/json"},
		{name: "body too large", env: "limits", method: http.MethodPost, body: `{"query":"{ __typename }","x":"` + strings.Repeat("x", 5000) + `"}`, header: jsonCT,
			status: 413, code: "BAD_USER_INPUT", message: "request body exceeds the limit of 4096 bytes", mediaType: "application/json"},
		{name: "query too large", env: "limits", method: http.MethodPost, body: long, header: jsonCT,
			status: 413, code: "BAD_USER_INPUT", message: "query exceeds the limit of 1024 bytes", mediaType: "application/json"},
		{name: "empty body", env: "limits", method: http.MethodPost, body: ``, header: jsonCT,
			status: 400, code: "BAD_USER_INPUT", message: `empty request body: send {"query": "..."}`, mediaType: "application/json"},
		{name: "not JSON", env: "limits", method: http.MethodPost, body: `{"query":`, header: jsonCT,
			status: 400, code: "BAD_USER_INPUT", message: "request body is not valid JSON", mediaType: "application/json"},
		{name: "query twice", env: "limits", method: http.MethodPost, body: `{"query":"{ a }","query":"{ b }"}`, header: gqlResp,
			status: 400, code: "BAD_USER_INPUT", message: "request body has query twice", mediaType: "application/graphql-response+json"},
		{name: "GET without query", env: "limits", method: http.MethodGet, target: "/graphql?x=1",
			status: 400, code: "BAD_USER_INPUT", message: "missing query parameter", mediaType: "application/json"},
		{name: "GET variables not an object", env: "limits", method: http.MethodGet, target: "/graphql?query=%7B__typename%7D&variables=1",
			status: 400, code: "BAD_USER_INPUT", message: "variables must be a JSON object", mediaType: "application/json"},
		{name: "GET bad escape", env: "limits", method: http.MethodGet, target: "/graphql?query=%7B__typename%7D&x=%zz",
			status: 400, code: "BAD_USER_INPUT", message: `invalid URL escape "%zz"`},
		{name: "GET mutation", env: "limits", method: http.MethodGet, target: "/graphql?query=" + url.QueryEscape(`mutation { __typename }`),
			status: 405, code: "BAD_USER_INPUT", message: "GET requests only allow query operations", header2: "Allow: POST", mediaType: "application/json"},
		{name: "GET mutation, graphql-response", env: "limits", method: http.MethodGet, target: "/graphql?query=" + url.QueryEscape(`mutation { __typename }`),
			header: http.Header{"Accept": {"application/graphql-response+json"}},
			status: 405, code: "BAD_USER_INPUT", message: "GET requests only allow query operations", header2: "Allow: POST", mediaType: "application/graphql-response+json"},
		// gqlgen: the document does not parse or validate.
		{name: "parse error", env: "limits", method: http.MethodPost, body: `{"query":"{"}`, header: jsonCT,
			status: 200, code: "GRAPHQL_PARSE_FAILED", message: "Expected Name, found <EOF>", mediaType: "application/json"},
		{name: "parse error, graphql-response", env: "limits", method: http.MethodPost, body: `{"query":"{"}`, header: gqlResp,
			status: 400, code: "GRAPHQL_PARSE_FAILED", message: "Expected Name, found <EOF>", mediaType: "application/graphql-response+json"},
		{name: "validation error", env: "limits", method: http.MethodPost, body: `{"query":"{ nope }"}`, header: jsonCT,
			status: 200, code: "GRAPHQL_VALIDATION_FAILED", message: `Cannot query field "nope" on type "Query". Did you mean "node" or "nodes"?`, mediaType: "application/json"},
		{name: "@defer without a stream", env: "limits", method: http.MethodPost, body: `{"query":"{ ... @defer { __typename } }"}`, header: jsonCT,
			status: 200, code: "BAD_USER_INPUT", message: `@defer needs a streamed answer: send the query by POST with "Accept: multipart/mixed" (Apollo Client, urql) or "Accept: text/event-stream"`, mediaType: "application/json"},
		{name: "APQ hash unknown", env: "limits", method: http.MethodPost, body: `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("a", 64) + `"}}}`, header: jsonCT,
			status: 200, code: "PERSISTED_QUERY_NOT_FOUND", message: "PersistedQueryNotFound", mediaType: "application/json"},
		{name: "answer too large", env: "limits", method: http.MethodPost, body: `{"query":"{ a: workspaces { name tables { name uuid } } b: workspaces { name tables { name uuid } } c: workspaces { name tables { name uuid } } }"}`, header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Token " + tokA}},
			status: 200, code: "BAD_USER_INPUT", message: "the answer exceeds the limit of 1024 bytes (MAX_RESPONSE_BYTES, for one answer and for a batch's answers together): select fewer fields, or page with dtables(first:)", mediaType: "application/json"},
		// Batches: the array, and one element refused without running.
		{name: "batch turned off", env: "nobatch", method: http.MethodPost, body: `[{"query":"{ __typename }"}]`, header: jsonCT,
			status: 400, code: "BAD_USER_INPUT", message: "batched requests (a JSON array) are turned off (MAX_BATCH=0): send one operation per request", mediaType: "application/json"},
		{name: "batch too long", env: "limits", method: http.MethodPost, body: `[{"query":"{ __typename }"},{"query":"{ __typename }"},{"query":"{ __typename }"}]`, header: jsonCT,
			status: 400, code: "BAD_USER_INPUT", message: "a batch holds at most 2 operations (MAX_BATCH), this one has more", mediaType: "application/json"},
		{name: "batch element too many tokens", env: "limits", method: http.MethodPost, body: `[{"query":"{ a b c d e f g h i j k l m n }"}]`, header: jsonCT,
			status: 200, code: "BAD_USER_INPUT", message: "the batch's queries hold more than 12 GraphQL tokens together (MAX_BATCH_TOKENS)", mediaType: "application/json"},
		{name: "batch element not a request", env: "limits", method: http.MethodPost, body: `[1]`, header: jsonCT,
			status: 200, code: "BAD_USER_INPUT", message: "request body must be a JSON object", mediaType: "application/json"},
		{name: "batch after SeaTable rejected the token", env: "limits", method: http.MethodPost, body: `[{"query":"{ workspaces { id } }"},{"query":"{ workspaces { id } }"}]`,
			header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Token not-a-seatable-token"}}, element: 1,
			status: 200, code: "UNAUTHENTICATED", message: "SeaTable rejected this token earlier in this batch", mediaType: "application/json"},
		// The caller.
		{name: "no token", env: "limits", method: http.MethodPost, body: `{"query":"{ workspaces { id } }"}`, header: jsonCT,
			status: 200, code: "UNAUTHENTICATED", mediaType: "application/json"},
		// graph/trusted: a document that is not trusted.
		{name: "untrusted document", env: "trusted", method: http.MethodPost, body: `{"query":"{ workspaces { id } }"}`, header: jsonCT,
			status: 400, code: "BAD_USER_INPUT", mediaType: "application/json"},
		{name: "unknown documentId", env: "trusted", method: http.MethodGet, target: "/graphql?documentId=" + strings.Repeat("b", 64),
			status: 200, code: "PERSISTED_QUERY_NOT_FOUND", mediaType: "application/json"},
		{name: "documentId with another query", env: "trusted", method: http.MethodPost, body: `{"documentId":"` + sha256hex(trustedList) + `","query":"{ __typename }"}`, header: jsonCT,
			status: 400, code: "BAD_USER_INPUT", mediaType: "application/json"},
		// app: rate limits and stream slots.
		{name: "rate limited", env: "rate", method: http.MethodPost, body: `{"query":"{ workspaces { id } }"}`,
			header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Token " + tokA}},
			prepare: func(t *testing.T, e *testEnv) {
				if status, r := e.post(t, "Token "+tokA, "{ workspaces { id } }", nil); status != 200 {
					t.Fatalf("first request: %d %+v", status, r)
				}
			},
			status: 429, code: "RATE_LIMITED", message: "rate limit reached: retry later", header2: "Retry-After: 1", mediaType: "application/json"},
		{name: "stream while shutting down (WebSocket)", env: "live", method: http.MethodGet,
			header:  http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Protocol": {"graphql-transport-ws"}},
			prepare: func(t *testing.T, e *testEnv) { e.app.EndStreams(context.Background()) },
			status:  503, code: "UPSTREAM_UNAVAILABLE", message: "server shutting down", header2: "Retry-After: 5", mediaType: "application/json"},
		{name: "stream while shutting down (SSE)", env: "live", method: http.MethodPost, body: `{"query":"subscription { workspaces { id } }"}`,
			header:  http.Header{"Content-Type": {"application/json"}, "Accept": {"text/event-stream"}, "Authorization": {"Token " + tokA}},
			prepare: func(t *testing.T, e *testEnv) { e.app.EndStreams(context.Background()) },
			status:  503, code: "UPSTREAM_UNAVAILABLE", message: "server shutting down", header2: "Retry-After: 5"},
	}
}

// refusalGolden is what a refusal looked like on the wire when the golden
// file was written: the bytes a client reads.
type refusalGolden struct {
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"`
}

// TestRefusals walks every way a request is refused before (or instead of)
// running, one envelope per case: the status, the first error's code and
// message, the header that tells the client what to do next, and the
// exact bytes (app/testdata/refusals.golden.json; UPDATE_GOLDEN=1 rewrites
// it). Every envelope, whoever writes it, takes its code and status from
// apperr's table; this test is what keeps the bytes the same when the
// writers change.
func TestRefusals(t *testing.T) {
	envs := refusalEnvs(t)
	goldenPath := filepath.Join("testdata", "refusals.golden.json")
	golden := map[string]refusalGolden{}
	if raw, err := os.ReadFile(goldenPath); err == nil {
		if err := json.Unmarshal(raw, &golden); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]refusalGolden{}
	for _, c := range refusalCases() {
		t.Run(c.name, func(t *testing.T) {
			e := envs[c.env]
			if c.prepare != nil {
				c.prepare(t, e)
			}
			target := c.target
			if target == "" {
				target = "/graphql"
			}
			req, err := http.NewRequest(c.method, e.url+target, bytes.NewReader([]byte(c.body)))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got[c.name] = refusalGolden{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(raw)}

			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, c.status, raw)
			}
			if c.mediaType != "" && resp.Header.Get("Content-Type") != c.mediaType+"; charset=utf-8" && resp.Header.Get("Content-Type") != c.mediaType {
				t.Errorf("Content-Type %q, want %s", resp.Header.Get("Content-Type"), c.mediaType)
			}
			if c.header2 != "" {
				name, value, _ := strings.Cut(c.header2, ": ")
				if resp.Header.Get(name) != value {
					t.Errorf("%s: %q, want %q", name, resp.Header.Get(name), value)
				}
			}
			var first struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			}
			body := bytes.TrimSpace(raw)
			if len(body) > 0 && body[0] == '[' {
				var answers []json.RawMessage
				if err := json.Unmarshal(body, &answers); err != nil || len(answers) <= c.element {
					t.Fatalf("batch answer %s", raw)
				}
				body = answers[c.element]
			}
			var r struct {
				Errors []json.RawMessage `json:"errors"`
			}
			if err := json.Unmarshal(body, &r); err != nil || len(r.Errors) == 0 {
				t.Fatalf("no errors in %s", raw)
			}
			_ = json.Unmarshal(r.Errors[0], &first)
			if code, _ := first.Extensions["code"].(string); code != c.code {
				t.Errorf("code %q, want %q: %s", code, c.code, raw)
			}
			if c.message != "" && first.Message != c.message {
				t.Errorf("message %q, want %q", first.Message, c.message)
			}
			if c.code == "RATE_LIMITED" && first.Extensions["retryAfter"] == nil {
				t.Errorf("RATE_LIMITED without retryAfter: %s", raw)
			}
			if w, ok := golden[c.name]; !ok {
				t.Errorf("no golden answer (UPDATE_GOLDEN=1 writes them)")
			} else if w != got[c.name] {
				t.Errorf("answer changed:\n got %d %s %s\nwant %d %s %s", got[c.name].Status, got[c.name].ContentType, got[c.name].Body, w.Status, w.ContentType, w.Body)
			}
		})
	}
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		raw, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(goldenPath, append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

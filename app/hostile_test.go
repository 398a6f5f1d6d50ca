package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// chunked hides a body's length, so the client sends it chunked.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

// TestHostileInput: abusive requests get a clear error with the right
// status, cost little, and never reach SeaTable.
func TestHostileInput(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	q := func(query string) []byte { b, _ := json.Marshal(map[string]any{"query": query}); return b }

	repeated := "{ workspaces { " + strings.Repeat("id ", 10000) + "} }" // ~30 KB, quadratic to validate
	depth := "{ workspaces " + strings.Repeat("{ tables { workspace ", 20) + "{ id }" + strings.Repeat(" } }", 20) + " }"
	var aliases strings.Builder
	aliases.WriteString("{ ")
	for i := range 60 {
		fmt.Fprintf(&aliases, "a%d: __typename ", i)
	}
	aliases.WriteString("}")
	var aliasFlood strings.Builder
	aliasFlood.WriteString("{ ")
	for i := range 5000 {
		fmt.Fprintf(&aliasFlood, "a%d: workspaces { id } ", i)
	}
	aliasFlood.WriteString("}")
	var explode strings.Builder
	explode.WriteString("query { workspaces { ...F0 } }\n")
	for i := range 30 {
		fmt.Fprintf(&explode, "fragment F%d on Workspace { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	explode.WriteString("fragment F30 on Workspace { id }")
	wide := "{ workspaces { tables { workspace { tables { workspace { tables { workspace { tables { id } } } } } } } } }"
	cycle := "{ workspaces { ...A } } fragment A on Workspace { tables { workspace { ...A } } }"
	hugeVars := []byte(`{"query":"query($id: ID!) { workspace(id: $id) { id } }","variables":{"id":"1","junk":"` + strings.Repeat("x", 2<<20) + `"}}`)
	nestedVars := []byte(`{"query":"query($id: ID!) { workspace(id: $id) { id } }","variables":{"id":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`)
	tenMiB := bytes.Repeat([]byte(" "), 10<<20)

	cases := []struct {
		name        string
		method      string
		contentType string
		body        []byte
		chunked     bool
		wantStatus  int
		wantCode    string
		wantMsg     string
	}{
		{"malformed JSON", "POST", "application/json", []byte(`{"query": "{ workspaces { id } }"`), false, 400, "BAD_USER_INPUT", "not valid JSON"},
		{"empty batch", "POST", "application/json", []byte(`[]`), false, 400, "BAD_USER_INPUT", "empty batch"},
		{"batch over MAX_BATCH", "POST", "application/json", []byte("[" + strings.Repeat(`{"query":"{ __typename }"},`, 10) + `{"query":"{ __typename }"}]`), false, 400, "BAD_USER_INPUT", "at most 10 operations"},
		{"batch not JSON", "POST", "application/json", []byte(`[{"query":"{ __typename }"}`), false, 400, "BAD_USER_INPUT", "not valid JSON"},
		{"query is not a string", "POST", "application/json", []byte(`{"query": {"a": 1}}`), false, 400, "BAD_USER_INPUT", "query must be a string"},
		{"trailing garbage", "POST", "application/json", []byte(`{"query":"{ __typename }"} {"x":1}`), false, 400, "BAD_USER_INPUT", "data after the JSON object"},
		{"non-UTF-8", "POST", "application/json", []byte("{\"query\":\"{ workspace(id: \\\"\xff\xfe\\\") { id } }\"}"), false, 400, "BAD_USER_INPUT", "not valid UTF-8"},
		{"30 KB of repeated fields", "POST", "application/json", q(repeated), false, 400, "GRAPHQL_PARSE_FAILED", "token limit"},
		{"depth bomb (41 levels)", "POST", "application/json", q(depth), false, 400, "GRAPHQL_VALIDATION_FAILED", "levels deep"},
		{"alias bomb (60 aliases)", "POST", "application/json", q(aliases.String()), false, 400, "GRAPHQL_VALIDATION_FAILED", "aliases"},
		{"alias flood (5000 aliased lists)", "POST", "application/json", q(aliasFlood.String()), false, 413, "BAD_USER_INPUT", "query exceeds the limit"}, // MAX_QUERY_BYTES, before the token limit,
		{"fragment cycle", "POST", "application/json", q(cycle), false, 400, "GRAPHQL_VALIDATION_FAILED", "Cannot spread fragment"},
		{"fragment explosion (2^30 fields)", "POST", "application/json", q(explode.String()), false, 400, "GRAPHQL_VALIDATION_FAILED", "fields once fragments are expanded"},
		{"complexity (nested lists)", "POST", "application/json", q(wide), false, 400, "GRAPHQL_VALIDATION_FAILED", "complexity"},
		{"huge variables (2 MiB)", "POST", "application/json", hugeVars, false, 413, "BAD_USER_INPUT", "exceeds the limit"},
		{"deeply nested variables", "POST", "application/json", nestedVars, false, 400, "BAD_USER_INPUT", "not valid JSON"},
		{"text/plain", "POST", "text/plain", q("{ __typename }"), false, 415, "BAD_USER_INPUT", "Content-Type"},
		{"form-urlencoded", "POST", "application/x-www-form-urlencoded", []byte("query=%7B__typename%7D"), false, 415, "BAD_USER_INPUT", "Content-Type"},
		{"multipart", "POST", "multipart/form-data; boundary=x", []byte("--x--"), false, 415, "BAD_USER_INPUT", "Content-Type"},
		{"no Content-Type", "POST", "", q("{ __typename }"), false, 415, "BAD_USER_INPUT", "Content-Type"},
		{"latin1 charset", "POST", "application/json; charset=iso-8859-1", q("{ __typename }"), false, 415, "BAD_USER_INPUT", "charset"},
		{"10 MiB body", "POST", "application/json", tenMiB, false, 413, "BAD_USER_INPUT", "exceeds the limit of 1048576 bytes"},
		{"10 MiB chunked body", "POST", "application/json", tenMiB, true, 413, "BAD_USER_INPUT", "exceeds the limit"},
		{"empty body", "POST", "application/json", nil, false, 400, "BAD_USER_INPUT", "empty request body"},
		{"PUT", "PUT", "application/json", q("{ __typename }"), false, 405, "BAD_USER_INPUT", "method not allowed"},
	}
	var table []string
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.fake.ResetCounts()
			var body io.Reader = bytes.NewReader(tc.body)
			if tc.chunked {
				body = chunked{bytes.NewReader(tc.body)}
			}
			target := e.url + "/graphql"
			req, _ := http.NewRequest(tc.method, target, body)
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			req.Header.Set("Accept", "application/graphql-response+json")
			req.Header.Set("Authorization", "Token "+tokA)
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("request failed: %v", err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out gqlResponse
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("%d: body is not GraphQL JSON: %.200s", resp.StatusCode, raw)
			}
			table = append(table, fmt.Sprintf("| %s | %d | %s | %v |", tc.name, resp.StatusCode, codes(out.Errors), elapsed.Round(100*time.Microsecond)))
			if resp.StatusCode != tc.wantStatus || len(out.Errors) == 0 || code(out.Errors[0]) != tc.wantCode || !strings.Contains(out.Errors[0].Message, tc.wantMsg) {
				t.Fatalf("got %d %.300s; want %d %s %q", resp.StatusCode, raw, tc.wantStatus, tc.wantCode, tc.wantMsg)
			}
			if out.Data != nil {
				t.Errorf("request error carries a data entry: %s", out.Data)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/graphql-response+json") {
				t.Errorf("Content-Type %q", ct)
			}
			if len(raw) > 2048 {
				t.Errorf("error response is %d bytes: it must not echo the request", len(raw))
			}
			// Generous for a loaded 2-core CI machine; real figures are in the log.
			if elapsed > 2*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if e.fake.Calls() != 0 {
				t.Errorf("a rejected request reached SeaTable")
			}
		})
	}
	t.Logf("hostile input (case | status | code | time):\n%s", strings.Join(table, "\n"))
	e.mustBeHealthy(t)
}

// TestLimitsAreConfigurable: each limit follows its setting, and the
// defaults accept the realistic composite query.
func TestLimitsAreConfigurable(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	var data map[string]json.RawMessage
	e.mustData(t, "Token "+tokA, compositeQuery(), &data)

	cases := []struct {
		env      []string
		query    string
		wantCode string
		wantMsg  string
	}{
		{[]string{"MAX_DEPTH", "2"}, `{ workspaces { tables { name } } }`, "GRAPHQL_VALIDATION_FAILED", "nested 3 levels deep; the limit is 2"},
		{[]string{"MAX_ALIASES", "1"}, `{ a: workspaces { id } b: workspaces { id } }`, "GRAPHQL_VALIDATION_FAILED", "more than 1 aliases"},
		{[]string{"MAX_COMPLEXITY", "20"}, `{ workspaces { id name } }`, "GRAPHQL_VALIDATION_FAILED", "complexity 21; the limit is 20"},
		{[]string{"MAX_COMPLEXITY", "50", "COMPLEXITY_LIST_SIZE", "2"}, `{ workspaces { tables { id name } } }`, "", ""},
		{[]string{"MAX_TOKENS", "5"}, `{ workspaces { id name } }`, "GRAPHQL_PARSE_FAILED", "token limit"},
		{[]string{"INTROSPECTION", "false"}, `{ __schema { types { name } } }`, "GRAPHQL_VALIDATION_FAILED", "introspection is disabled"},
		{[]string{"INTROSPECTION", "false"}, `{ workspaces { nam } }`, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "nam" on type "Workspace".`},
		{[]string{"INTROSPECTION", "false"}, `{ __typename }`, "", ""},
		{[]string{"INTROSPECTION", "true"}, `{ __schema { queryType { name } } }`, "", ""},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.env, "=")+" "+tc.query, func(t *testing.T) {
			e := newTestEnv(t, withEnv(tc.env...))
			e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
			_, resp := e.post(t, "Token "+tokA, tc.query, nil)
			if tc.wantCode == "" {
				if len(resp.Errors) != 0 {
					t.Fatalf("errors %+v, want none", resp.Errors)
				}
				return
			}
			if len(resp.Errors) != 1 || code(resp.Errors[0]) != tc.wantCode || !strings.HasSuffix(strings.TrimSpace(resp.Errors[0].Message), "") || !strings.Contains(resp.Errors[0].Message, tc.wantMsg) {
				t.Fatalf("errors %+v, want %s %q", resp.Errors, tc.wantCode, tc.wantMsg)
			}
			if strings.Contains(resp.Errors[0].Message, "Did you mean") {
				t.Errorf("suggestion leaks the schema with introspection off: %q", resp.Errors[0].Message)
			}
		})
	}
}

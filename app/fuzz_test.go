package app

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// FuzzGraphQLHandler sends arbitrary bodies to /graphql through the real
// handler (against the fake SeaTable): every answer must be a GraphQL JSON
// response with a sensible status, never a 5xx, a panic or an echo of the
// token. Seeds: testdata/fuzz/FuzzGraphQLHandler.
func FuzzGraphQLHandler(f *testing.F) {
	const token = "fuzz-token-7c1e0f3b9a"
	e := newTestEnv(f, withEnv("UPSTREAM_TIMEOUT", "2s"))
	e.fake.SetToken(token, fakeseatable.Fixture(fakeseatable.Demo))
	f.Add([]byte(`{"query":"{ workspaces { id name tables { uuid name workspace { id } } } }"}`))
	// Inside a base: paging rows with cursors (more in the corpus).
	f.Add([]byte(`{"query":"{ dtable(uuid: \"b406b9ba-b74e-49c8-aa4e-5567076e5c25\") { table(name: \"Projects\") { rows(first: 5) { edges { cursor node { id values } } pageInfo { hasNextPage endCursor } } } } }"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Token "+token)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		type response struct {
			Data   json.RawMessage  `json:"data"`
			Errors []map[string]any `json:"errors"`
		}
		var answers []response
		if out := bytes.TrimSpace(rec.Body.Bytes()); rec.Code == 200 && len(out) > 0 && out[0] == '[' {
			// A batch: one answer per operation, each held to the same rules.
			if err := json.Unmarshal(out, &answers); err != nil || len(answers) == 0 {
				t.Fatalf("batch answer not a JSON array of responses (%v): %s", err, rec.Body)
			}
		} else {
			var resp response
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("not JSON (%v): %s", err, rec.Body)
			}
			answers = append(answers, resp)
		}
		for _, resp := range answers {
			if resp.Data == nil && len(resp.Errors) == 0 {
				t.Fatalf("neither data nor errors: %s", rec.Body)
			}
			for _, ge := range resp.Errors {
				ext, _ := ge["extensions"].(map[string]any)
				if ext["code"] == "INTERNAL" {
					t.Fatalf("INTERNAL for %q: %s", body, rec.Body)
				}
			}
		}
		if strings.Contains(rec.Body.String(), token) && !bytes.Contains(body, []byte(token)) {
			t.Fatalf("token in response: %s", rec.Body)
		}
	})
}

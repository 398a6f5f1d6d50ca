package graph

import (
	"strings"
	"testing"
)

// TestNoDefer: @defer is neither advertised nor accepted, so no client can
// get a deferred null with "hasNext": true that never completes.
func TestNoDefer(t *testing.T) {
	h := newNodeServer(fixtureFetchers(t)["demo"])
	res := postQuery(t, h, `{ workspaces { id ... @defer { name } } }`, nil)
	if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(res.Errors[0].Message, `Unknown directive "@defer"`) {
		t.Errorf("@defer: %s %+v", res.Data, res.Errors)
	}
	res = postQuery(t, h, `{ __schema { directives { name } } }`, nil)
	if len(res.Errors) > 0 || strings.Contains(string(res.Data), `"defer"`) || !strings.Contains(string(res.Data), `"specifiedBy"`) {
		t.Errorf("introspected directives: %s %+v", res.Data, res.Errors)
	}
	res = postQuery(t, h, `{ __type(name: "DateTime") { specifiedByURL } }`, nil)
	if want := `{"__type":{"specifiedByURL":"https://scalars.graphql.org/andimarek/date-time"}}`; string(res.Data) != want {
		t.Errorf("DateTime: %s, want %s", res.Data, want)
	}
}

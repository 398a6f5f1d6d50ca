package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestEmptyStringArguments: Go clients (genqlient by default) send unset
// optional strings as "". An empty cursor is no cursor, as graphql-relay-js
// reads it; an empty id is the caller's mistake, named, without a SeaTable
// call, never a quiet null or an empty list.
func TestEmptyStringArguments(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))

	var want, got struct {
		Dtables struct {
			Edges []struct{ Node struct{ Name string } }
		}
	}
	e.mustData(t, "Token "+tokA, `{ dtables(first: 2) { edges { node { name } } } }`, &want)
	for _, q := range []string{
		`{ dtables(first: 2, after: "") { edges { node { name } } } }`,
		`query($a: String, $b: String) { dtables(first: 2, after: $a, before: $b) { edges { node { name } } } }`,
	} {
		status, resp := e.post(t, "Token "+tokA, q, map[string]any{"a": "", "b": ""})
		if status != http.StatusOK || len(resp.Errors) > 0 || json.Unmarshal(resp.Data, &got) != nil ||
			len(got.Dtables.Edges) != 2 || got.Dtables.Edges[0] != want.Dtables.Edges[0] || got.Dtables.Edges[1] != want.Dtables.Edges[1] {
			t.Errorf("%s: %d %s %+v, want the first page %+v", q, status, resp.Data, resp.Errors, want)
		}
	}
	var last struct {
		Dtables struct {
			Edges []struct{ Node struct{ Name string } }
		}
	}
	e.mustData(t, "Token "+tokA, `{ dtables(last: 1, before: "") { edges { node { name } } } }`, &last)
	if len(last.Dtables.Edges) != 1 {
		t.Errorf(`last: 1, before: "": %+v`, last)
	}

	for _, c := range []struct{ query, arg string }{
		{`{ dtableByName(workspaceId: "", name: "hello") { name } }`, "workspaceId"},
		{`{ dtable(uuid: "") { name } }`, "uuid"},
		{`{ node(id: "") { id } }`, "id"},
		{`{ nodes(ids: [""]) { id } }`, "ids"},
		{`{ workspace(id: "") { id } }`, "id"},
		{`{ dtables(filter: {workspaceId: ""}) { totalCount } }`, "filter.workspaceId"},
		{`{ workspaces { tables(filter: {workspaceId: ""}) { name } } }`, "filter.workspaceId"},
	} {
		e.fake.ResetCounts()
		status, resp := e.post(t, "Token "+tokA, c.query, nil)
		if status != http.StatusOK || len(resp.Errors) == 0 || code(resp.Errors[0]) != "BAD_USER_INPUT" ||
			!strings.HasPrefix(resp.Errors[0].Message, c.arg+" must not be empty") {
			t.Errorf("%s: %d %+v, want BAD_USER_INPUT naming %s", c.query, status, resp.Errors, c.arg)
		}
		if c.arg != "filter.workspaceId" || !strings.HasPrefix(c.query, "{ workspaces") {
			if n := e.fake.Calls(); n != 0 {
				t.Errorf("%s: %d SeaTable calls, want 0", c.query, n)
			}
		}
	}
}

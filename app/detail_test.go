package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestFieldAwareFetching checks which upstream call each query shape makes:
// detail=false when only summary fields of workspaces are selected,
// detail=true as soon as anything else is, and always exactly one call.
func TestFieldAwareFetching(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
	cases := []struct {
		name, query string
		wantDetail  string // "" = no upstream call
	}{
		{"Q3 summary", `{ workspaces { id name } }`, "false"},
		{"all summary fields", `{ workspaces { __typename id seatableId name type ownerName repoId groupId groupOwner isAdmin departmentId } }`, "false"},
		{"one workspace by global id", `{ workspace(id: "V29ya3NwYWNlOjE1") { id seatableId name } }`, "false"},
		{"node", `{ node(id: "V29ya3NwYWNlOjE1") { id } }`, "true"},
		{"one workspace", `{ workspace(id: "15") { id name isAdmin } }`, "false"},
		{"aliased summary lookups", `{ a: workspace(id: "12") { id name } b: workspace(id: "15") { type } }`, "false"},
		{"Q2 aliased lookups with bases", q2(), "true"},
		{"inline fragment", `{ workspaces { ... on Workspace { id name } } }`, "false"},
		{"named fragment", `query { workspaces { ...W } } fragment W on Workspace { id groupId }`, "false"},
		{"Q1 tables", `{ workspaces { id ownerName tables { name updatedAt } } }`, "true"},
		{"tables in a fragment", `query { workspaces { ...W } } fragment W on Workspace { id tables { uuid } }`, "true"},
		{"tables in an inline fragment", `{ workspace(id: "12") { id ... on Workspace { tables { name } } } }`, "true"},
		{"groupAdmins is not sent with detail=false", `{ workspaces { id groupAdmins } }`, "true"},
		{"groupMemberCount is not sent with detail=false", `{ workspaces { id groupMemberCount } }`, "true"},
		{"dtable", `{ dtable(uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924") { name } }`, "true"},
		{"dtable next to a summary", `{ workspaces { id } dtable(uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924") { name } }`, "true"},
		{"skipped tables still fetch detail", `{ workspaces { id tables @skip(if: true) { name } } }`, "true"},
		{"typename only", `{ __typename }`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.fake.ResetCounts()
			var data map[string]json.RawMessage
			e.mustData(t, "Token "+tokA, c.query, &data)
			reqs := e.fake.Requests()
			if c.wantDetail == "" {
				if len(reqs) != 0 {
					t.Fatalf("%d upstream calls, want none", len(reqs))
				}
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("%d upstream calls, want exactly 1", len(reqs))
			}
			if want := "detail=" + c.wantDetail; reqs[0].RawQuery != want {
				t.Errorf("upstream query %q, want %q", reqs[0].RawQuery, want)
			}
		})
	}
}

// TestSummaryFetchServesTheSameValues checks that detail=false answers the
// summary fields exactly as detail=true does.
func TestSummaryFetchServesTheSameValues(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
	var summary, full struct{ Workspaces []map[string]any }
	fields := `id name type groupId groupOwner isAdmin departmentId`
	e.mustData(t, "Token "+tokA, `{ workspaces { `+fields+` } }`, &summary)
	e.mustData(t, "Token "+tokA, `{ workspaces { `+fields+` tables { name } } }`, &full)
	if got := e.fake.Requests(); len(got) != 2 || got[0].RawQuery != "detail=false" || got[1].RawQuery != "detail=true" {
		t.Fatalf("upstream requests %+v", got)
	}
	if len(summary.Workspaces) != len(full.Workspaces) || len(summary.Workspaces) != 5 {
		t.Fatalf("%d vs %d workspaces", len(summary.Workspaces), len(full.Workspaces))
	}
	for i, ws := range summary.Workspaces {
		delete(full.Workspaces[i], "tables")
		a, _ := json.Marshal(ws)
		b, _ := json.Marshal(full.Workspaces[i])
		if string(a) != string(b) {
			t.Errorf("workspace %d: detail=false gave %s, detail=true %s", i, a, b)
		}
	}
}

// q2 is the load script's Q2 (bench/main.go): ten aliased workspace
// lookups with their bases.
func q2() string {
	var b strings.Builder
	b.WriteString("{")
	for i, id := range []string{"starred", "shared", "12", "15", "16", "1000", "1001", "1002", "1003", "404"} {
		fmt.Fprintf(&b, ` w%d: workspace(id: %q) { id name tables { name } }`, i, id)
	}
	b.WriteString(" }")
	return b.String()
}

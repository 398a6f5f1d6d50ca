package app

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/redistest"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// renameBehindTheServer renames a base the way SeaTable's own UI would:
// straight at SeaTable, so no cache of the facade hears of it.
func renameBehindTheServer(t *testing.T, fake *fakeseatable.Server, workspaceID, name, newName string) {
	t.Helper()
	form := url.Values{"name": {name}, "new_name": {newName}}
	req := httptest.NewRequest(http.MethodPut, "/api/v2.1/workspace/"+workspaceID+"/dtable/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Token "+tokA)
	rec := httptest.NewRecorder()
	fake.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("rename %q -> %q at the fake: %d %s", name, newName, rec.Code, rec.Body)
	}
}

// TestWritesNeverReachAnotherBase: with the response cache on, in one
// process and across two replicas sharing Redis, a base is renamed behind
// the server's back and another base takes its old name. A write to the
// first base's uuid must reach the first base: SeaTable addresses writes by
// name, and the cached name now belongs to the other base.
func TestWritesNeverReachAnotherBase(t *testing.T) {
	const oldName, newName = "CRM", "CRM (archived)"
	mutations := []struct {
		name, query string
		// method and form the write must carry: the base's current name.
		method string
		form   map[string]string
	}{
		{"update", `mutation { updateDTable(input: {uuid: "` + crmUUID + `", color: "#000000"}) { dtable { uuid } } }`,
			http.MethodPut, map[string]string{"name": newName, "color": "#000000"}},
		{"delete", `mutation { deleteDTable(input: {uuid: "` + crmUUID + `"}) { uuid } }`,
			http.MethodDelete, map[string]string{"name": newName}},
		{"copy", `mutation { copyDTable(input: {uuid: "` + crmUUID + `", dstWorkspaceId: "15"}) { dtable { name } } }`,
			http.MethodPost, map[string]string{"name": newName, "src_workspace_id": "12", "dst_workspace_id": "15"}},
	}
	for _, setup := range []string{"one process", "two replicas on redis"} {
		for _, m := range mutations {
			t.Run(setup+"/"+m.name, func(t *testing.T) {
				fake := fakeseatable.New()
				fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Current))
				reader := newTestEnv(t, withFake(fake), withCache(time.Minute))
				writer := reader
				if setup != "one process" {
					rs := redistest.Start(t)
					replica := func() *testEnv { return newTestEnv(t, withFake(fake), withCache(time.Minute), withRedis(rs)) }
					reader, writer = replica(), replica()
				}
				auth := http.Header{"Authorization": {"Token " + tokA}}
				list := `{ dtables(first: 100) { edges { node { uuid name color } } } }`
				// Both replicas hold the list with the old names.
				for _, e := range []*testEnv{reader, writer} {
					if r := e.postJSON(t, map[string]any{"query": list}, auth); len(r.Errors) != 0 || !strings.Contains(string(r.Data), `"name":"CRM"`) {
						t.Fatalf("warming the cache: %s %+v", r.Data, r.Errors)
					}
				}
				renameBehindTheServer(t, fake, "12", oldName, newName)
				renameBehindTheServer(t, fake, "12", "Travel", oldName)

				fake.SetRecordRequests(true)
				fake.ResetCounts()
				if r := writer.postJSON(t, map[string]any{"query": m.query}, auth); len(r.Errors) != 0 {
					t.Fatalf("mutation: %s %+v", r.Data, r.Errors)
				}
				var writes []fakeseatable.Request
				for _, r := range fake.Requests() {
					if r.Method != http.MethodGet {
						writes = append(writes, r)
					}
				}
				if len(writes) != 1 || writes[0].Method != m.method {
					t.Fatalf("writes %+v, want one %s", writes, m.method)
				}
				for k, v := range m.form {
					if got := writes[0].Form.Get(k); got != v {
						t.Errorf("write sent %s=%q, want %q (the base's name now)", k, got, v)
					}
				}
				// Travel, now called CRM, is untouched.
				fresh := http.Header{"Authorization": {"Token " + tokA}, "Cache-Control": {"no-cache"}}
				var after struct {
					Travel *struct{ Name, Color string } `json:"travel"`
				}
				r := reader.postJSON(t, map[string]any{"query": `{ travel: dtable(uuid: "` + travelUUID + `") { name color } }`}, fresh)
				decodeData(t, r, &after)
				if after.Travel == nil || after.Travel.Name != oldName || after.Travel.Color == "#000000" {
					t.Errorf("the other base was written to: %+v", after.Travel)
				}
			})
		}
	}
}

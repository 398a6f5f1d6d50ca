package app

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// deleteDTable and copyDTable address a base by workspace and name, and
// SeaTable's answer names no base, so a base that took the name in a
// concurrent rename cannot be caught afterwards. The list is read once
// more right before the write; when the name has moved to another base,
// the mutation is a CONFLICT and nothing is written. Before, the other
// base was deleted (or copied) and the mutation claimed success.
func TestDeleteAndCopyRefuseARenamedBase(t *testing.T) {
	const he = "951b925d00634fd296a87db3694a286f" // "he" in workspace 1 of the demo
	for _, tc := range []struct{ name, query, write string }{
		{"delete", `mutation { deleteDTable(input: {uuid: "` + he + `"}) { uuid name } }`, http.MethodDelete},
		{"copy", `mutation { copyDTable(input: {uuid: "` + he + `", dstWorkspaceId: "1"}) { dtable { uuid name } } }`, http.MethodPost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
			var lists, writes atomic.Int64
			var once sync.Once
			e.fake.SetHook(func(_ http.ResponseWriter, r *http.Request) bool {
				switch {
				case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/workspaces/"):
					if lists.Add(1) == 2 {
						once.Do(func() {
							// Another client, between the two reads:
							// "he" -> "tmp", then "hello" -> "he".
							if err := e.fake.Rename(tokA, "1", "he", "tmp"); err != nil {
								t.Error(err)
							}
							if err := e.fake.Rename(tokA, "1", "hello", "he"); err != nil {
								t.Error(err)
							}
						})
					}
				case r.Method == tc.write:
					writes.Add(1)
				}
				return false
			})
			_, resp := e.post(t, "Token "+tokA, tc.query, nil)
			if firstCode(resp) != "CONFLICT" || !strings.Contains(resp.Errors[0].Message, "951b925d-0063-4fd2-96a8-7db3694a286f") {
				t.Fatalf("want CONFLICT naming the base, got %+v, data %s", resp.Errors, resp.Data)
			}
			if n := writes.Load(); n != 0 {
				t.Fatalf("%d writes reached SeaTable", n)
			}
			_, list := e.post(t, "Token "+tokA, `{ workspace(id: "1") { tables { name } } }`, nil)
			if !strings.Contains(string(list.Data), `"name":"he"`) || !strings.Contains(string(list.Data), `"name":"tmp"`) {
				t.Fatalf("bases after the refused write: %s", list.Data)
			}
		})
	}
}

// Without a race, delete and copy cost exactly two list reads and the
// write: the read that finds the base and the one right before the write.
func TestDeleteAndCopyReadTwiceBeforeTheWrite(t *testing.T) {
	for _, tc := range []struct{ name, query string }{
		{"delete", `mutation { deleteDTable(input: {uuid: "951b925d00634fd296a87db3694a286f"}) { uuid } }`},
		{"copy", `mutation { copyDTable(input: {uuid: "951b925d00634fd296a87db3694a286f", dstWorkspaceId: "1"}) { dtable { name } } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
			e.fake.SetRecordRequests(true)
			e.fake.ResetCounts()
			_, resp := e.post(t, "Token "+tokA, tc.query, nil)
			if len(resp.Errors) > 0 {
				t.Fatalf("errors: %+v", resp.Errors)
			}
			var got []string
			for _, r := range e.fake.Requests() {
				got = append(got, r.Method+" "+r.Path)
			}
			if len(got) != 3 || !strings.HasSuffix(got[0], "/workspaces/") || !strings.HasSuffix(got[1], "/workspaces/") || strings.HasSuffix(got[2], "/workspaces/") {
				t.Fatalf("SeaTable calls %v, want 2 list reads then the write", got)
			}
		})
	}
}

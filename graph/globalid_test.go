package graph

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// countingLister counts upstream reads.
type countingLister struct {
	upstream.Lister
	calls atomic.Int64
}

func (f *countingLister) ListWorkspaces(ctx context.Context, token string, read upstream.Read) (*upstream.WorkspaceList, error) {
	f.calls.Add(1)
	return f.Lister.ListWorkspaces(ctx, token, read)
}

type gqlResult struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func postQuery(t *testing.T, h http.Handler, query string, vars map[string]any) gqlResult {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(diffBody(query, vars, "")))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token node-token-0123456789")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out gqlResult
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s: %v", rec.Body, err)
	}
	return out
}

// everyIDQuery lists every object with an identity, with what identifies
// it naturally, for the uniqueness and round-trip tests.
const everyIDQuery = `{ workspaces { __typename id seatableId
	tables { __typename id uuid }
	groupSharedTables { __typename id uuid }
	groupSharedViews { __typename id viewShareId sharedName dtable { __typename id uuid } }
	folders { __typename id seatableId items { __typename id itemType itemId } }
	sharedViews { __typename id seatableId }
	shareFolders { __typename id seatableId } } }`

type obj struct {
	Typename   string `json:"__typename"`
	ID         string `json:"id"`
	SeatableID string `json:"seatableId"`
	UUID       string `json:"uuid"`
	ItemType   string `json:"itemType"`
	ItemID     string `json:"itemId"`
	ViewShare  string `json:"viewShareId"`
	SharedName string `json:"sharedName"`
	Dtable     *obj   `json:"dtable"`
}

// listIDs returns, per global id, the natural identity of what it names.
func listIDs(t *testing.T, h http.Handler) map[string]string {
	t.Helper()
	res := postQuery(t, h, everyIDQuery, nil)
	if len(res.Errors) > 0 {
		t.Fatalf("errors: %+v", res.Errors)
	}
	var data struct {
		Workspaces []struct {
			obj
			Tables, GroupSharedTables []obj
			Folders                   []struct {
				obj
				Items []obj
			}
			SharedViews, ShareFolders, GroupSharedViews []obj
		}
	}
	if err := json.Unmarshal(res.Data, &data); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	add := func(o obj, natural string) {
		if o.ID == "" {
			t.Fatalf("%s %s has no id", o.Typename, natural)
		}
		natural = o.Typename + " " + natural
		if prev, ok := ids[o.ID]; ok && prev != natural {
			t.Errorf("id %s names both %s and %s", o.ID, prev, natural)
		}
		ids[o.ID] = natural
	}
	for _, ws := range data.Workspaces {
		add(ws.obj, ws.SeatableID)
		for _, d := range append(ws.Tables, ws.GroupSharedTables...) {
			add(d, d.UUID)
		}
		for _, f := range ws.Folders {
			add(f.obj, ws.SeatableID+"/"+f.SeatableID)
			for _, it := range f.Items {
				add(it, ws.SeatableID+"/"+f.SeatableID+"/"+it.ItemType+"/"+it.ItemID)
			}
		}
		for _, v := range ws.SharedViews {
			add(v, v.SeatableID)
		}
		for _, v := range ws.ShareFolders {
			add(v, v.SeatableID)
		}
		for _, v := range ws.GroupSharedViews {
			add(v, ws.SeatableID+"/"+v.ViewShare+"/"+v.SharedName)
			add(*v.Dtable, v.Dtable.UUID)
		}
	}
	return ids
}

func newNodeServer(f upstream.Lister) http.Handler {
	return auth.Middleware("", false)(WithLoaders(f)(NewServer(testServerOptions(slog.New(slog.DiscardHandler)))))
}

// TestGlobalIDsAreUniqueAndRoundTrip: across every fixture generation, no
// two objects share an id, and node(id:) and nodes(ids:) give back every
// object by its id, with one upstream call for all of them.
func TestGlobalIDsAreUniqueAndRoundTrip(t *testing.T) {
	for name, f := range fixtureListers(t) {
		if _, failing := f.(failingLister); failing {
			continue
		}
		t.Run(name, func(t *testing.T) {
			cf := &countingLister{Lister: f}
			h := newNodeServer(cf)
			ids := listIDs(t, h)
			kinds := map[string]bool{}
			all := make([]string, 0, len(ids))
			for id, natural := range ids {
				all = append(all, id)
				typename := natural[:bytes.IndexByte([]byte(natural), ' ')]
				kinds[typename] = true
				res := postQuery(t, h, `query($id: ID!) { node(id: $id) { __typename id } }`, map[string]any{"id": id})
				var data struct{ Node *obj }
				_ = json.Unmarshal(res.Data, &data)
				if len(res.Errors) > 0 || data.Node == nil || data.Node.ID != id || data.Node.Typename != typename {
					t.Errorf("node(%s) for %s: %s %+v", id, natural, res.Data, res.Errors)
				}
			}
			t.Logf("%d ids of types %v", len(ids), kinds)
			cf.calls.Store(0)
			res := postQuery(t, h, `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, map[string]any{"ids": all})
			var data struct{ Nodes []*obj }
			_ = json.Unmarshal(res.Data, &data)
			if len(res.Errors) > 0 || len(data.Nodes) != len(all) {
				t.Fatalf("nodes: %s %+v", res.Data, res.Errors)
			}
			for i, n := range data.Nodes {
				if n == nil || n.ID != all[i] {
					t.Errorf("nodes[%d] = %+v, want %s", i, n, all[i])
				}
			}
			if c := cf.calls.Load(); c != 1 {
				t.Errorf("nodes(%d ids) made %d upstream calls, want 1", len(all), c)
			}
		})
	}
}

// TestNodeRejectsForeignIDs: an id this server did not make is
// BAD_USER_INPUT, read without any upstream call; a well-formed id of an
// object the token cannot see is null.
func TestNodeRejectsForeignIDs(t *testing.T) {
	cf := &countingLister{Lister: fixtureListers(t)["demo"]}
	h := newNodeServer(cf)
	for _, id := range []string{"", "1", "starred", "DTable:x", "bm9wZTox", globalID(kindDTable, "not-a-uuid"), globalID(kindDTable, "951B925D00634FD296A87DB3694A286F") + "=", "V29ya3NwYWNlOjE="} {
		for _, q := range []string{`query($id: ID!) { node(id: $id) { id } }`, `query($id: ID!) { nodes(ids: [$id]) { id } }`} {
			res := postQuery(t, h, q, map[string]any{"id": id})
			if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
				t.Errorf("%s with %q: %s %+v", q, id, res.Data, res.Errors)
			}
		}
	}
	if c := cf.calls.Load(); c != 0 {
		t.Errorf("bad ids made %d upstream calls", c)
	}
	res := postQuery(t, h, `{ a: node(id: "V29ya3NwYWNlOjQwNA") { id } b: node(id: "`+globalID(kindDTable, "00000000-0000-4000-8000-000000000000")+`") { id } }`, nil)
	if len(res.Errors) > 0 || string(res.Data) != `{"a":null,"b":null}` {
		t.Errorf("invisible ids: %s %+v", res.Data, res.Errors)
	}
}

// TestWorkspaceArgumentsTakeEitherID: workspace(id:), dtableByName and the
// workspaceId filter accept the global id as well as the seatableId.
func TestWorkspaceArgumentsTakeEitherID(t *testing.T) {
	h := newNodeServer(fixtureListers(t)["demo"])
	g := globalID(kindWorkspace, "2")
	res := postQuery(t, h, `query($g: ID!) {
		a: workspace(id: "2") { id seatableId } b: workspace(id: $g) { id seatableId }
		c: dtableByName(workspaceId: $g, name: "testing") { name } d: dtableByName(workspaceId: "2", name: "testing") { name }
		e: dtables(filter: {workspaceId: $g}) { totalCount } f: dtables(filter: {workspaceId: "2"}) { totalCount } }`, map[string]any{"g": g})
	want := `{"a":{"id":"` + g + `","seatableId":"2"},"b":{"id":"` + g + `","seatableId":"2"},"c":{"name":"testing"},"d":{"name":"testing"},"e":{"totalCount":1},"f":{"totalCount":1}}`
	if len(res.Errors) > 0 || string(res.Data) != want {
		t.Errorf("got %s %+v\nwant %s", res.Data, res.Errors, want)
	}
}

// TestTwoViewsOfOneBaseStayApart: SeaTable lists views shared into a group
// as the base's fields plus the view's. Two views of one base are two
// objects, and their base is one, the same as in its workspace's list and
// without either view's details.
func TestTwoViewsOfOneBaseStayApart(t *testing.T) {
	str := func(s string) *string { return &s }
	const uuid = "d4c3b2a1-0f9e-4d8c-b7a6-958473625140"
	view := func(id, name string) *upstream.DTable {
		return &upstream.DTable{ID: "71", UUID: uuid, Name: "Tickets", WorkspaceID: "1", ViewShareID: str(id), SharedName: str(name), FromUser: str("erin@auth.local")}
	}
	list := &upstream.WorkspaceList{Detail: true, Workspaces: []*upstream.Workspace{
		{ID: "1", Type: upstream.WorkspacePersonal, Name: "personal", Tables: []*upstream.DTable{{ID: "71", UUID: uuid, Name: "Tickets", WorkspaceID: "1"}}},
		{ID: "2", Type: upstream.WorkspaceGroup, Name: "support", GroupSharedViews: []*upstream.DTable{view("5", "Open tickets"), view("6", "Closed tickets")}},
	}}
	for _, fast := range []bool{true, false} {
		opts := testServerOptions(slog.New(slog.DiscardHandler))
		opts.FastPath = fast
		h := auth.Middleware("", false)(WithLoaders(staticLister{list})(NewServer(opts)))
		res := postQuery(t, h, `{ workspaces { tables { id name } groupSharedViews { id viewShareId sharedName fromUser dtable { id uuid name permission fromUser } } } }`, nil)
		want := `{"workspaces":[{"tables":[{"id":"` + globalID(kindDTable, uuid) + `","name":"Tickets"}],"groupSharedViews":[]},` +
			`{"tables":[],"groupSharedViews":[` +
			`{"id":"` + globalID(kindGroupSharedView, "2:5") + `","viewShareId":"5","sharedName":"Open tickets","fromUser":"erin@auth.local","dtable":{"id":"` + globalID(kindDTable, uuid) + `","uuid":"` + uuid + `","name":"Tickets","permission":null,"fromUser":null}},` +
			`{"id":"` + globalID(kindGroupSharedView, "2:6") + `","viewShareId":"6","sharedName":"Closed tickets","fromUser":"erin@auth.local","dtable":{"id":"` + globalID(kindDTable, uuid) + `","uuid":"` + uuid + `","name":"Tickets","permission":null,"fromUser":null}}]}]}`
		if len(res.Errors) > 0 || string(res.Data) != want {
			t.Errorf("fast=%v:\ngot  %s %+v\nwant %s", fast, res.Data, res.Errors, want)
		}
	}
}

// TestGlobalIDEncodingUnchanged holds globalID to the encoding it was
// written with (base64 of "<Type>:<key>" through the standard library), on
// keys short and long (past its stack buffer), empty, and of every byte.
func TestGlobalIDEncodingUnchanged(t *testing.T) {
	reference := func(kind, key string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + key))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []string{kindWorkspace, kindDTable, kindFolder, kindFolderItem, kindSharedView, kindShareFolder, kindGroupSharedView, kindTable, kindView, kindRow}
	for i := 0; i < 20000; i++ {
		key := make([]byte, rng.IntN(300))
		for j := range key {
			key[j] = byte(rng.IntN(256))
		}
		kind := kinds[i%len(kinds)]
		if got, want := globalID(kind, string(key)), reference(kind, string(key)); got != want {
			t.Fatalf("globalID(%q, %q) = %q, want %q", kind, key, got, want)
		}
	}
	if got, want := globalID(kindWorkspace, ""), reference(kindWorkspace, ""); got != want {
		t.Fatalf("empty key: %q, want %q", got, want)
	}
	// Ids taken earlier stay intact while later ones are made.
	a := globalID(kindWorkspace, "1")
	_ = globalID(kindWorkspace, "2")
	if a != reference(kindWorkspace, "1") {
		t.Fatalf("earlier id changed: %q", a)
	}
}

package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// cachingLister stands in for issue 5's cache: it serves a fixed list and
// records invalidations.
type cachingLister struct {
	mu          sync.Mutex
	reads       int
	invalidated []string
}

func (f *cachingLister) ListWorkspaces(context.Context, string, upstream.Read) (*upstream.WorkspaceList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return &upstream.WorkspaceList{Workspaces: []*upstream.Workspace{{ID: "1", Type: upstream.WorkspacePersonal, Name: "personal",
		Tables: []*upstream.DTable{{UUID: "11111111-2222-4333-8444-555555555555", Name: "Plan", WorkspaceID: "1", Starred: true}}}}}, nil
}

func (f *cachingLister) Invalidate(_ context.Context, token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalidated = append(f.invalidated, token)
}

// stubWriter answers every write with err (or success). Its list, read
// before a write, is SeaTable's state now; nil means the same list
// cachingLister serves.
type stubWriter struct {
	err   error
	calls []string
	list  *upstream.WorkspaceList
	reads int
}

func (w *stubWriter) ListWorkspaces(ctx context.Context, token string, read upstream.Read) (*upstream.WorkspaceList, error) {
	w.reads++
	if w.list != nil {
		return w.list, nil
	}
	return (&cachingLister{}).ListWorkspaces(ctx, token, read)
}

func (w *stubWriter) CreateDTable(_ context.Context, _ string, in upstream.CreateDTable) (*upstream.DTable, error) {
	w.calls = append(w.calls, "create "+in.Name)
	return &upstream.DTable{UUID: "99999999-2222-4333-8444-555555555555", Name: in.Name, WorkspaceID: "1"}, w.err
}

func (w *stubWriter) UpdateDTable(_ context.Context, _, wid, name string, _ upstream.UpdateDTable) (*upstream.DTable, error) {
	w.calls = append(w.calls, "update "+wid+" "+name)
	if w.err != nil {
		return nil, w.err
	}
	// An answer without the caller's star: the payload must keep it.
	return &upstream.DTable{UUID: "11111111-2222-4333-8444-555555555555", Name: "Renamed", WorkspaceID: wid}, nil
}

func (w *stubWriter) DeleteDTable(_ context.Context, _, wid, name string) error {
	w.calls = append(w.calls, "delete "+wid+" "+name)
	return w.err
}

func (w *stubWriter) CopyDTable(_ context.Context, _, src, dst, name string) (*upstream.DTable, error) {
	w.calls = append(w.calls, "copy "+src+" "+dst+" "+name)
	return nil, w.err
}

func (w *stubWriter) StarDTable(_ context.Context, _, uuid string) error {
	w.calls = append(w.calls, "star "+uuid)
	return w.err
}

func (w *stubWriter) UnstarDTable(_ context.Context, _, uuid string) error {
	w.calls = append(w.calls, "unstar "+uuid)
	return w.err
}

func runMutation(t *testing.T, f *cachingLister, w Writer, query string) (data map[string]any, codes []string) {
	t.Helper()
	opts := testServerOptions(slog.New(slog.NewTextHandler(io.Discard, nil)))
	opts.Writer = w
	srv := httptest.NewServer(auth.Middleware("", false)(WithLoaders(f)(NewServer(opts))))
	defer srv.Close()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token tok-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any
		Errors []struct{ Extensions map[string]any }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	for _, e := range out.Errors {
		c, _ := e.Extensions["code"].(string)
		codes = append(codes, c)
	}
	return out.Data, codes
}

func TestMutationsInvalidateTheLister(t *testing.T) {
	const plan = "11111111-2222-4333-8444-555555555555"
	cases := []struct {
		name, query, call string
	}{
		{"create", `mutation { createDTable(input: {name: "N"}) { dtable { name } } }`, "create N"},
		{"update", `mutation { updateDTable(input: {uuid: "` + plan + `", newName: "Renamed"}) { dtable { name starred } } }`, "update 1 Plan"},
		{"delete", `mutation { deleteDTable(input: {uuid: "` + plan + `"}) { name } }`, "delete 1 Plan"},
		{"copy", `mutation { copyDTable(input: {uuid: "` + plan + `", dstWorkspaceId: "1"}) { dtable { name } } }`, "copy 1 1 Plan"},
		{"star", `mutation { starDTable(input: {uuid: "` + plan + `"}) { starred } }`, "star " + plan},
		{"unstar", `mutation { unstarDTable(input: {uuid: "` + plan + `"}) { starred } }`, "unstar " + plan},
	}
	for _, c := range cases {
		for _, failing := range []bool{false, true} {
			f := &cachingLister{}
			w := &stubWriter{}
			if failing {
				w.err = apperr.New(apperr.UpstreamTimeout, "SeaTable did not answer in time")
			}
			data, codes := runMutation(t, f, w, c.query)
			if len(w.calls) != 1 || w.calls[0] != c.call {
				t.Errorf("%s: writer calls %v, want [%s]", c.name, w.calls, c.call)
			}
			// Invalidated after the write, whether or not it failed: a
			// timed-out write may still have happened.
			if len(f.invalidated) != 1 || f.invalidated[0] != "tok-1" {
				t.Errorf("%s (failing %v): invalidated %v, want [tok-1]", c.name, failing, f.invalidated)
			}
			if failing && (len(codes) != 1 || codes[0] != "UPSTREAM_TIMEOUT") {
				t.Errorf("%s: codes %v", c.name, codes)
			}
			if !failing && len(codes) != 0 {
				t.Errorf("%s: codes %v", c.name, codes)
			}
			if c.name == "update" && !failing {
				d := data["updateDTable"].(map[string]any)["dtable"].(map[string]any)
				if d["name"] != "Renamed" || d["starred"] != true {
					t.Errorf("update payload %v: the caller's star must survive", d)
				}
			}
		}
	}
}

// TestWritesResolveNamesFromSeaTableNow: the loaders (here a cache) still
// list the base under its old name, which by now belongs to another base.
// The write must address the base by the name SeaTable holds now, read
// through the writer, never the cached one.
func TestWritesResolveNamesFromSeaTableNow(t *testing.T) {
	const plan, other = "11111111-2222-4333-8444-555555555555", "22222222-2222-4333-8444-555555555555"
	now := &upstream.WorkspaceList{Workspaces: []*upstream.Workspace{{ID: "1", Type: upstream.WorkspacePersonal, Name: "personal",
		Tables: []*upstream.DTable{
			{UUID: plan, Name: "Plan (old)", WorkspaceID: "1"},
			{UUID: other, Name: "Plan", WorkspaceID: "1"},
		}}}}
	cases := []struct{ name, query, call string }{
		{"update", `mutation { updateDTable(input: {uuid: "` + plan + `", color: "#000000"}) { dtable { uuid } } }`, "update 1 Plan (old)"},
		{"delete", `mutation { deleteDTable(input: {uuid: "` + plan + `"}) { name } }`, "delete 1 Plan (old)"},
		{"copy", `mutation { copyDTable(input: {uuid: "` + plan + `", dstWorkspaceId: "1"}) { dtable { name } } }`, "copy 1 1 Plan (old)"},
	}
	for _, c := range cases {
		f, w := &cachingLister{}, &stubWriter{list: now}
		runMutation(t, f, w, c.query)
		if len(w.calls) != 1 || w.calls[0] != c.call {
			t.Errorf("%s: writer calls %v, want [%s]", c.name, w.calls, c.call)
		}
		// delete and copy read once more right before the write: their
		// answers cannot show that a concurrent rename moved the name.
		want := map[string]int{"update": 1, "delete": 2, "copy": 2}[c.name]
		if w.reads != want {
			t.Errorf("%s: %d reads through the writer before the write, want %d", c.name, w.reads, want)
		}
	}
}

func TestMutationsWithoutWriterAreInternal(t *testing.T) {
	_, codes := runMutation(t, &cachingLister{}, nil, `mutation { starDTable(input: {uuid: "11111111-2222-4333-8444-555555555555"}) { starred } }`)
	if len(codes) != 1 || codes[0] != "INTERNAL" {
		t.Errorf("codes %v, want INTERNAL", codes)
	}
}

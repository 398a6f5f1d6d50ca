package replay_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/graph/replay"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// current answers every token with whatever list is current, as the
// response cache below the loaders would.
type current struct {
	mu   sync.Mutex
	list *upstream.WorkspaceList
}

func (c *current) set(l *upstream.WorkspaceList) { c.mu.Lock(); c.list = l; c.mu.Unlock() }
func (c *current) ListWorkspaces(context.Context, string, upstream.Read) (*upstream.WorkspaceList, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.list, nil
}

type harness struct {
	t    *testing.T
	up   *current
	runs atomic.Int64
	srv  *httptest.Server
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, up: &current{list: &upstream.WorkspaceList{}}}
	store := replay.New(1<<20, time.Hour, func(ctx context.Context) string { return "" })
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := h.runs.Add(1)
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "fail") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"errors":[{"message":"boom"}],"data":null}`)
			return // an error response is not reported
		}
		if strings.Contains(string(body), "status") {
			w.WriteHeader(http.StatusTeapot)
		} else if !strings.Contains(string(body), "other") {
			// Without a token the loaders fail, and nothing is reported.
			if list, err := loaders.For(r.Context()).List(r.Context()); err == nil {
				replay.Report(r.Context(), list, true, "")
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"run":`+strings.Repeat("1", int(n))+`,"body":`+string(body)+`}}`)
	})
	withLoaders := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			l := loaders.New(h.up, auth.From(r.Context()))
			next.ServeHTTP(w, r.WithContext(loaders.NewContext(r.Context(), l)))
		})
	}
	h.srv = httptest.NewServer(auth.Middleware("", false)(withLoaders(store.Middleware(next))))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) post(token, body string) string {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode == 200 && ct != "application/json" {
		h.t.Errorf("Content-Type %q", ct)
	}
	return string(b)
}

func TestReplay(t *testing.T) {
	h := newHarness(t)
	first := h.post("a", `{"q":1}`)
	if again := h.post("a", `{"q":1}`); again != first || h.runs.Load() != 1 {
		t.Fatalf("same token and request: %d runs, body %s vs %s", h.runs.Load(), again, first)
	}
	for _, c := range []struct{ token, body string }{
		{"b", `{"q":1}`},      // another token
		{"a", `{"q":2}`},      // another request
		{"", `{"q":1}`},       // no token: never stored
		{"", `{"q":1}`},       //   nor replayed
		{"a", `{"fail":1}`},   // errors are not stored
		{"a", `{"fail":1}`},   //
		{"a", `{"status":1}`}, // neither is a non-200
		{"a", `{"status":1}`}, //
		{"a", `{"other":1}`},  // nor what the GraphQL layer did not report
		{"a", `{"other":1}`},  //
	} {
		before := h.runs.Load()
		h.post(c.token, c.body)
		if h.runs.Load() != before+1 {
			t.Errorf("%q %s was replayed", c.token, c.body)
		}
	}
	// The list below changed (TTL, a write, a no-cache refresh): run again.
	h.up.set(&upstream.WorkspaceList{})
	before := h.runs.Load()
	if got := h.post("a", `{"q":1}`); got == first || h.runs.Load() != before+1 {
		t.Fatalf("replayed a response of an old list: %s", got)
	}
	if h.post("a", `{"q":1}`); h.runs.Load() != before+1 {
		t.Fatal("the new response is not replayed")
	}
}

func TestLargeBodiesPassThrough(t *testing.T) {
	h := newHarness(t)
	big := `{"q":"` + strings.Repeat("x", 100<<10) + `"}`
	for i := 0; i < 2; i++ {
		if got := h.post("a", big); !strings.Contains(got, big) {
			t.Fatal("the handler did not get the whole body")
		}
	}
	if h.runs.Load() != 2 {
		t.Fatalf("%d runs, want 2 (never stored)", h.runs.Load())
	}
}

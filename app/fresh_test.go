package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

type noLists struct{}

func (noLists) ListWorkspaces(context.Context, string, upstream.Read) (*upstream.WorkspaceList, error) {
	return &upstream.WorkspaceList{}, nil
}

// A client's no-cache is decided once, where the request's loaders are
// built, and travels in them: their reads are fresh, and the layers that
// share work between requests (replay, shared execution) key such requests
// apart. Only callers with their own token may ask for it.
func TestNoCacheTravelsInTheLoaders(t *testing.T) {
	e := newTestEnv(t, withCache(time.Minute), withEnv("SEATABLE_TOKEN", "fallback-token"))
	var fresh bool
	var partition string
	seen := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		fresh, partition = loaders.For(r.Context()).ReadsFresh(), callPartition(r.Context())
	})
	h := chain(seen, e.app.caller(), e.app.withLoaders(noLists{}))
	for _, c := range []struct {
		name   string
		header http.Header
		fresh  bool
	}{
		{"own token", http.Header{"Authorization": {"Token " + tokA}}, false},
		{"own token, no-cache", http.Header{"Authorization": {"Token " + tokA}, "Cache-Control": {"max-age=0, No-Cache"}}, true},
		{"own token, Pragma", http.Header{"Authorization": {"Token " + tokA}, "Pragma": {"no-cache"}}, true},
		{"fallback token, no-cache", http.Header{"Cache-Control": {"no-cache"}}, false},
	} {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		r.Header = c.header
		h.ServeHTTP(httptest.NewRecorder(), r)
		if fresh != c.fresh || (partition == "fresh") != c.fresh {
			t.Errorf("%s: loaders read fresh %v, partition %q; want fresh %v", c.name, fresh, partition, c.fresh)
		}
	}
}

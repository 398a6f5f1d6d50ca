package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

type listLister struct{}

func (listLister) ListWorkspaces(context.Context, string, upstream.Read) (*upstream.WorkspaceList, error) {
	return &upstream.WorkspaceList{Workspaces: []*upstream.Workspace{{ID: "1", Name: "personal", Type: upstream.WorkspacePersonal}}}, nil
}

// nilFolderLister lists a workspace whose folder list holds a nil entry, on
// which Snapshot.FolderOf panics: a resolver panic the fast path meets too.
type nilFolderLister struct{}

func (nilFolderLister) ListWorkspaces(context.Context, string, upstream.Read) (*upstream.WorkspaceList, error) {
	return &upstream.WorkspaceList{Workspaces: []*upstream.Workspace{{ID: "1", Name: "personal", Type: upstream.WorkspacePersonal,
		Tables:  []*upstream.DTable{{UUID: "11111111-2222-4333-8444-555555555555", Name: "Plan", WorkspaceID: "1"}},
		Folders: []*upstream.Folder{nil}}}}, nil
}

// A resolver panic is answered as INTERNAL with a generic message, logged
// through slog with its stack, and the token never appears in either, even
// when the panic value quotes it: on gqlgen's executor (a panic injected
// through its field middleware, which only that executor runs) and on the
// fast path (which falls back to gqlgen's executor on a panic).
func TestResolverPanicIsLoggedAndInternal(t *testing.T) {
	const token = "panic-token-0123456789abcdef"
	cases := []struct {
		name     string
		fastPath bool
		fetcher  upstream.Lister
		query    string
		quoted   bool // the panic value quotes the token
	}{
		{"generated executor", false, listLister{}, `{ workspaces { id name } }`, true},
		{"fast path", true, nilFolderLister{}, `{ workspaces { tables { folder { id } } } }`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			opts := testServerOptions(log)
			opts.FastPath = c.fastPath
			srv := NewServer(opts)
			// Test-only fault injection through gqlgen's public middleware hook.
			srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
				if graphql.GetFieldContext(ctx).Field.Name == "name" {
					panic("resolver exploded holding " + token)
				}
				return next(ctx)
			})
			h := auth.Middleware("", false)(WithLoaders(c.fetcher)(srv))
			body, _ := json.Marshal(map[string]string{"query": c.query})
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Token "+token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			var resp struct {
				Errors []struct {
					Message    string
					Extensions map[string]any
				}
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("%v: %s", err, rec.Body)
			}
			if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "INTERNAL" || resp.Errors[0].Message != "internal error" {
				t.Fatalf("errors %+v, want one INTERNAL \"internal error\"", resp.Errors)
			}
			out := logs.String()
			if !strings.Contains(out, `"msg":"panic in resolver"`) || !strings.Contains(out, "goroutine") {
				t.Fatalf("panic not logged with its stack through slog:\n%s", out)
			}
			if c.quoted && !strings.Contains(out, "resolver exploded holding [REDACTED]") {
				t.Fatalf("panic value not logged, redacted:\n%s", out)
			}
			if strings.Contains(out+rec.Body.String(), token) {
				t.Fatalf("token leaked:\n%s\n%s", out, rec.Body)
			}
		})
	}
}

func TestErrorPresenterTrimsBodyEcho(t *testing.T) {
	var logs bytes.Buffer
	p := ErrorPresenter(slog.New(slog.NewTextHandler(&logs, nil)))
	err := p(context.Background(), gqlErrorf(`json request body could not be decoded: invalid character body:{"query":"secret stuff`))
	if err.Message != "json request body could not be decoded" || err.Extensions["code"] != "BAD_USER_INPUT" {
		t.Fatalf("got %q %v", err.Message, err.Extensions)
	}
}

func gqlErrorf(msg string) error { return gqlerror.Errorf("%s", msg) }

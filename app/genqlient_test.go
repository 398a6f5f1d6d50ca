package app

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// tokenTransport sends an account token with every request, as a Go
// program would.
type tokenTransport struct{ token string }

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Token "+t.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestGenqlient runs code genqlient generated (genqlient_generated_test.go,
// from testdata/genqlient with genqlient's defaults) against the server: a
// first page asked with after: "" (what genqlient sends for an unset
// String), paging on with the end cursor, DateTime bound to time.Time, and
// an empty workspaceId, which must be an error naming it, not a null.
func TestGenqlient(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	client := graphql.NewClient(e.url+"/graphql", &http.Client{Transport: tokenTransport{tokA}})
	ctx := context.Background()

	var names []string
	after := "" // the first page, as genqlient sends it
	for page := 0; ; page++ {
		resp, err := Bases(ctx, client, 2, after)
		if err != nil {
			t.Fatalf("page %d (after %q): %v", page, after, err)
		}
		for _, edge := range resp.Dtables.Edges {
			names = append(names, edge.Node.Name)
			if edge.Node.UpdatedAt.IsZero() {
				t.Errorf("%s: updatedAt did not decode into time.Time", edge.Node.Name)
			}
		}
		if !resp.Dtables.PageInfo.HasNextPage {
			break
		}
		after = resp.Dtables.PageInfo.EndCursor
		if page > 100 {
			t.Fatal("no last page")
		}
	}
	var all struct {
		Dtables struct{ TotalCount int }
	}
	e.mustData(t, "Token "+tokA, `{ dtables { totalCount } }`, &all)
	if len(names) != all.Dtables.TotalCount || len(names) < 3 {
		t.Errorf("paged through %d bases %v, want all %d", len(names), names, all.Dtables.TotalCount)
	}

	_, err := BaseByName(ctx, client, "", names[0])
	var list gqlerror.List
	if !errors.As(err, &list) || len(list) != 1 || list[0].Extensions["code"] != "BAD_USER_INPUT" ||
		!strings.HasPrefix(list[0].Message, "workspaceId must not be empty") {
		t.Errorf("dtableByName(workspaceId: \"\"): %v, want BAD_USER_INPUT naming workspaceId", err)
	}
}

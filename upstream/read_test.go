package upstream_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// The client reads what its Read argument says: detail goes to SeaTable,
// Omit to the decoder, and the list carries the body it was decoded from.
func TestClientReadsWhatTheReadSays(t *testing.T) {
	fake := fakeseatable.New()
	body := fakeseatable.Fixture(fakeseatable.Current)
	fake.SetToken("tok", body)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, err := upstream.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	whole, err := c.ListWorkspaces(ctx, "tok", upstream.Read{Detail: true})
	if err != nil {
		t.Fatal(err)
	}
	trimmed, err := c.ListWorkspaces(ctx, "tok", upstream.Read{Detail: true, Omit: upstream.FieldColor})
	if err != nil {
		t.Fatal(err)
	}
	summary, err := c.ListWorkspaces(ctx, "tok", upstream.Read{})
	if err != nil {
		t.Fatal(err)
	}
	if whole.Fields != upstream.AllFields || trimmed.Fields != upstream.AllFields&^upstream.FieldColor {
		t.Errorf("decoded fields %x and %x, want all and all but colour", whole.Fields, trimmed.Fields)
	}
	if countColours(whole) == 0 || countColours(trimmed) != 0 {
		t.Errorf("%d colours in the whole list, %d in the one without colours", countColours(whole), countColours(trimmed))
	}
	if string(whole.Body) != string(body) || !whole.Detail || summary.Detail {
		t.Errorf("body %d bytes (want %d), detail %v/%v", len(whole.Body), len(body), whole.Detail, summary.Detail)
	}
	reqs := fake.Requests()
	if len(reqs) != 3 || reqs[0].RawQuery != "detail=true" || reqs[2].RawQuery != "detail=false" {
		t.Errorf("requests %+v", reqs)
	}
}

func countColours(l *upstream.WorkspaceList) int {
	n := 0
	for _, w := range l.Workspaces {
		for _, d := range w.Tables {
			if d.Color != nil {
				n++
			}
		}
	}
	return n
}

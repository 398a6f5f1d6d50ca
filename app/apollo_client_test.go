package app

import (
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestApolloClient runs tests/apollo-client/client.mjs, a Node script using
// Apollo Client's InMemoryCache, against the real handler: normalisation by
// __typename + id and errors by extensions.code, as frontends rely on them.
func TestApolloClient(t *testing.T) {
	client := needNodeClient(t, "apollo-client", "Apollo Client", "@apollo/client")
	const token = "apollo-0123456789abcdef"
	const viewsToken = "apollo-views-0123456789"
	e := newTestEnv(t)
	e.fake.SetToken(token, fakeseatable.Fixture(fakeseatable.Demo))
	e.fake.SetToken(viewsToken, []byte(twoViewsOfOneBase))

	client.run(time.Minute, []string{"GRAPHQL_URL=" + e.url + "/graphql", "SEATABLE_TOKEN=" + token, "VIEWS_TOKEN=" + viewsToken}, "client.mjs")
	// The bad-token step must have reached SeaTable, which answered 401.
	var sawBad bool
	for _, r := range e.fake.Requests() {
		sawBad = sawBad || r.Authorization == "Token not-a-valid-token"
	}
	if !sawBad {
		t.Error("the UNAUTHENTICATED check never reached the upstream")
	}
}

// twoViewsOfOneBase is a workspace list in which two views of one base are
// shared into a group: SeaTable lists each as the base's fields plus the
// view's, which once collapsed into one entry of every client cache.
const twoViewsOfOneBase = `{"workspace_list": [
  {"id": 1, "name": "personal", "type": "personal", "table_list": [
    {"id": 71, "workspace_id": 1, "uuid": "d4c3b2a1-0f9e-4d8c-b7a6-958473625140", "name": "Tickets"}], "folders": []},
  {"id": 2, "name": "support", "type": "group", "group_id": 3, "table_list": [], "folders": [],
   "group_shared_views": [
    {"id": 71, "workspace_id": 1, "uuid": "d4c3b2a1-0f9e-4d8c-b7a6-958473625140", "name": "Tickets", "view_share_id": 5, "shared_name": "Open tickets", "from_user": "erin@auth.local"},
    {"id": 71, "workspace_id": 1, "uuid": "d4c3b2a1-0f9e-4d8c-b7a6-958473625140", "name": "Tickets", "view_share_id": 6, "shared_name": "Closed tickets", "from_user": "erin@auth.local"}]}]}`

// TestApolloClientPagesRows runs tests/apollo-client/rows.mjs: Apollo
// Client pages a table's rows (and a view's) with watchQuery, fetchMore and
// relayStylePagination until hasNextPage is false.
func TestApolloClientPagesRows(t *testing.T) {
	client := needNodeClient(t, "apollo-client", "Apollo Client", "@apollo/client")
	const token = "apollo-rows-0123456789ab"
	e := newTestEnv(t)
	e.fake.SetToken(token, fakeseatable.Fixture(fakeseatable.Demo))
	const hello = "b406b9ba-b74e-49c8-aa4e-5567076e5c25"
	client.run(time.Minute, []string{"GRAPHQL_URL=" + e.url + "/graphql", "SEATABLE_TOKEN=" + token, "BASE_UUID=" + hello, "WANT_ROWS=36"}, "rows.mjs")
	// One exchange for the whole session: the base token is reused.
	if n := e.fake.BaseCalls(fakeseatable.KindExchange); n != 1 {
		t.Errorf("%d exchanges, want 1", n)
	}
}

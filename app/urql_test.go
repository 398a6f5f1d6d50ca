package app

import (
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestUrqlGraphcache runs tests/urql/client.mjs, urql with graphcache's
// normalised cache and relayPagination, against the real handler: paging,
// update, star and delete as they reach the cache, node(id:), and two views
// of one base.
func TestUrqlGraphcache(t *testing.T) {
	client := needNodeClient(t, "urql", "urql", "@urql/exchange-graphcache")
	const token, viewsToken = "urql-0123456789abcdef", "urql-views-0123456789"
	e := newTestEnv(t)
	e.fake.SetToken(token, fakeseatable.Fixture(fakeseatable.Demo))
	e.fake.SetToken(viewsToken, []byte(twoViewsOfOneBase))

	client.run(time.Minute, []string{"GRAPHQL_URL=" + e.url + "/graphql", "SEATABLE_TOKEN=" + token, "VIEWS_TOKEN=" + viewsToken}, "client.mjs")
}

package app

import (
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestLiveJSClients runs tests/live-clients/client.mjs: graphql-ws,
// graphql-sse and Apollo Client's GraphQLWsLink, the clients frontends
// use, subscribe against the real handler and see a base created, renamed,
// starred and deleted through the server's mutations. The pollers run on
// the real clock with the default interval: every change must arrive
// through the refresh a mutation triggers, well before the next tick.
func TestLiveJSClients(t *testing.T) {
	client := needNodeClient(t, "live-clients", "subscription clients", "graphql-ws", "graphql-sse", "@apollo/client", "ws")
	const token = "live-js-0123456789abcdef"
	e := newTestEnv(t)
	e.fake.SetToken(token, fakeseatable.Fixture(fakeseatable.Demo))

	client.run(2*time.Minute, []string{"GRAPHQL_URL=" + e.url + "/graphql", "SEATABLE_TOKEN=" + token}, "client.mjs")
	eventually(t, "every poller stops once the clients have gone", func() bool { return e.live.hub.Pollers() == 0 })
}

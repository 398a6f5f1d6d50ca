package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestLiveJSClients runs tests/live-clients/client.mjs: graphql-ws,
// graphql-sse and Apollo Client's GraphQLWsLink, the clients frontends
// use, subscribe against the real handler and see a base created, renamed,
// starred and deleted through the server's mutations. The pollers run on
// the real clock with the default interval: every change must arrive
// through the refresh a mutation triggers, well before the next tick.
func TestLiveJSClients(t *testing.T) {
	node := testenv.LookPath(t, testenv.NodePackages, "node", "nodejs")
	dir := filepath.Join("tests", "live-clients")
	for _, pkg := range []string{"graphql-ws", "graphql-sse", "@apollo/client", "ws"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			testenv.Missing(t, testenv.NodePackages, "subscription clients (npm ci --prefix tests/live-clients)", err)
		}
	}
	const token = "live-js-0123456789abcdef"
	e := newTestEnv(t)
	e.fake.SetToken(token, fakeseatable.Fixture(fakeseatable.Demo))

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GRAPHQL_URL="+e.url+"/graphql", "SEATABLE_TOKEN="+token, "NO_COLOR=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("node client.mjs (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("client.mjs failed with exit code %d", exit.ExitCode())
		}
		t.Fatalf("run node: %v", err)
	}
	eventually(t, "every poller stops once the clients have gone", func() bool { return e.live.hub.Pollers() == 0 })
}

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

// TestUrqlGraphcache runs tests/urql/client.mjs, urql with graphcache's
// normalised cache and relayPagination, against the real handler: paging,
// update, star and delete as they reach the cache, node(id:), and two views
// of one base.
func TestUrqlGraphcache(t *testing.T) {
	node := testenv.LookPath(t, testenv.NodePackages, "node", "nodejs")
	dir := filepath.Join("tests", "urql")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@urql", "exchange-graphcache", "package.json")); err != nil {
		testenv.Missing(t, testenv.NodePackages, "urql (npm ci --prefix tests/urql)", err)
	}
	const token, viewsToken = "urql-0123456789abcdef", "urql-views-0123456789"
	e := newTestEnv(t)
	e.fake.SetToken(token, fakeseatable.Fixture(fakeseatable.Demo))
	e.fake.SetToken(viewsToken, []byte(twoViewsOfOneBase))

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GRAPHQL_URL="+e.url+"/graphql", "SEATABLE_TOKEN="+token, "VIEWS_TOKEN="+viewsToken, "NO_COLOR=1")
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
}

package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/graph"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestRelay compiles tests/relay/src (a base browser: a dtables @connection,
// @refetchable fragments on DTable and Workspace, create with @prependNode,
// delete with @deleteEdge) with relay-compiler against the schema this
// binary prints with -print-schema, persisting the queries, then runs the
// artifacts with relay-runtime (tests/relay/run.mjs) against a server that
// accepts only those persisted documents.
func TestRelay(t *testing.T) {
	client := needNodeClient(t, "relay", "Relay", "relay-compiler", "relay-runtime")
	dir := client.dir
	// What -print-schema prints (the root's TestFlags checks that).
	sdl, err := os.ReadFile(filepath.Join("..", "schema.graphqls"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schema.graphql"), []byte(graph.PrintSchema(string(sdl))), 0o644); err != nil {
		t.Fatal(err)
	}
	// relay-compiler adds to the manifest only what it generates, and wants
	// the file to exist: start both afresh.
	if err := os.RemoveAll(filepath.Join(dir, "__generated__")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "__generated__"), 0o755); err != nil {
		t.Fatal(err)
	}
	manifest, err := filepath.Abs(filepath.Join(dir, "persisted_queries.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	client.run(2*time.Minute, nil, filepath.Join("node_modules", "relay-compiler", "cli.js"))

	const token = "relay-0123456789abcdef"
	e := newTestEnv(t, withEnv("TRUSTED_DOCUMENTS", manifest, "TRUSTED_DOCUMENTS_ONLY", "true"))
	e.fake.SetToken(token, fakeseatable.Fixture(fakeseatable.Demo))
	// NODE_ENV=development: Relay reports store problems (an id shared by two
	// types, a missing field) only outside production.
	client.run(2*time.Minute, []string{"GRAPHQL_URL=" + e.url + "/graphql", "SEATABLE_TOKEN=" + token, "NODE_ENV=development"}, "run.mjs")
}

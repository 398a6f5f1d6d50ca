package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestClientPresetPersistedDocuments runs GraphQL Code Generator's
// client-preset (tests/codegen) to write a persisted-documents manifest,
// checks it is the form testdata/client-preset-6 keeps ("sha256:<hex>"
// keys), serves it in TRUSTED_DOCUMENTS_ONLY mode, and sends the generated
// documents with urql's persistedExchange configured as the client-preset
// docs recommend (generateHash returns __meta__.hash), with
// enforcePersistedQueries against TRUSTED_DOCUMENTS_ONLY and with urql's
// default (text after a miss) against a server with the manifest. Before,
// the first got 400, the second PersistedQueryNotFound and then "provided
// APQ hash does not match query".
func TestClientPresetPersistedDocuments(t *testing.T) {
	node := testenv.LookPath(t, testenv.NodePackages, "node", "nodejs")
	dir := filepath.Join("..", "tests", "codegen")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@graphql-codegen", "cli", "package.json")); err != nil {
		testenv.Missing(t, testenv.NodePackages, "GraphQL Code Generator and urql (npm ci --prefix tests/codegen)", err)
	}
	run := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node %v: %v\n%s\n%s", args, err, out, stderr.String())
		}
		return out
	}
	run(filepath.Join("node_modules", "@graphql-codegen", "cli", "cjs", "bin.js"), "--config", "codegen.yml", "--silent")
	manifest, _ := filepath.Abs(filepath.Join(dir, "gen", "persisted-documents.json"))
	generated, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := os.ReadFile(filepath.Join("testdata", "client-preset-6", "persisted-documents.json"))
	if !bytes.Equal(bytes.TrimSpace(generated), bytes.TrimSpace(kept)) {
		t.Errorf("client-preset's manifest differs from testdata/client-preset-6:\n%s\nwant\n%s", generated, kept)
	}

	type output struct {
		Results map[string]struct {
			Data  json.RawMessage
			Error *string
		}
		Requests []struct {
			Method string
			Query  bool
			Hash   *string
		}
	}
	client := func(e *testEnv, mode string) output {
		t.Helper()
		var o output
		raw := run("client.mjs", e.url+"/graphql", tokA, mode)
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatalf("client output: %v: %s", err, raw)
		}
		for name, r := range o.Results {
			if r.Error != nil || len(r.Data) < 3 || string(r.Data) == "null" {
				t.Errorf("%s %s: %s %v", mode, name, r.Data, deref(r.Error))
			}
		}
		if len(o.Results) != 2 {
			t.Errorf("%s: %d results", mode, len(o.Results))
		}
		for _, r := range o.Requests {
			if r.Hash == nil || !strings.HasPrefix(*r.Hash, "sha256:") {
				t.Errorf("%s: a request without client-preset's hash: %+v", mode, r)
			}
		}
		return o
	}

	trusted := newTestEnv(t, withEnv("TRUSTED_DOCUMENTS", manifest, "TRUSTED_DOCUMENTS_ONLY", "true"))
	trusted.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	o := client(trusted, "enforce")
	for _, r := range o.Requests {
		if r.Query {
			t.Errorf("enforce: a request carried the text: %+v", r)
		}
	}
	t.Logf("trusted documents, hashes only: %d requests", len(o.Requests))

	// The default configuration (a miss would send the text) against a
	// server that has the manifest without TRUSTED_DOCUMENTS_ONLY: the
	// hashes are known, nothing misses. (Without the manifest, the text
	// urql prints is not what client-preset hashed, its own normalised
	// print, so no server can check one against the other: a mismatch.)
	apq := newTestEnv(t, withEnv("TRUSTED_DOCUMENTS", manifest))
	apq.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	o = client(apq, "apq")
	for _, r := range o.Requests {
		if r.Query {
			t.Errorf("apq: a request carried the text (a miss): %+v", r)
		}
	}
	t.Logf("trusted documents, urql's default: %d requests", len(o.Requests))
}

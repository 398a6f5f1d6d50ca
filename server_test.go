package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/seatable-graphql/seatable-graphql/graph"
	"github.com/seatable-graphql/seatable-graphql/internal/testenv"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		done       bool
		usageErr   bool
		otherErr   bool
		wantStdout string
	}{
		{args: nil},
		{args: []string{"-version"}, done: true, wantStdout: "seatable-graphql "},
		{args: []string{"--version"}, done: true, wantStdout: runtime.Version()},
		{args: []string{"-print-schema"}, done: true, wantStdout: graph.PrintSchema(schemaSDL)},
		{args: []string{"-h"}, done: true},
		{args: []string{"-bogus"}, done: true, usageErr: true},
		{args: []string{"serve"}, done: true, otherErr: true},
	} {
		var stdout, stderr bytes.Buffer
		done, err := handleFlags(tc.args, &stdout, &stderr)
		if done != tc.done || errors.Is(err, errUsage) != tc.usageErr || (err != nil && !errors.Is(err, errUsage)) != tc.otherErr {
			t.Errorf("%q: done=%v err=%v", tc.args, done, err)
		}
		if !strings.Contains(stdout.String(), tc.wantStdout) || (tc.wantStdout == "" && stdout.Len() > 0) {
			t.Errorf("%q: stdout %.80q, want it to contain %.80q", tc.args, stdout.String(), tc.wantStdout)
		}
		if tc.usageErr && !strings.Contains(stderr.String(), "-print-schema") {
			t.Errorf("%q: usage not printed: %q", tc.args, stderr.String())
		}
	}
}

func TestBuildVersion(t *testing.T) {
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	for _, tc := range []struct {
		ldflags string
		info    *debug.BuildInfo
		want    string
	}{
		{"v1.2.3", vcs("0123456789abcdef0123", "true"), "v1.2.3"},
		{"", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, "v0.4.0"},
		{"", vcs("0123456789abcdef0123", "false"), "devel-0123456789ab"},
		{"", vcs("0123456789abcdef0123", "true"), "devel-0123456789ab-dirty"},
		{"", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{"", nil, "unknown"},
	} {
		if got := buildVersion(tc.ldflags, tc.info); got != tc.want {
			t.Errorf("buildVersion(%q, %+v) = %q, want %q", tc.ldflags, tc.info, got, tc.want)
		}
	}
}

// The printed schema must be the one the server executes: if the schema is
// ever split over several files, the embed must follow. The exception is
// federation (federation.graphqls, docs/federation.md): its @keys and the
// fields gqlgen adds for gateways (_service, _entities) are not the
// clients' schema, which client tools (Relay) read without them.
func TestPrintedSchemaIsTheServedSchema(t *testing.T) {
	printed, err := gqlparser.LoadSchema(&ast.Source{Name: "printed", Input: schemaSDL})
	if err != nil {
		t.Fatalf("printed schema does not parse: %v", err)
	}
	served := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema()
	shape := func(s *ast.Schema) []string {
		var out []string
		for name, def := range s.Types {
			if def.BuiltIn {
				continue
			}
			out = append(out, name)
			for _, f := range def.Fields {
				if f.Position != nil && f.Position.Src != nil && f.Position.Src.BuiltIn {
					continue // added by gqlgen's federation plugin
				}
				out = append(out, name+"."+f.Name+":"+f.Type.String())
			}
			for _, v := range def.EnumValues {
				out = append(out, name+"."+v.Name)
			}
		}
		slices.Sort(out)
		return out
	}
	if p, s := shape(printed), shape(served); !slices.Equal(p, s) {
		t.Errorf("-print-schema differs from the executable schema:\nprinted %v\nserved  %v", p, s)
	}
}

// TestPrintedSchemaDeclaresItsDirectives: tools that build a schema from
// the printed file know only the specification's directives (graphql-js's
// buildSchema, and so GraphQL Code Generator and relay-compiler). Read that
// way, the printed schema must have every directive introspection lists,
// and a document using @defer must validate against it.
func TestPrintedSchemaDeclaresItsDirectives(t *testing.T) {
	printed := graph.PrintSchema(schemaSDL)

	// What introspection lists, asked through gqlgen's handler.
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}))
	srv.AddTransport(transport.POST{})
	srv.Use(extension.Introspection{})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"query":"{ __schema { directives { name } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	srv.ServeHTTP(rec, req)
	var res struct {
		Data struct {
			Schema struct{ Directives []struct{ Name string } } `json:"__schema"`
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || len(res.Data.Schema.Directives) == 0 {
		t.Fatalf("introspection: %v %s", err, rec.Body)
	}
	// Federation's directives (@key, @link...) describe the subgraph to a
	// gateway, which reads them from _service; the printed schema is the
	// clients' (docs/federation.md).
	federation := map[string]bool{}
	for name, d := range graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema().Directives {
		if d.Position != nil && d.Position.Src != nil && strings.HasSuffix(d.Position.Src.Name, "federation/directives.graphql") {
			federation[name] = true
		}
	}
	var introspected []string
	for _, d := range res.Data.Schema.Directives {
		if !federation[d.Name] {
			introspected = append(introspected, d.Name)
		}
	}
	slices.Sort(introspected)

	// The printed file over a prelude with only the specification's
	// directives, as graphql-js reads it.
	spec := map[string]bool{"include": true, "skip": true, "deprecated": true, "specifiedBy": true}
	doc, err := parser.ParseSchemas(validator.Prelude, &ast.Source{Name: "printed", Input: printed})
	if err != nil {
		t.Fatal(err)
	}
	doc.Directives = slices.DeleteFunc(doc.Directives, func(d *ast.DirectiveDefinition) bool {
		return d.Position.Src.BuiltIn && !spec[d.Name]
	})
	schema, err := validator.ValidateSchemaDocument(doc)
	if err != nil {
		t.Fatalf("printed schema: %v", err)
	}
	declared := slices.Sorted(maps.Keys(schema.Directives))
	if !slices.Equal(declared, introspected) {
		t.Errorf("printed schema declares %v, introspection lists %v", declared, introspected)
	}
	q, perr := parser.ParseQuery(&ast.Source{Input: `{ dtables(first: 2) { edges { node { uuid ... @defer(label: "slow") { name } } } } }`})
	if perr != nil {
		t.Fatal(perr)
	}
	if errs := validator.Validate(schema, q); len(errs) > 0 {
		t.Errorf("a document with @defer does not validate against the printed schema: %v", errs)
	}

	// And graphql-js itself, when Node and the client tests' packages are
	// installed.
	t.Run("graphql-js", func(t *testing.T) {
		dir := filepath.Join("tests", "apollo-client")
		node, err := exec.LookPath("node")
		if err == nil {
			_, err = os.Stat(filepath.Join(dir, "node_modules", "graphql", "package.json"))
		}
		if err != nil {
			testenv.Missing(t, testenv.NodePackages, "node and graphql in tests/apollo-client (npm ci --prefix tests/apollo-client)", err)
		}
		file := filepath.Join(t.TempDir(), "schema.graphql")
		if err := os.WriteFile(file, []byte(printed), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(node, "--input-type=module", "-e", `
import { buildSchema, parse, validate } from "graphql";
import { readFileSync } from "node:fs";
const schema = buildSchema(readFileSync(process.argv[1], "utf8"));
const errs = validate(schema, parse('{ dtables(first: 2) { edges { node { uuid ... @defer(label: "slow") { name } } } } }'));
console.log(JSON.stringify({ errors: errs.map(e => e.message), directives: schema.getDirectives().map(d => d.name).sort() }));`, file)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		var got struct {
			Errors     []string
			Directives []string
		}
		if err := json.Unmarshal(out, &got); err != nil || len(got.Errors) > 0 {
			t.Errorf("graphql-js: %v %s", err, out)
		}
		for _, name := range introspected {
			if !slices.Contains(got.Directives, name) {
				t.Errorf("graphql-js's schema from the printed file lacks @%s: %v", name, got.Directives)
			}
		}
	})
}

// TestVersionLdflags links the binary with -ldflags "-X main.version=..."
// and runs both flags, so the version contract the Dockerfile relies on
// cannot rot. The default run builds with the test binary's own settings:
// every dependency then comes from the build cache that go test has just
// filled, and only package main is compiled and linked (a second or two).
// The Dockerfile's exact build (CGO_ENABLED=0 -trimpath) compiles every
// dependency again, over a minute on 2 cores with an empty cache, so it runs
// under CI=true only.
func TestVersionLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	t.Run("link", func(t *testing.T) {
		checkVersionBuild(t)
	})
	t.Run("release", func(t *testing.T) {
		if !testenv.InCI() {
			t.Skip("slow and optional: the Dockerfile's build (CGO_ENABLED=0 -trimpath) recompiles every dependency, " +
				"over a minute with an empty build cache; runs under CI=true")
		}
		checkVersionBuild(t, "CGO_ENABLED=0", "-trimpath")
	})
}

// checkVersionBuild builds the binary with the version set by -ldflags -X,
// with extra environment variables (NAME=value) and go build flags, and
// checks what -version and -print-schema print.
func checkVersionBuild(t *testing.T, extra ...string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "seatable-graphql")
	args := []string{"build"}
	env := os.Environ()
	var shown []string // the command as a shell would show it
	for _, e := range extra {
		if strings.HasPrefix(e, "-") {
			args = append(args, e)
		} else {
			env = append(env, e)
			shown = append(shown, e)
		}
	}
	args = append(args, "-ldflags", "-s -w -X main.version=v9.9.9-test", "-o", bin, ".")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), args...)
	build.Env = env
	shown = append(shown, "go", strings.Join(args, " "))
	start := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(shown, " "), err, out)
	}
	t.Logf("%s: %s", strings.Join(shown, " "), time.Since(start).Round(time.Millisecond))
	out, err := exec.Command(bin, "-version").Output()
	if err != nil || !strings.HasPrefix(string(out), "seatable-graphql v9.9.9-test (go") {
		t.Errorf("-version: %q %v", out, err)
	}
	out, err = exec.Command(bin, "-print-schema").Output()
	if want := graph.PrintSchema(schemaSDL); err != nil || string(out) != want {
		t.Errorf("-print-schema: %v, %d bytes, want the %d bytes of graph.PrintSchema(schema.graphqls)", err, len(out), len(want))
	}

	// Bad settings: all reported, one line each, exit status 2, before
	// anything listens.
	run := exec.Command(bin)
	run.Env = []string{"SEATABLE_URL=cloud.seatable.io", "LISTEN_ADDR=8080"}
	var stderr strings.Builder
	run.Stderr = &stderr
	err = run.Run()
	var exit *exec.ExitError
	want := "seatable-graphql: configuration: SEATABLE_URL=\"cloud.seatable.io\": want http(s)://host[/path], such as https://cloud.seatable.io\n" +
		"seatable-graphql: configuration: LISTEN_ADDR=\"8080\": want host:port"
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.HasPrefix(stderr.String(), want) || strings.Count(stderr.String(), "\n") != 2 {
		t.Errorf("bad configuration: %v, stderr:\n%s\nwant exit status 2 and:\n%s", err, stderr.String(), want)
	}
}

// TestMain prints one line after the run when tests skipped for want of
// something outside Go (internal/testenv.Main), since go test ./... hides
// the skips of passing packages.
func TestMain(m *testing.M) { testenv.Main(m) }

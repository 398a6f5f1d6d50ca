package app

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/seatable-graphql/seatable-graphql"

// TestLayers keeps the house's rules (package app's comment, README "How
// it works"): a request goes HTTP -> app -> graph -> upstream, never back;
// internal/ holds only parts every layer shares; loaders are for data, not
// HTTP; the fake SeaTable is reached only from the command (the demo) and
// tests. It reads the imports of every non-test Go file in the module.
func TestLayers(t *testing.T) {
	type rule struct {
		from, to string // package path prefixes, relative to the module ("" is the root)
		why      string
	}
	forbidden := []rule{
		{"upstream", "graph", "upstream never depends on the GraphQL layer"},
		{"upstream", "app", "upstream never depends on the assembly"},
		{"internal", "graph", "internal/ holds parts every layer shares, below the GraphQL layer"},
		{"internal", "upstream", "internal/ holds parts every layer shares, below the upstream layer"},
		{"internal", "app", "internal/ never depends on the assembly"},
		{"graph", "app", "the GraphQL layer never depends on the assembly"},
		{"graph/loaders", "std:net/http", "loaders are for data: HTTP is the pipeline's business"},
		{"app", "upstream/fakeseatable", "the fake SeaTable is for the demo (the command) and tests"},
		{"graph", "upstream/fakeseatable", "the fake SeaTable is for the demo (the command) and tests"},
		{"internal", "upstream/fakeseatable", "the fake SeaTable is for the demo (the command) and tests"},
	}
	under := func(pkg, prefix string) bool { return pkg == prefix || strings.HasPrefix(pkg, prefix+"/") }
	files := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && d.Name() != "..") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel("..", filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if pkg == "." {
			pkg = ""
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			to := "std:" + p
			if under(p, module) {
				to = strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
			}
			for _, r := range forbidden {
				if pkg != "" && under(pkg, r.from) && (to == r.to || strings.HasPrefix(to, r.to+"/")) {
					t.Errorf("%s imports %s: %s", path, p, r.why)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read %d files: not the module's tree?", files)
	}
}

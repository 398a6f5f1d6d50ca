package graph

import (
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

// specDirectives are the directives of the GraphQL specification, which
// every tool knows without a definition.
var specDirectives = map[string]bool{"include": true, "skip": true, "deprecated": true, "specifiedBy": true}

// PrintSchema is what -print-schema prints: sdl, the schema the server is
// generated from, followed by the definitions of the directives the server
// supports beyond the specification's (@defer, @oneOf). Introspection
// advertises them, but graphql-js, GraphQL Code Generator and relay-compiler
// build a schema from the printed file with only the specification's
// directives, so a document using @defer would not validate against it.
func PrintSchema(sdl string) string {
	declared := map[string]bool{}
	if doc, err := parser.ParseSchema(&ast.Source{Input: sdl}); err == nil {
		for _, d := range doc.Directives {
			declared[d.Name] = true
		}
	}
	served := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	var extra ast.DirectiveDefinitionList
	for name, d := range served.Directives {
		if !specDirectives[name] && !declared[name] && !federationOnly(d) {
			extra = append(extra, d)
		}
	}
	if len(extra) == 0 {
		return sdl
	}
	slices.SortFunc(extra, func(a, b *ast.DirectiveDefinition) int { return strings.Compare(a.Name, b.Name) })
	var b strings.Builder
	b.WriteString(sdl)
	b.WriteString("\n# Supported beyond the GraphQL specification (introspection lists them too).\n")
	for _, d := range extra {
		b.WriteString("\n")
		formatter.NewFormatter(&b, formatter.WithIndent("  "), formatter.WithBuiltin()).
			FormatSchemaDocument(&ast.SchemaDocument{Directives: ast.DirectiveDefinitionList{d}})
	}
	return b.String()
}

// federationOnly reports whether d is one of the federation directives
// gqlgen declares (@key, @link...; federation.graphqls): they describe the
// subgraph to a gateway, which reads them from _service, not the clients'
// schema, and they name types (FieldSet) the printed schema lacks.
func federationOnly(d *ast.DirectiveDefinition) bool {
	return d.Position != nil && d.Position.Src != nil && strings.HasSuffix(d.Position.Src.Name, "federation/directives.graphql")
}

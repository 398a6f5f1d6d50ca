package graph

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// TestCatalogueCoversTheSchema: every field of every object type of the
// served schema (federation's included, introspection's aside) has its one
// entry in the catalogue, and the catalogue names no field the schema
// lacks. The entries are consistent with the schema: lists say how they
// are priced, writers and argument-priced costs have their arguments'
// coercion, the fast path writes no interface or union, and only Query
// fields are replay roots.
func TestCatalogueCoversTheSchema(t *testing.T) {
	inSchema := map[string]bool{}
	var types []string
	for name := range parsedSchema.Types {
		types = append(types, name)
	}
	sort.Strings(types)
	for _, name := range types {
		def := parsedSchema.Types[name]
		if def.Kind != ast.Object || strings.HasPrefix(name, "__") {
			continue
		}
		for _, fd := range def.Fields {
			if strings.HasPrefix(fd.Name, "__") {
				continue // __typename, __schema, __type: introspection's
			}
			key := name + "." + fd.Name
			inSchema[key] = true
			e, ok := catalogue[key]
			if !ok {
				t.Errorf("%s has no catalogue entry (graph/catalogue.go): say how the fast path writes it (or leave it to the executor), where it is read from, what it costs", key)
				continue
			}
			if fd.Type.Elem != nil && e.cost.kind == costDefault {
				t.Errorf("%s is a list: its catalogue entry needs a cost (perElement, flat, byCount, byPage)", key)
			}
			if len(fd.Arguments) > 0 && e.args == nil && (e.write != nil || e.cost.readsArgs()) {
				t.Errorf("%s takes arguments: its catalogue entry needs args, their generated coercion", key)
			}
			if e.args != nil && len(fd.Arguments) == 0 {
				t.Errorf("%s takes no arguments, but its catalogue entry coerces some", key)
			}
			if e.cost.kind == costCount && fd.Arguments.ForName(e.cost.arg) == nil {
				t.Errorf("%s is priced by argument %q, which it does not take", key, e.cost.arg)
			}
			if k := parsedSchema.Types[fd.Type.Name()].Kind; e.write != nil && (k == ast.Interface || k == ast.Union) {
				t.Errorf("%s is a %s: the fast path writes objects only", key, k)
			}
			if e.replay && name != "Query" {
				t.Errorf("%s: only Query fields can be replay roots", key)
			}
			if e.needs != 0 && e.from != listed {
				t.Errorf("%s needs optional base fields but is not listed", key)
			}
		}
	}
	for key := range catalogue {
		if !inSchema[key] {
			t.Errorf("the catalogue has an entry for %s, which the schema does not have", key)
		}
	}
}

// TestReadsOfFollowsTheCatalogue: one walk over an operation says whether
// detail=false serves it, what it needs decoded and whether it may be
// replayed, as the catalogue says field by field.
func TestReadsOfFollowsTheCatalogue(t *testing.T) {
	for _, c := range []struct {
		query string
		want  reads
	}{
		{`{ __typename }`, reads{}},
		{`{ workspaces { id name type ... on Node { id } } }`, reads{replayable: true}},
		{`{ a: workspace(id: "1") { __typename seatableId } }`, reads{replayable: true}},
		{`{ workspaces { groupAdmins } }`, reads{detail: true, replayable: true}},
		{`{ workspaces { tables { color } } }`, reads{detail: true, fields: upstream.FieldColor, replayable: true}},
		{`{ dtables { nodes { name } } }`, reads{detail: true, fields: readsEverything.fields}},
		{`{ workspaces { id } __schema { queryType { name } } }`, reads{fields: readsEverything.fields}},
		{`{ dtable(uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924") { tables { name } } }`, readsEverything},
		{`{ node(id: "x") { id } }`, readsEverything},
		{`mutation { starDTable(input: {uuid: "e3b0c442-98fc-4c14-9afb-f4c8996fb924"}) { uuid } }`, readsEverything},
	} {
		doc, errs := gqlparser.LoadQuery(parsedSchema, c.query)
		if errs != nil {
			t.Fatalf("%s: %v", c.query, errs)
		}
		if got := readsOf(doc.Operations[0]); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.query, got, c.want)
		}
	}
}

// TestCatalogueCosts: the complexity limit prices operations by the
// catalogue's costs as listComplexity priced them (the figures were
// recorded with it): lists SeaTable sends whole by ListSize, pages by their
// size (capped), nodes and _entities by their ids and representations.
func TestCatalogueCosts(t *testing.T) {
	es := costedSchema{NewExecutableSchema(Config{Resolvers: &Resolver{}}).(*executableSchema), 10}
	const u = `"e3b0c442-98fc-4c14-9afb-f4c8996fb924"`
	for _, c := range []struct {
		query string
		want  int
	}{
		{`{ workspaces { id name } }`, 21},
		{`{ workspaces(filter: {nameContains: "a"}) { tables(orderBy: {field: NAME}) { name } folders { items { id } tables { id } } } }`, 1 + 10*(1+10*1+1+10*(1+10*1+1+10*1))},
		{`{ starredDTables { workspace { groupAdmins } } }`, 1 + 10*(1+1)},
		{`{ dtables(first: 5) { nodes { name } edges { node { id } } pageInfo { hasNextPage } totalCount } }`, 1 + 5*(2+3+2+1)},
		{`{ dtables { totalCount } }`, 1 + 100*1},
		{`{ dtables(last: 3000) { totalCount } }`, 1 + 1000*1},
		{`{ dtables(first: -4) { totalCount } }`, 1 + 1*1},
		{`{ nodes(ids: ["a", "b", "c"]) { id } }`, 1 + 3*1},
		{`{ dtable(uuid: ` + u + `) { tables { rows(first: 7) { nodes { id } } views { rows { pageInfo { endCursor } } } columns { name } } } }`,
			1 + (1 + 10*((1+7*(1+1))+(1+(1+100*(1+1)))+(1+1)))},
		{`{ _entities(representations: [{__typename: "Workspace", id: "a"}, {__typename: "Workspace", id: "b"}]) { ... on Workspace { name } } }`, 1 + 2*1},
	} {
		doc, errs := gqlparser.LoadQuery(parsedSchema, c.query)
		if errs != nil {
			t.Fatalf("%s: %v", c.query, errs)
		}
		if got := complexity.Calculate(context.Background(), es, doc.Operations[0], nil); got != c.want {
			t.Errorf("%s: complexity %d, want %d", c.query, got, c.want)
		}
	}
}

package app

import (
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/graph"
)

// TestSchemaIsFullyDocumented introspects the served schema, as the
// playground's docs pane does, and requires a description on every type,
// field, argument, input field and enum value, so that a schema change
// without documentation fails here.
func TestSchemaIsFullyDocumented(t *testing.T) {
	e := newTestEnv(t)
	type inputValue struct{ Name, Description string }
	var data struct {
		Schema struct {
			Types []struct {
				Kind, Name, Description string
				Fields                  []struct {
					Name, Description string
					Args              []inputValue
				}
				InputFields []inputValue
				EnumValues  []struct{ Name, Description string }
			}
		} `json:"__schema"`
	}
	e.mustData(t, "Token any", `{ __schema { types {
		kind name description
		fields(includeDeprecated: true) { name description args(includeDeprecated: true) { name description } }
		inputFields(includeDeprecated: true) { name description }
		enumValues(includeDeprecated: true) { name description }
	} } }`, &data)

	// What gqlgen adds (federation's _service, _entities, _Any and its
	// resolver inputs) is not ours to describe.
	added := map[string]bool{}
	for name, def := range graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema().Types {
		if def.BuiltIn {
			added[string(def.Kind)+" "+name] = true
		}
		for _, f := range def.Fields {
			if def.BuiltIn || f.Position != nil && f.Position.Src != nil && f.Position.Src.BuiltIn {
				added[name+"."+f.Name] = true
				for _, a := range f.Arguments {
					added[name+"."+f.Name+"("+a.Name+")"] = true
				}
			}
		}
	}
	var missing []string
	check := func(what, desc string) {
		if added[what] {
			return
		}
		if strings.TrimSpace(desc) == "" {
			missing = append(missing, what)
		}
	}
	seen := 0
	for _, ty := range data.Schema.Types {
		if strings.HasPrefix(ty.Name, "__") {
			continue // introspection types: the spec's, not ours
		}
		seen++
		check(ty.Kind+" "+ty.Name, ty.Description)
		for _, f := range ty.Fields {
			check(ty.Name+"."+f.Name, f.Description)
			for _, a := range f.Args {
				check(ty.Name+"."+f.Name+"("+a.Name+")", a.Description)
			}
		}
		for _, f := range ty.InputFields {
			check(ty.Name+"."+f.Name, f.Description)
		}
		for _, v := range ty.EnumValues {
			check(ty.Name+"."+v.Name, v.Description)
		}
	}
	if seen < 5 {
		t.Fatalf("introspection returned only %d types: %+v", seen, data)
	}
	if len(missing) > 0 {
		t.Errorf("%d schema elements without a description (the playground's docs pane shows them empty):\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
}

package app

import (
	"strings"
	"testing"
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

	var missing []string
	check := func(what, desc string) {
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

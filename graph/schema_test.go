package graph

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// The playground's docs pane shows descriptions; every type, field,
// argument, enum value and input field of ours must have one.
func TestEverySchemaElementIsDescribed(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	var missing []string
	for name, def := range schema.Types {
		if def.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		if def.Description == "" {
			missing = append(missing, name)
		}
		for _, f := range def.Fields {
			// Fields gqlgen adds (federation's _service, _entities) are
			// not ours to describe.
			if strings.HasPrefix(f.Name, "__") || f.Position != nil && f.Position.Src != nil && f.Position.Src.BuiltIn {
				continue
			}
			if f.Description == "" {
				missing = append(missing, name+"."+f.Name)
			}
			for _, a := range f.Arguments {
				if a.Description == "" {
					missing = append(missing, name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
		if def.Kind == ast.Enum {
			for _, v := range def.EnumValues {
				if v.Description == "" {
					missing = append(missing, name+"."+v.Name)
				}
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("undescribed schema elements: %v", missing)
	}
}

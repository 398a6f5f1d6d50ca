package limits

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

var schema = gqlparser.MustLoadSchema(&ast.Source{Input: `
type Query { node: Node, nodes: [Node!]! }
type Node { id: ID!, child: Node, children: [Node!]! }`})

func validate(t *testing.T, s Shape, query string) []string {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var msgs []string
	for _, e := range validator.ValidateWithRules(schema, doc, Rules(s)()) {
		msgs = append(msgs, e.Message)
	}
	return msgs
}

func nest(depth int) string {
	return "{ node " + strings.Repeat("{ child ", depth-2) + "{ id }" + strings.Repeat(" }", depth-1)
}

func TestShape(t *testing.T) {
	s := Shape{MaxDepth: 4, MaxAliases: 3, MaxFields: 20}
	cases := []struct {
		name, query, want string
	}{
		{"depth at limit", nest(4), ""},
		{"depth over limit", nest(5), "nested 5 levels deep; the limit is 4"},
		{"depth through fragments", `{ ...A } fragment A on Query { node { ...B } } fragment B on Node { child { child { child { id } } } }`, "nested 5 levels deep"},
		{"depth through inline fragments", `{ node { ... on Node { child { child { child { id } } } } } }`, "nested 5 levels deep"},
		{"aliases at limit", `{ a: node { id } b: node { id } c: nodes { id } }`, ""},
		{"aliases over limit", `{ a: node { id } b: node { id } c: node { x: id } }`, "more than 3 aliases"},
		{"aliases counted per spread", `{ node { ...F ...F } } fragment F on Node { a: id b: id }`, "more than 3 aliases"},
		{"introspection exempt", `{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }`, ""},
		{"fields after expansion", `{ node { ...F ...F ...F ...F ...F } } fragment F on Node { id child { id } children { id } }`, "more than 20 fields"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(validate(t, s, tc.query), "; ")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Fatalf("errors %q, want %q", got, tc.want)
			}
		})
	}
}

// A fragment cycle must not hang the rule (gqlparser's NoFragmentCycles
// reports it), and fragments that spread the next one twice must be
// measured in linear time, not 2^n.
func TestShapeTerminatesOnHostileFragments(t *testing.T) {
	s := Shape{MaxDepth: 12, MaxAliases: 50, MaxFields: 1000}
	if got := strings.Join(validate(t, s, `{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { child { ...A } }`), "; "); !strings.Contains(got, "Cannot spread fragment") {
		t.Fatalf("cycle: %q", got)
	}
	var b strings.Builder
	b.WriteString("{ node { ...F0 } }\n")
	for i := range 40 {
		fmt.Fprintf(&b, "fragment F%d on Node { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	b.WriteString("fragment F40 on Node { id }\n")
	start := time.Now()
	got := strings.Join(validate(t, s, b.String()), "; ")
	if !strings.Contains(got, "more than 1000 fields") {
		t.Fatalf("2^40 fields: %q", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
}

// Rules must hand out a fresh set each time: gqlgen mutates it per request.
func TestRulesAreFresh(t *testing.T) {
	f := Rules(Shape{MaxDepth: 1})
	a, b := f(), f()
	if a == b {
		t.Fatal("same *rules.Rules returned twice")
	}
	a.RemoveRule(RuleName)
	if _, ok := b.GetInner()[RuleName]; !ok {
		t.Fatal("removing from one set changed the other")
	}
}

func TestNoIntrospection(t *testing.T) {
	s := Shape{NoIntrospection: true}
	if got := strings.Join(validate(t, s, `{ __schema { types { name } } }`), "; "); !strings.Contains(got, "introspection is disabled") {
		t.Fatalf("__schema: %q", got)
	}
	if got := strings.Join(validate(t, s, `{ __type(name: "Node") { name } }`), "; "); !strings.Contains(got, "introspection is disabled") {
		t.Fatalf("__type: %q", got)
	}
	if got := validate(t, s, `{ __typename node { __typename id } }`); len(got) != 0 {
		t.Fatalf("__typename must stay allowed: %q", got)
	}
}

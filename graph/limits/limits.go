// Package limits bounds what one GraphQL document may cost, with the limits
// gqlgen lacks: a validation rule for selection depth and alias count, and a
// complexity check that reports as a validation failure. Both reject a
// document before any resolver runs or SeaTable is called.
//
// Errors carry GRAPHQL_VALIDATION_FAILED, a code gqlgen already treats as a
// request error (HTTP 400/422 by media type), so no global error-kind
// registration is needed.
package limits

import (
	"context"
	"errors"
	"sync"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/seatable-graphql/seatable-graphql/graph/gqlhttp"
)

// Shape bounds a document's structure. Zero disables a bound.
type Shape struct {
	// MaxDepth is the deepest nesting of fields (`{ a { b } }` is 2).
	// Introspection subtrees are exempt: gqlparser bounds those itself.
	MaxDepth int
	// MaxAliases is the number of aliased fields an operation may select,
	// counting each fragment once per spread.
	MaxAliases int
	// MaxFields is the number of fields an operation selects once every
	// fragment spread is expanded. gqlgen's complexity walk expands
	// fragments without memoising them, so a few fragments that each spread
	// the next twice make it exponential; this bound, checked here in
	// linear time, stops such documents before that walk. Every field costs
	// at least 1 in complexity, so setting it to the complexity limit
	// rejects nothing the complexity limit would accept.
	MaxFields int
	// NoIntrospection rejects __schema and __type during validation. (With
	// introspection off gqlgen would otherwise fail them at execution, as
	// an unclassified field error.) __typename stays allowed.
	NoIntrospection bool
}

// RuleName is the validation rule's name in gqlparser's rule set.
const RuleName = "OperationShapeLimits"

// Rules returns a function for handler.Server.SetValidationRulesFn. Each
// call returns a fresh rule set: gqlgen's executor adds and removes rules on
// the set it gets, so a shared one would be a data race.
func Rules(s Shape) func() *rules.Rules {
	return func() *rules.Rules {
		r := rules.NewDefaultRules()
		if s.MaxDepth > 0 || s.MaxAliases > 0 || s.MaxFields > 0 || s.NoIntrospection {
			r.AddRule(RuleName, s.rule)
		}
		return r
	}
}

func (s Shape) rule(ev *core.Events, addError core.AddErrFunc) {
	if s.NoIntrospection {
		ev.OnField(func(_ *core.Walker, f *ast.Field) {
			if f.Name == "__schema" || f.Name == "__type" {
				addError(core.Message("introspection is disabled on this server"), core.At(f.Position))
			}
		})
	}
	ev.OnOperation(func(w *core.Walker, op *ast.OperationDefinition) {
		m := measurer{fragments: w.Document.Fragments, memo: map[string]cost{}, visiting: map[string]bool{}, cap: max(s.MaxDepth, s.MaxAliases, s.MaxFields) + 1}
		c := m.selectionSet(op.SelectionSet)
		if s.MaxDepth > 0 && c.depth > s.MaxDepth {
			addError(core.Message("operation is nested %d levels deep; the limit is %d", c.depth, s.MaxDepth), core.At(op.Position))
		}
		if s.MaxAliases > 0 && c.aliases > s.MaxAliases {
			addError(core.Message("operation uses more than %d aliases", s.MaxAliases), core.At(op.Position))
		}
		if s.MaxFields > 0 && c.fields > s.MaxFields {
			addError(core.Message("operation selects more than %d fields once fragments are expanded", s.MaxFields), core.At(op.Position))
		}
	})
}

// cost is what a selection set adds below its parent.
type cost struct{ depth, aliases, fields int }

// measurer walks an operation once, expanding fragments. Each fragment's
// cost is computed once (it does not depend on where it is spread), so a
// document of fragments spreading each other many times stays linear; a
// fragment spread inside itself counts as empty here and is reported by
// gqlparser's NoFragmentCycles rule.
type measurer struct {
	fragments ast.FragmentDefinitionList
	memo      map[string]cost
	visiting  map[string]bool
	cap       int // counts saturate here: past the limit the exact figure is moot
}

func (m *measurer) selectionSet(set ast.SelectionSet) cost {
	var c cost
	for _, sel := range set {
		var sub cost
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Name == "__schema" || sel.Name == "__type" {
				continue
			}
			sub = m.selectionSet(sel.SelectionSet)
			sub.depth++
			sub.fields = min(sub.fields+1, m.cap)
			if sel.Alias != "" && sel.Alias != sel.Name {
				sub.aliases++
			}
		case *ast.InlineFragment:
			sub = m.selectionSet(sel.SelectionSet)
		case *ast.FragmentSpread:
			sub = m.fragment(sel.Name)
		}
		c.depth = max(c.depth, sub.depth)
		c.aliases = min(c.aliases+sub.aliases, m.cap)
		c.fields = min(c.fields+sub.fields, m.cap)
	}
	return c
}

func (m *measurer) fragment(name string) cost {
	if c, ok := m.memo[name]; ok {
		return c
	}
	def := m.fragments.ForName(name)
	if def == nil || m.visiting[name] {
		return cost{}
	}
	m.visiting[name] = true
	c := m.selectionSet(def.SelectionSet)
	delete(m.visiting, name)
	m.memo[name] = c
	return c
}

// Complexity rejects an operation whose complexity, computed with the
// schema's complexity functions (list fields multiply their children),
// exceeds Limit. It is gqlgen's extension.ComplexityLimit with an error
// code gqlgen already knows as a request error.
//
// The operations of one batch (gqlhttp.Batch) are limited together: their
// complexities, and their aliases with MaxAliases, are summed, so that a
// batch of ten costs no more than one operation may.
type Complexity struct {
	Limit int
	// MaxAliases caps the aliases of a batch's operations together; each
	// operation alone is checked by the validation rule.
	MaxAliases int
	es         graphql.ExecutableSchema
}

// batchSums is what a batch's operations have used so far.
type batchSums struct {
	mu                  sync.Mutex
	complexity, aliases int
}

type batchSumsKey struct{}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = &Complexity{}

// ExtensionName implements graphql.HandlerExtension.
func (c *Complexity) ExtensionName() string { return "ComplexityLimit" }

// Validate implements graphql.HandlerExtension.
func (c *Complexity) Validate(es graphql.ExecutableSchema) error {
	if c.Limit <= 0 {
		return errors.New("complexity limit must be positive")
	}
	c.es = es
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (c *Complexity) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
	if op == nil {
		return nil // gqlgen reports the missing operation itself
	}
	n := complexity.Calculate(ctx, c.es, op, opCtx.Variables)
	if n > c.Limit {
		return validationError(op, "operation has complexity %d; the limit is %d", n, c.Limit)
	}
	b := gqlhttp.BatchFrom(ctx)
	if b == nil {
		return nil
	}
	sums := b.Value(batchSumsKey{}, func() any { return &batchSums{} }).(*batchSums)
	aliases := 0
	if c.MaxAliases > 0 {
		m := measurer{fragments: opCtx.Doc.Fragments, memo: map[string]cost{}, visiting: map[string]bool{}, cap: c.MaxAliases + 1}
		aliases = m.selectionSet(op.SelectionSet).aliases
	}
	sums.mu.Lock()
	defer sums.mu.Unlock()
	if sums.complexity+n > c.Limit {
		return validationError(op, "the batch's operations have complexity %d together; the limit is %d (MAX_COMPLEXITY, for a whole batch)", sums.complexity+n, c.Limit)
	}
	if c.MaxAliases > 0 && sums.aliases+aliases > c.MaxAliases {
		return validationError(op, "the batch's operations use more than %d aliases together (MAX_ALIASES, for a whole batch)", c.MaxAliases)
	}
	sums.complexity += n
	sums.aliases += aliases
	return nil
}

func validationError(op *ast.OperationDefinition, format string, args ...any) *gqlerror.Error {
	err := gqlerror.ErrorPosf(op.Position, format, args...)
	errcode.Set(err, errcode.ValidationFailed)
	return err
}

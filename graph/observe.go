package graph

import (
	"context"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// Operation is what observers (metrics, request logs) learn about one
// GraphQL operation once its response is ready.
type Operation struct {
	// Name is the document's operation name, "" when anonymous or when the
	// document did not parse or validate (Type is "" then too).
	Name string
	// Type is "query", "mutation" or "subscription".
	Type string
	// Codes are the errors' extensions.code values, first occurrence order,
	// without repeats; empty on success.
	Codes []string
	// Duration runs from the request's arrival at the GraphQL handler to
	// its response being ready.
	Duration time.Duration
}

// Observer is called once per GraphQL response.
type Observer func(ctx context.Context, op Operation)

// observeExtension reports every response, including those for documents
// that failed to parse or validate (gqlgen runs response interceptors for
// those too), to the observers.
type observeExtension struct{ observers []Observer }

var (
	_ graphql.HandlerExtension    = observeExtension{}
	_ graphql.ResponseInterceptor = observeExtension{}
)

func (observeExtension) ExtensionName() string                   { return "Observe" }
func (observeExtension) Validate(graphql.ExecutableSchema) error { return nil }
func (e observeExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	e.report(ctx, resp)
	return resp
}

// report tells the observers about resp, the response to the operation on
// ctx. Shared execution calls it for the requests that joined a run, whose
// responses never pass through gqlgen's interceptors.
func (e observeExtension) report(ctx context.Context, resp *graphql.Response) {
	start := time.Now()
	var op Operation
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		if !oc.Stats.OperationStart.IsZero() {
			start = oc.Stats.OperationStart
		}
		if oc.Operation != nil {
			op.Name, op.Type = oc.Operation.Name, string(oc.Operation.Operation)
		}
	}
	op.Duration = time.Since(start)
	if resp != nil {
		for _, err := range resp.Errors {
			c, _ := err.Extensions[apperr.ExtCode].(string)
			if c == "" {
				c = string(apperr.Internal)
			}
			if !slices.Contains(op.Codes, c) {
				op.Codes = append(op.Codes, c)
			}
		}
	}
	for _, o := range e.observers {
		o(ctx, op)
	}
}

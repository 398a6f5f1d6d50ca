package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
)

// ErrorPresenter classifies every error once, at the edge: application
// errors keep their code and safe message; gqlgen's own errors (parse,
// validation, limits) keep their code; anything else is logged in full and
// reported as INTERNAL with a generic message.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		// Work cancelled with its request: one line per request, not one
		// ERROR line per field.
		err = cancelled(ctx, log, err)
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if ae, ok := apperr.As(err); ok {
			if ae.Code == apperr.Internal {
				log.ErrorContext(ctx, "internal error", "path", gqlErr.Path.String(), "err", auth.From(ctx).Redact(err.Error()))
			}
			gqlErr.Message = ae.Message
			gqlErr.Extensions = apperr.Extensions(gqlErr.Extensions, ae)
			return gqlErr
		}
		var direct *gqlerror.Error
		if errors.As(err, &direct) && direct.Unwrap() == nil {
			// gqlgen's own: parse, validation, coercion and limit errors.
			if gqlErr.Extensions == nil {
				gqlErr.Extensions = map[string]any{}
			}
			// gqlgen's transports echo the whole request body (and read
			// errors) in these messages; gqlhttp rejects such bodies first,
			// this keeps an echo from ever reaching a client.
			for _, prefix := range []string{"json request body could not be decoded", "could not read request body", "variables could not be decoded"} {
				if strings.HasPrefix(gqlErr.Message, prefix) {
					gqlErr.Message = prefix
					gqlErr.Extensions[apperr.ExtCode] = string(apperr.Malformed.Code())
				}
			}
			if _, ok := gqlErr.Extensions[apperr.ExtCode]; !ok {
				gqlErr.Extensions[apperr.ExtCode] = string(apperr.Internal)
			}
			// gqlparser quotes names from the document in full: a 50 KB
			// field name made a 50 KB message.
			gqlErr.Message = longQuote.ReplaceAllStringFunc(gqlErr.Message, func(q string) string {
				return apperr.Echo(q[1 : len(q)-1])
			})
			return gqlErr
		}
		log.ErrorContext(ctx, "unclassified error", "path", gqlErr.Path.String(), "err", auth.From(ctx).Redact(err.Error()))
		gqlErr.Message = "internal error"
		gqlErr.Extensions = map[string]any{apperr.ExtCode: string(apperr.Internal)}
		return gqlErr
	}
}

// withoutSuggestions drops gqlparser's "Did you mean …" hints, which would
// reveal the schema that turning introspection off hides. gqlgen's
// SetDisableSuggestion covers field names only; gqlparser also suggests
// argument names, input fields, enum values and type names (its rules
// append the hint as the message's last sentence).
func withoutSuggestions(next graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		e := next(ctx, err)
		if i := strings.Index(e.Message, " Did you mean "); i >= 0 {
			e.Message = e.Message[:i]
		}
		return e
	}
}

// longQuote is a quoted name in a gqlparser message longer than
// apperr.Echo keeps.
var longQuote = regexp.MustCompile(`"[^"]{41,}"`)

// presented is an application error as the presenter shows it, for the
// hooks that answer an operation with an error without running it (and so
// without the presenter).
func presented(ae *apperr.Error) *gqlerror.Error {
	return &gqlerror.Error{Message: ae.Message, Extensions: apperr.Extensions(nil, ae)}
}

// Recover turns a resolver panic into an INTERNAL error and logs the value
// and stack through slog, with the request's token redacted in case the
// panic value quotes it.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		c := auth.From(ctx)
		log.ErrorContext(ctx, "panic in resolver", "panic", c.Redact(fmt.Sprint(p)), "stack", c.Redact(string(debug.Stack())))
		return apperr.New(apperr.Internal, "internal error")
	}
}

// orderErrors puts a response's errors in document order: by the location
// of the field that failed, then by path. gqlgen resolves sibling fields
// concurrently and lists their errors as they come, so one request could
// list them in a different order each time; clients and caches that
// compare responses, the metrics' outcome (the first error's code) and the
// fast path's differential tests need one order.
func orderErrors(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 1 {
		slices.SortStableFunc(resp.Errors, compareErrors)
	}
	return resp
}

func compareErrors(a, b *gqlerror.Error) int {
	la, lb := firstLocation(a), firstLocation(b)
	if la.Line != lb.Line {
		return la.Line - lb.Line
	}
	if la.Column != lb.Column {
		return la.Column - lb.Column
	}
	return comparePaths(a.Path, b.Path)
}

func firstLocation(e *gqlerror.Error) gqlerror.Location {
	if len(e.Locations) == 0 {
		return gqlerror.Location{}
	}
	return e.Locations[0]
}

// comparePaths orders paths element by element; list indexes numerically,
// an index before a name, a prefix before what extends it.
func comparePaths(a, b ast.Path) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ai, aIdx := a[i].(ast.PathIndex)
		bi, bIdx := b[i].(ast.PathIndex)
		switch {
		case aIdx && bIdx:
			if ai != bi {
				return int(ai) - int(bi)
			}
		case aIdx:
			return -1
		case bIdx:
			return 1
		default:
			an, _ := a[i].(ast.PathName)
			bn, _ := b[i].(ast.PathName)
			if c := strings.Compare(string(an), string(bn)); c != 0 {
				return c
			}
		}
	}
	return len(a) - len(b)
}

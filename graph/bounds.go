package graph

// Bounds that depend on what an operation meets at run time, not on its
// document: the size of its answer (MAX_RESPONSE_BYTES, with the list
// lengths SeaTable actually returned), a token SeaTable rejects, and work
// cancelled because the client left or the deadline passed.

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seatable-graphql/seatable-graphql/graph/gqlhttp"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// opBounds is one operation's run-time state.
type opBounds struct {
	// limit is the most bytes the answer may have (gqlhttp.ResponseLimit),
	// max the setting (MAX_RESPONSE_BYTES) it comes from; 0 is unbounded.
	limit, max int64
	// used is a lower bound of the answer's bytes so far: each list costs
	// its real length times the least its elements can take, each string
	// its length.
	used atomic.Int64
	// over is set once the answer cannot fit: lists met from then on are
	// left empty, so no more of the answer is built, and the answer is
	// replaced by an error.
	over atomic.Bool
	// rejected is set once SeaTable answered 401 for the token: the
	// operation's remaining mutations are refused without a call.
	rejected *atomic.Bool
	// cancelled logs work cancelled by the client or the deadline once.
	cancelled *sync.Once
}

type opBoundsKey struct{}

func boundsFrom(ctx context.Context) *opBounds {
	b, _ := ctx.Value(opBoundsKey{}).(*opBounds)
	return b
}

// requestShared is what the operations of one batch share: a token
// rejected by one is rejected for all, and cancellation is logged once per
// HTTP request.
type requestShared struct {
	rejected  atomic.Bool
	cancelled sync.Once
}

type requestSharedKey struct{}

// aroundOperationBounds puts the operation's bounds on its context and
// replaces an answer over the limit by an error naming it.
func aroundOperationBounds(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	shared := &requestShared{}
	if b := gqlhttp.BatchFrom(ctx); b != nil {
		shared = b.Value(requestSharedKey{}, func() any { return &requestShared{} }).(*requestShared)
	}
	left, most := gqlhttp.ResponseLimit(ctx)
	ob := &opBounds{limit: left, max: most, rejected: &shared.rejected, cancelled: &shared.cancelled}
	h := next(context.WithValue(ctx, opBoundsKey{}, ob))
	if ob.limit <= 0 {
		return h
	}
	// A subscription's events are answers of their own, each within the
	// limit: counted together, a long stream of events that each fit
	// would end once their sum passed it. An answer streamed in parts
	// (@defer) is one answer: its parts count together.
	perEvent := false
	if graphql.HasOperationContext(ctx) {
		op := graphql.GetOperationContext(ctx).Operation
		perEvent = op != nil && op.Operation == ast.Subscription
	}
	var written int64
	ended := false
	return func(ctx context.Context) *graphql.Response {
		if ended {
			return nil
		}
		if perEvent {
			written = 0
			ob.used.Store(0)
			ob.over.Store(false)
		}
		resp := h(ctx)
		if resp == nil {
			return nil
		}
		written += responseSize(resp)
		if !ob.over.Load() && written <= ob.limit {
			return resp
		}
		err := presented(apperr.AnswerTooLarge.Error(gqlhttp.ResponseTooLarge(ob.max)))
		out := &graphql.Response{Errors: gqlerror.List{err}}
		if perEvent {
			return out // this event is the error; the next may fit
		}
		ended = true
		if resp.HasNext != nil {
			no := false
			out.HasNext = &no
		}
		return out
	}
}

// responseSize is about what resp takes once encoded: its data and, for
// each error, its message and path.
func responseSize(resp *graphql.Response) int64 {
	n := int64(len(resp.Data))
	for _, e := range resp.Errors {
		n += int64(len(e.Message)) + 64 + 16*int64(len(e.Path))
	}
	return n
}

// boundFields is the field middleware of these bounds.
func boundFields(ctx context.Context, next graphql.Resolver) (any, error) {
	ob := boundsFrom(ctx)
	if ob == nil {
		return next(ctx)
	}
	fc := graphql.GetFieldContext(ctx)
	if fc != nil && fc.Object == "Mutation" && ob.rejected.Load() {
		return nil, &apperr.Error{Code: apperr.Unauthenticated, Message: "SeaTable rejected this token earlier in this request", UpstreamStatus: 401}
	}
	res, err := next(ctx)
	if err != nil {
		if ae, ok := apperr.As(err); ok && ae.Code == apperr.Unauthenticated && ae.UpstreamStatus == 401 {
			ob.rejected.Store(true)
			gqlhttp.TokenRejected(ctx)
		}
		return res, err
	}
	if ob.limit <= 0 || fc == nil || res == nil {
		return res, nil
	}
	return ob.charge(fc.Field, res), nil
}

// charge adds what res adds to the answer at least, and returns res, or
// an empty list in its place once the answer cannot fit.
func (ob *opBounds) charge(f graphql.CollectedField, res any) any {
	var n int64
	switch v := res.(type) {
	case string:
		n = int64(len(v)) + 1 // the quotes, less the byte the element's share counted
	case *string:
		if v != nil {
			n = int64(len(*v)) + 1
		}
	default:
		rv := reflect.ValueOf(res)
		if rv.Kind() != reflect.Slice {
			return res
		}
		if ob.over.Load() {
			return reflect.MakeSlice(rv.Type(), 0, 0).Interface()
		}
		n = 2 + int64(rv.Len())*(elementMin(f.Selections)+1)
		if ob.used.Add(n) > ob.limit {
			ob.over.Store(true)
			return reflect.MakeSlice(rv.Type(), 0, 0).Interface()
		}
		return res
	}
	if ob.used.Add(n) > ob.limit {
		ob.over.Store(true)
	}
	return res
}

// elementMin is the fewest bytes a list element selecting set takes: its
// braces, and for each field its quoted key, a colon and one byte of value.
// Fragments count nothing: they may not apply to an element.
func elementMin(set ast.SelectionSet) int64 {
	if len(set) == 0 {
		return 1 // a scalar
	}
	n := int64(2)
	for _, sel := range set {
		if f, ok := sel.(*ast.Field); ok {
			n += int64(len(f.Alias)) + 5
		}
	}
	return n
}

// cancelled handles an error of work cancelled because the request ended
// (the client left, or its deadline passed): it logs that once per HTTP
// request, below ERROR (the client is gone or already told; one abandoned
// request used to log one ERROR line per field), and classifies the error
// if nothing did. Other errors are returned as they are.
func cancelled(ctx context.Context, log *slog.Logger, err error) error {
	if ctx.Err() == nil || !(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return err
	}
	code, msg := apperr.UpstreamUnavailable, "request cancelled"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		code, msg = apperr.UpstreamTimeout, "the request ran past its deadline"
	}
	once := &sync.Once{}
	if ob := boundsFrom(ctx); ob != nil {
		once = ob.cancelled
	}
	once.Do(func() {
		log.InfoContext(ctx, "request work cancelled", "reason", msg)
	})
	if ae, ok := apperr.As(err); ok && ae.Code != apperr.Internal {
		return err
	}
	return apperr.Wrap(code, msg, err)
}

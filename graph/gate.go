package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/seatable-graphql/seatable-graphql/graph/trusted"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// operationGate is what every operation meets before anything parses,
// persists or runs it, whatever its transport: a POST, a GET, each element
// of a batch, an SSE stream, each subscribe on a WebSocket. The HTTP layer
// in front refuses the same things earlier with an HTTP status, but a
// WebSocket carries many operations after one upgrade, and only gqlgen sees
// them.
//
//   - the query's size (MAX_QUERY_BYTES);
//   - trusted documents (TRUSTED_DOCUMENTS): trusted.Store.Admit turns an
//     APQ hash of a trusted document into its text, checks a text sent with
//     a hash against it, and with TRUSTED_DOCUMENTS_ONLY refuses every other
//     document, whatever the APQ store holds.
type operationGate struct {
	maxQueryBytes int
	trusted       *trusted.Store // nil: no manifest
	opts          trusted.Options
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = operationGate{}

func init() {
	// A request the gate (or APQ) refuses never ran: a request error, like
	// a validation error. gqlgen's transports then answer as for one: 4xx
	// for application/graphql-response+json, and on a WebSocket an `error`
	// message for the operation's id rather than a `next`. gqlgen's
	// documented way to say so is this registry, written once at start.
	errcode.RegisterErrorType(string(apperr.Rejected.Code()), errcode.KindProtocol)
}

func (operationGate) ExtensionName() string { return "OperationGate" }

func (operationGate) Validate(graphql.ExecutableSchema) error { return nil }

func (g operationGate) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if g.maxQueryBytes > 0 && len(raw.Query) > g.maxQueryBytes && (g.trusted == nil || !g.trusted.Trusted(raw.Query)) {
		// (Over HTTP a documentId's text is in the query by now: the
		// manifest's documents are not bound by the limit.)
		return requestError(fmt.Sprintf("query exceeds the limit of %d bytes (MAX_QUERY_BYTES)", g.maxQueryBytes))
	}
	if g.trusted == nil {
		return nil
	}
	hash := apqHash(raw)
	opts := g.opts
	if opts.Only && opts.Exempt != nil && opts.Exempt(ctx) {
		opts.Only = false // a federation gateway's plan (GATEWAY_SECRET)
	}
	text, refused := g.trusted.Admit(raw.Query, hash, opts)
	if refused != nil {
		return requestError(refused.Message)
	}
	switch {
	case raw.Query == "" && text != "":
		// A trusted document named by its hash: nothing for APQ to look
		// up or to store.
		raw.Query = text
		dropAPQ(raw)
	case hash != "" && text != "":
		// Its text came with it and matches: APQ may store it, under the
		// hash in the form it compares (no "sha256:" prefix).
		setAPQHash(raw, sha256Hex(text))
	}
	return nil
}

// requestError is a refusal of an operation before it runs.
func requestError(msg string) *gqlerror.Error {
	return presented(apperr.Rejected.Error(msg))
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// refuseDeferWithoutStream answers an operation using @defer that came
// through a one-response transport (oneResponse, incremental.go) with an
// error, before it runs: like the gate, it refuses before anything is read.
func refuseDeferWithoutStream(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if one, _ := ctx.Value(oneResponseKey{}).(bool); !one || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	if oc := graphql.GetOperationContext(ctx); usesDefer(oc.Doc, oc.Operation) {
		err := presented(apperr.New(apperr.BadUserInput, "@defer needs a streamed answer: send the query by POST with \"Accept: multipart/mixed\" (Apollo Client, urql) or \"Accept: text/event-stream\""))
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{err}})
	}
	return next(ctx)
}

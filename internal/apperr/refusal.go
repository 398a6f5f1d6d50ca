package apperr

import (
	"math"
	"net/http"
	"time"
)

// PersistedQueryNotFound is gqlgen's code for an APQ hash it does not
// hold, which the trusted documents reuse for a documentId not in the
// manifest: clients (Apollo's persisted-queries link) switch on it.
const PersistedQueryNotFound Code = "PERSISTED_QUERY_NOT_FOUND"

// Refusal is a kind of answer given without running: the request (or one
// operation of a batch) breaks a rule of the HTTP layer, a limit, or
// arrives when there is no room for it. Its row in refusals is the one
// place that says the code and the HTTP status of such an answer; every
// writer of an error envelope (graph/gqlhttp, the trusted documents,
// the stream slots, the rate limit, the operation gate) looks it up there.
type Refusal uint8

// The refusals, by what the client should do about them.
const (
	// Malformed: not a well-formed GraphQL-over-HTTP request.
	Malformed Refusal = iota + 1
	// WrongMethod: a method /graphql does not serve, or a mutation over GET.
	WrongMethod
	// TooLarge: a body or query text over its limit.
	TooLarge
	// WrongMediaType: a body that is not application/json in UTF-8.
	WrongMediaType
	// Rejected: a document refused before it runs (parse, validation,
	// the operation gate, APQ): a request error, whose status depends on
	// the media type (GraphQL over HTTP: 200 for application/json).
	Rejected
	// UnknownDocument: a documentId that is not in the manifest.
	UnknownDocument
	// Untrusted: a document that is not trusted, with
	// TRUSTED_DOCUMENTS_ONLY.
	Untrusted
	// Throttled: the caller's rate limit is spent; retry after a while.
	Throttled
	// NoRoom: no stream slot free, or the server is shutting down; retry
	// after a while.
	NoRoom
	// Failed: this server broke.
	Failed
	// NotRun: an operation of a batch whose request ended before it ran.
	NotRun
	// TokenRejected: an operation of a batch after SeaTable rejected the
	// batch's token.
	TokenRejected
	// AnswerTooLarge: an answer over MAX_RESPONSE_BYTES.
	AnswerTooLarge
)

// refusals is the table: the code, and the HTTP status with an
// application/json answer (json) and with an
// application/graphql-response+json one (graphQL). Refusals that only
// ever answer one operation inside a response (a batch's element, an
// answer cut short) have status 200: the response as a whole is fine.
var refusals = [...]struct {
	code          Code
	json, graphQL int
}{
	Malformed:       {BadUserInput, http.StatusBadRequest, http.StatusBadRequest},
	WrongMethod:     {BadUserInput, http.StatusMethodNotAllowed, http.StatusMethodNotAllowed},
	TooLarge:        {BadUserInput, http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge},
	WrongMediaType:  {BadUserInput, http.StatusUnsupportedMediaType, http.StatusUnsupportedMediaType},
	Rejected:        {BadUserInput, http.StatusOK, http.StatusBadRequest},
	UnknownDocument: {PersistedQueryNotFound, http.StatusOK, http.StatusOK},
	Untrusted:       {BadUserInput, http.StatusBadRequest, http.StatusBadRequest},
	Throttled:       {RateLimited, http.StatusTooManyRequests, http.StatusTooManyRequests},
	NoRoom:          {UpstreamUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable},
	Failed:          {Internal, http.StatusInternalServerError, http.StatusInternalServerError},
	NotRun:          {UpstreamTimeout, http.StatusOK, http.StatusOK},
	TokenRejected:   {Unauthenticated, http.StatusOK, http.StatusOK},
	AnswerTooLarge:  {BadUserInput, http.StatusOK, http.StatusOK},
}

// Code is the code the refusal's error carries.
func (k Refusal) Code() Code { return refusals[k].code }

// Status is the HTTP status of an answer that is only this refusal;
// graphQLResponse: the answer is application/graphql-response+json.
func (k Refusal) Status(graphQLResponse bool) int {
	if graphQLResponse {
		return refusals[k].graphQL
	}
	return refusals[k].json
}

// Error is the refusal as an application error with a client-safe message.
func (k Refusal) Error(msg string) *Error { return &Error{Code: k.Code(), Message: msg} }

// Extension keys of every error a client sees.
const (
	ExtCode           = "code"
	ExtUpstreamStatus = "upstreamStatus"
	ExtRetryAfter     = "retryAfter"
)

// Extensions are an error's extensions as a client sees them: its code,
// SeaTable's status when SeaTable answered, and how many seconds to wait
// before retrying when that is known. ext, when not nil, is added to.
func Extensions(ext map[string]any, e *Error) map[string]any {
	if ext == nil {
		ext = make(map[string]any, 1)
	}
	ext[ExtCode] = string(e.Code)
	if e.UpstreamStatus != 0 {
		ext[ExtUpstreamStatus] = e.UpstreamStatus
	}
	if e.RetryAfter > 0 {
		ext[ExtRetryAfter] = RetrySeconds(e.RetryAfter)
	}
	return ext
}

// RetrySeconds is a wait in whole seconds for Retry-After and
// extensions.retryAfter: rounded up, at least 1 (0 would invite a retry
// at once).
func RetrySeconds(d time.Duration) int {
	return max(int(math.Ceil(d.Seconds())), 1)
}

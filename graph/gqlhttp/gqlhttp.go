// Package gqlhttp is the thin HTTP layer in front of gqlgen's handler that
// makes /graphql behave as the GraphQL-over-HTTP spec asks and bounds what a
// request may cost before gqlgen sees it: a body size limit (413), a request
// deadline on the context, only GET/POST/OPTIONS, only JSON request bodies
// in valid UTF-8, well-formed request parameters (400), and spec status
// codes for gqlgen's request errors (200 with application/json, 400 with
// application/graphql-response+json, no "data" entry, 405 for a mutation
// over GET).
//
// A POST body that is a JSON array is a batch (Apollo's BatchHttpLink): each
// element runs as its own request through the same handler, in order, and
// the answer is the array of their answers; an element that fails (even one
// that is not a valid request) fails alone. The elements share one Batch
// on their context, through which the GraphQL layer shares the request's
// loaders, so a batch of reads costs what one read costs.
//
// It never echoes a request body or header back to the client.
package gqlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// Media types of GraphQL responses.
const (
	MediaJSON            = "application/json"
	MediaGraphQLResponse = "application/graphql-response+json"
)

// Options bound a request. Zero values disable a bound.
type Options struct {
	// MaxBodyBytes caps a POST body; larger ones get 413.
	MaxBodyBytes int64
	// RequestTimeout is the deadline put on the request context: resolvers
	// and upstream calls, retries included, end by then.
	RequestTimeout time.Duration
	// MaxBatch caps the operations of a batch (a JSON array body); 0 turns
	// batching off (an array is then a bad request).
	MaxBatch int
	// MaxQueryBytes caps the query text (POST body or GET parameter);
	// longer ones get 413 before anything parses, caches or persists them.
	MaxQueryBytes int
	// MaxResponseBytes caps one answer, and the answers of one batch
	// together: the GraphQL layer reads the bound with ResponseLimit and
	// stops building an answer past it; a batch's later operations get
	// what the earlier ones left.
	MaxResponseBytes int64
	// MaxBatchTokens caps the GraphQL tokens of a batch's query texts
	// together: each text is parsed and validated, whose worst case grows
	// faster than its size, so this bounds a batch's CPU as MAX_TOKENS
	// bounds one document's.
	MaxBatchTokens int
}

// Handler wraps next, gqlgen's handler for the GraphQL endpoint.
func Handler(next http.Handler, o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsStream(r) {
			serveStream(w, r, next, o)
			return
		}
		// One copy of the request for both values: each WithContext
		// allocates a whole http.Request.
		if o.RequestTimeout > 0 || o.MaxResponseBytes > 0 {
			ctx := r.Context()
			if o.RequestTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, o.RequestTimeout)
				defer cancel()
			}
			if o.MaxResponseBytes > 0 {
				ctx = withResponseLimit(ctx, o.MaxResponseBytes, o.MaxResponseBytes)
			}
			r = r.WithContext(ctx)
		}
		// Every answer is one caller's data, chosen by the Authorization
		// header: GET, APQ and replayed answers especially may be kept by
		// a browser or proxy, never shared between callers.
		w.Header().Set("Cache-Control", "private")
		w.Header().Add("Vary", "Authorization")
		switch r.Method {
		case http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		case http.MethodGet:
			if refused, msg := checkGET(r, o.MaxQueryBytes); refused != 0 {
				Refuse(w, r, refused, msg, 0)
				return
			}
		case http.MethodPost:
			raw, refused, msg := readPOST(w, r, o.MaxBodyBytes)
			if refused == 0 && isArray(raw) {
				serveBatch(w, r, raw, next, o)
				return
			}
			if refused == 0 {
				refused, msg = checkParams(raw, o.MaxQueryBytes)
			}
			if refused != 0 {
				Refuse(w, r, refused, msg, 0)
				return
			}
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			Refuse(w, r, apperr.WrongMethod, "method not allowed: use POST (or GET for queries)", 0)
			return
		}
		rw := &rewriter{ResponseWriter: w, get: r.Method == http.MethodGet}
		defer rw.finish()
		next.ServeHTTP(rw, r)
	})
}

// IsStream reports whether r opens a subscription stream: a WebSocket
// upgrade, or a GraphQL-over-SSE POST (Accept: text/event-stream). Streams
// live as long as the client wants, so they get no request deadline.
func IsStream(r *http.Request) bool {
	if r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return true
	}
	return r.Method == http.MethodPost && strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// serveStream passes a stream to gqlgen: an upgrade as it is, an SSE POST
// after the same body checks as any POST. The writer is not wrapped: the
// SSE transport needs http.Flusher and WebSocket the hijacker, and gqlgen's
// stream answers have no 4xx to rewrite.
func serveStream(w http.ResponseWriter, r *http.Request, next http.Handler, o Options) {
	if r.Method == http.MethodPost {
		raw, refused, msg := readPOST(w, r, o.MaxBodyBytes)
		if refused == 0 && isArray(raw) {
			refused, msg = apperr.Malformed, "a batch (a JSON array) cannot be streamed: send one operation"
		}
		if refused == 0 {
			refused, msg = checkParams(raw, o.MaxQueryBytes)
		}
		if refused != 0 {
			Refuse(w, r, refused, msg, 0)
			return
		}
	}
	if o.MaxResponseBytes > 0 {
		// Each answer on a stream (a subscription's event, an @defer
		// answer's parts together) is bounded as one over HTTP is.
		r = r.WithContext(withResponseLimit(r.Context(), o.MaxResponseBytes, o.MaxResponseBytes))
	}
	next.ServeHTTP(w, r)
}

// checkGET validates the URL parameters of a GET request; it returns why
// the request must be refused, 0 if it may go on.
func checkGET(r *http.Request, maxQuery int) (apperr.Refusal, string) {
	// Strictly, as gqlgen's GET transport parses them: a query string it
	// cannot parse is refused here, with a code, rather than by gqlgen
	// without one.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return apperr.Malformed, err.Error()
	}
	for _, k := range []string{"variables", "extensions"} {
		if v := q.Get(k); v != "" && !isJSONObject([]byte(v)) {
			return apperr.Malformed, k + " must be a JSON object"
		}
	}
	if strings.TrimSpace(q.Get("query")) == "" && !persisted([]byte(q.Get("extensions"))) && q.Get("documentId") == "" && q.Get("doc_id") == "" {
		return apperr.Malformed, "missing query parameter"
	}
	if maxQuery > 0 && len(q.Get("query")) > maxQuery {
		return apperr.TooLarge, queryTooLarge(maxQuery)
	}
	return 0, ""
}

// queryTooLarge is the answer to a query over MAX_QUERY_BYTES. 413, like a
// body over MAX_BODY_BYTES: GraphQL-over-HTTP clients treat any 4xx with a
// JSON "errors" list as a request error, and 413 tells a person reading
// logs exactly what happened.
func queryTooLarge(maxQuery int) string {
	return fmt.Sprintf("query exceeds the limit of %d bytes", maxQuery)
}

// readPOST reads a POST body within the size limit, puts it back on r for
// gqlgen and returns it. It returns why the request must be refused, 0 if
// it may go on.
func readPOST(w http.ResponseWriter, r *http.Request, maxBytes int64) ([]byte, apperr.Refusal, string) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, apperr.WrongMediaType, "missing Content-Type: send application/json"
	}
	if ct != MediaJSON { // the usual value needs no parsing (a map per request)
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != MediaJSON {
			return nil, apperr.WrongMediaType, "unsupported Content-Type: send application/json"
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return nil, apperr.WrongMediaType, "unsupported charset: send utf-8"
		}
	}
	if maxBytes > 0 && r.ContentLength > maxBytes {
		return nil, apperr.TooLarge, bodyTooLarge(maxBytes)
	}
	body := r.Body
	if maxBytes > 0 {
		// Also catches chunked bodies, which declare no length.
		body = http.MaxBytesReader(w, r.Body, maxBytes)
	}
	// Sized from Content-Length once it is known to be within the limit, so
	// a large body is read in one allocation rather than several copies.
	size := int64(512)
	if maxBytes > 0 && r.ContentLength > 0 {
		size = r.ContentLength + 1
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if _, err := buf.ReadFrom(body); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, apperr.TooLarge, bodyTooLarge(maxBytes)
		}
		return nil, apperr.Malformed, "could not read the request body"
	}
	raw := buf.Bytes()
	r.Body = io.NopCloser(bytes.NewReader(raw))
	r.ContentLength = int64(len(raw))
	return raw, 0, ""
}

// bodyTooLarge is the answer to a body over MAX_BODY_BYTES (formatted only
// when a body is refused, not for every request).
func bodyTooLarge(maxBytes int64) string {
	return fmt.Sprintf("request body exceeds the limit of %d bytes", maxBytes)
}

func isArray(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '['
}

// Batch is what the operations of one batch share: values made once for
// the whole HTTP request (the GraphQL layer keeps its loaders here).
type Batch struct {
	mu            sync.Mutex
	vals          map[any]any
	tokenRejected atomic.Bool
}

// Value returns the batch's value for key, made by mk on first use.
func (b *Batch) Value(key any, mk func() any) any {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.vals[key]
	if !ok {
		v = mk()
		b.vals[key] = v
	}
	return v
}

type batchKey struct{}

// BatchFrom returns the batch a request's operation belongs to, or nil.
func BatchFrom(ctx context.Context) *Batch {
	b, _ := ctx.Value(batchKey{}).(*Batch)
	return b
}

// serveBatch answers a JSON array of requests with the array of their
// answers, each produced as if it had come alone (same checks, same status
// handling), in order. The HTTP status is 200 unless the batch itself is
// unusable. The batch is bounded as a whole: its operations' tokens
// (MaxBatchTokens) and answer bytes (MaxResponseBytes) together, and once
// SeaTable has rejected the token, or the request has ended, the remaining
// operations are answered without running.
func serveBatch(w http.ResponseWriter, r *http.Request, raw []byte, next http.Handler, o Options) {
	if o.MaxBatch <= 0 {
		Refuse(w, r, apperr.Malformed, "batched requests (a JSON array) are turned off (MAX_BATCH=0): send one operation per request", 0)
		return
	}
	if !utf8.Valid(raw) {
		Refuse(w, r, apperr.Malformed, "request body is not valid UTF-8", 0)
		return
	}
	items, refused, msg := decodeBatch(raw, o.MaxBatch)
	if refused != 0 {
		Refuse(w, r, refused, msg, 0)
		return
	}
	b := &Batch{vals: map[any]any{}}
	ctx := context.WithValue(r.Context(), batchKey{}, b)
	tokens := 0
	var used int64
	out := []byte{'['}
	for i, item := range items {
		if i > 0 {
			out = append(out, ',')
		}
		var answer []byte
		left := o.MaxResponseBytes - used
		switch {
		case ctx.Err() != nil:
			// The client is gone or the deadline passed: running the rest
			// would only make work nobody reads.
			answer = errorAnswer(r, apperr.NotRun, "the request ended before this operation ran")
		case b.tokenRejected.Load():
			answer = errorAnswer(r, apperr.TokenRejected, "SeaTable rejected this token earlier in this batch")
		case o.MaxResponseBytes > 0 && left < minAnswer:
			answer = errorAnswer(r, apperr.AnswerTooLarge, ResponseTooLarge(o.MaxResponseBytes))
		default:
			if o.MaxBatchTokens > 0 {
				tokens += queryTokens(item, o.MaxBatchTokens-tokens+1)
				if tokens > o.MaxBatchTokens {
					answer = errorAnswer(r, apperr.TooLarge, fmt.Sprintf("the batch's queries hold more than %d GraphQL tokens together (MAX_BATCH_TOKENS)", o.MaxBatchTokens))
					break
				}
			}
			octx := ctx
			if o.MaxResponseBytes > 0 {
				octx = withResponseLimit(ctx, left, o.MaxResponseBytes)
			}
			answer = serveOne(octx, r, item, next, o.MaxQueryBytes)
			if o.MaxResponseBytes > 0 && int64(len(answer)) > left {
				// An answer the GraphQL layer did not build (a replay)
				// is checked here.
				answer = errorAnswer(r, apperr.AnswerTooLarge, ResponseTooLarge(o.MaxResponseBytes))
			}
		}
		used += int64(len(answer))
		out = append(out, answer...)
	}
	out = append(out, ']')
	w.Header().Set("Content-Type", ResponseType(r)+"; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// minAnswer is the least room an operation of a batch needs to be run: a
// short answer, or the error that says the batch's answers are too large.
const minAnswer = 256

// decodeBatch splits a batch into its elements one by one, stopping at the
// first element past maxBatch: an array of a million elements costs no
// more than one of maxBatch+1.
func decodeBatch(raw []byte, maxBatch int) ([]json.RawMessage, apperr.Refusal, string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, apperr.Malformed, "request body is not valid JSON"
	}
	var items []json.RawMessage
	for dec.More() {
		if len(items) == maxBatch {
			return nil, apperr.Malformed, fmt.Sprintf("a batch holds at most %d operations (MAX_BATCH), this one has more", maxBatch)
		}
		var item json.RawMessage
		if err := dec.Decode(&item); err != nil {
			return nil, apperr.Malformed, "request body is not valid JSON"
		}
		items = append(items, item)
	}
	if _, err := dec.Token(); err != nil {
		return nil, apperr.Malformed, "request body is not valid JSON"
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, apperr.Malformed, "request body is not valid JSON"
	}
	if len(items) == 0 {
		return nil, apperr.Malformed, "empty batch: send at least one operation"
	}
	return items, 0, ""
}

// queryTokens counts the GraphQL tokens of an element's query text, up to
// limit; an element that is not a request counts nothing (it is refused
// without parsing).
func queryTokens(item []byte, limit int) int {
	p, msg := decodeParams(item)
	var query string
	if msg != "" || json.Unmarshal(p.Query, &query) != nil {
		return 0
	}
	lex := lexer.New(&ast.Source{Input: query})
	n := 0
	for n < limit {
		t, err := lex.ReadToken()
		if err != nil || t.Kind == lexer.EOF {
			break
		}
		n++
	}
	return n
}

// errorAnswer is the answer of a batch element refused without running.
func errorAnswer(r *http.Request, k apperr.Refusal, msg string) []byte {
	rec := &recorder{header: http.Header{}}
	Refuse(rec, r, k, msg, 0)
	return bytes.TrimSpace(rec.body.Bytes())
}

// TokenRejected records that SeaTable rejected the request's token (401):
// the batch's remaining operations are answered UNAUTHENTICATED without
// running. Outside a batch it does nothing.
func TokenRejected(ctx context.Context) {
	if b := BatchFrom(ctx); b != nil {
		b.tokenRejected.Store(true)
	}
}

// ResponseTooLarge is the message for an answer over MAX_RESPONSE_BYTES.
func ResponseTooLarge(limit int64) string {
	return fmt.Sprintf("the answer exceeds the limit of %d bytes (MAX_RESPONSE_BYTES, for one answer and for a batch's answers together): select fewer fields, or page with dtables(first:)", limit)
}

type responseLimitKey struct{}

// responseLimit is what an answer may take: left of max (MaxResponseBytes)
// once a batch's earlier answers are counted.
type responseLimit struct{ left, max int64 }

func withResponseLimit(ctx context.Context, left, max int64) context.Context {
	return context.WithValue(ctx, responseLimitKey{}, responseLimit{left, max})
}

// ResponseLimit is how many bytes the answer to the operation on ctx may
// have (left), and the setting it comes from (max); 0 is unbounded
// (streams, and MaxResponseBytes 0).
func ResponseLimit(ctx context.Context) (left, max int64) {
	l, _ := ctx.Value(responseLimitKey{}).(responseLimit)
	return l.left, l.max
}

// serveOne runs one element of a batch and returns its answer's body.
func serveOne(ctx context.Context, r *http.Request, item []byte, next http.Handler, maxQuery int) []byte {
	rec := &recorder{header: http.Header{}}
	if refused, msg := checkParams(item, maxQuery); refused != 0 {
		Refuse(rec, r, refused, msg, 0)
		return bytes.TrimSpace(rec.body.Bytes())
	}
	sub := r.Clone(ctx)
	// One answer per element: no streamed (incremental) answers inside a
	// batch's array.
	sub.Header.Set("Accept", ResponseType(r))
	sub.Body = io.NopCloser(bytes.NewReader(item))
	sub.ContentLength = int64(len(item))
	rw := &rewriter{ResponseWriter: rec}
	next.ServeHTTP(rw, sub)
	rw.finish()
	body := bytes.TrimSpace(rec.body.Bytes())
	if !json.Valid(body) || len(body) == 0 || body[0] != '{' {
		// A handler answered with something that is no GraphQL response
		// (it cannot today); the other operations still get theirs.
		rec = &recorder{header: http.Header{}}
		Refuse(rec, r, apperr.Failed, "internal error", 0)
		return bytes.TrimSpace(rec.body.Bytes())
	}
	return body
}

// recorder keeps one batch element's answer.
type recorder struct {
	header http.Header
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header         { return w.header }
func (w *recorder) Write(p []byte) (int, error) { return w.body.Write(p) }
func (w *recorder) WriteHeader(int)             {}

// checkParams validates a POST body as GraphQL-over-HTTP request
// parameters, so that gqlgen only ever sees well-formed ones; it returns
// why the request must be refused, 0 if it may go on.
func checkParams(raw []byte, maxQuery int) (apperr.Refusal, string) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return apperr.Malformed, "empty request body: send {\"query\": \"...\"}"
	}
	if !utf8.Valid(raw) {
		return apperr.Malformed, "request body is not valid UTF-8"
	}
	p, msg := decodeParams(raw)
	if msg != "" {
		return apperr.Malformed, msg
	}
	if !isNullOr(p.OperationName, '"') {
		return apperr.Malformed, "operationName must be a string"
	}
	if !isNullOr(p.Variables, '{') || !isNullOr(p.Extensions, '{') {
		return apperr.Malformed, "variables and extensions must be JSON objects"
	}
	if !isNullOr(p.Query, '"') {
		return apperr.Malformed, "query must be a string"
	}
	// An escape stands for at least one byte and takes at most six (\uXXXX),
	// so a text this long is over the limit without decoding it: a flood of
	// megabyte queries costs one scan each.
	if maxQuery > 0 && len(p.Query) > 6*maxQuery+2 {
		return apperr.TooLarge, queryTooLarge(maxQuery)
	}
	if !isNullOr(p.DocumentID, '"') || !isNullOr(p.DocID, '"') {
		return apperr.Malformed, "documentId and doc_id must be strings"
	}
	var query, docID, relayID string
	_ = json.Unmarshal(p.Query, &query) // absent or null leaves it empty
	_ = json.Unmarshal(p.DocumentID, &docID)
	_ = json.Unmarshal(p.DocID, &relayID)
	if strings.TrimSpace(query) == "" && !persisted(p.Extensions) && docID == "" && relayID == "" {
		return apperr.Malformed, "query must be a non-empty string (or send the documentId of a trusted document)"
	}
	if maxQuery > 0 && len(query) > maxQuery {
		return apperr.TooLarge, queryTooLarge(maxQuery)
	}
	return 0, ""
}

// params are the request parameters as sent, still encoded: the
// GraphQL-over-HTTP four, and the persisted-document ids (documentId, and
// Relay's doc_id).
type params struct {
	Query, OperationName, Variables, Extensions, DocumentID, DocID json.RawMessage
}

// decodeParams reads the body's top-level object strictly: gqlgen decodes
// it with encoding/json, which matches keys case-insensitively and lets a
// later duplicate win, so {"query": A, "QUERY": B} would run B while a proxy
// or log that reads "query" sees A. Here each known name must be spelt
// exactly and appear once; other keys are ignored, as the spec asks.
func decodeParams(raw []byte) (params, string) {
	var p params
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil {
		return p, "request body is not valid JSON"
	} else if t != json.Delim('{') {
		return p, "request body must be a JSON object"
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return p, "request body is not valid JSON"
		}
		key, _ := t.(string)
		var dst *json.RawMessage
		switch key {
		case "query":
			dst = &p.Query
		case "operationName":
			dst = &p.OperationName
		case "variables":
			dst = &p.Variables
		case "extensions":
			dst = &p.Extensions
		case "documentId":
			dst = &p.DocumentID
		case "doc_id":
			dst = &p.DocID
		default:
			for _, known := range []string{"query", "operationName", "variables", "extensions", "documentId", "doc_id"} {
				if strings.EqualFold(key, known) {
					return p, "request parameter names are case-sensitive: use " + known
				}
			}
		}
		if dst != nil {
			if seen[key] {
				return p, "request body has " + key + " twice"
			}
			seen[key] = true
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return p, "request body is not valid JSON"
		}
		if dst != nil {
			*dst = v
		}
	}
	if _, err := dec.Token(); err != nil {
		return p, "request body is not valid JSON"
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, "request body has data after the JSON object"
	}
	return p, ""
}

// persisted reports whether extensions name a persisted query (APQ), which
// may come without its query text.
func persisted(extensions []byte) bool {
	var ext struct {
		PersistedQuery json.RawMessage `json:"persistedQuery"`
	}
	return json.Unmarshal(extensions, &ext) == nil && isObject(ext.PersistedQuery)
}

func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}

// isNullOr reports whether a (syntactically valid) JSON value is absent,
// null, or starts with first.
func isNullOr(v json.RawMessage, first byte) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null" || v[0] == first
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// ResponseType is the media type a response to r has: the first type in
// Accept that we serve, application/json when Accept is absent or a
// wildcard. It matches gqlgen's choice, so our own errors and gqlgen's
// answers agree.
func ResponseType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return MediaJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", MediaJSON:
			return MediaJSON
		case MediaGraphQLResponse:
			return MediaGraphQLResponse
		}
	}
	return MediaGraphQLResponse
}

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// Refuse answers a request refused before GraphQL execution: k's status
// and code (apperr's table), msg, Retry-After and extensions.retryAfter
// when retryAfter > 0, and no "data" entry. Every envelope this server
// writes itself goes through here.
func Refuse(w http.ResponseWriter, r *http.Request, k apperr.Refusal, msg string, retryAfter time.Duration) {
	RefuseAs(w, ResponseType(r), k, msg, retryAfter)
}

// RefuseAs is Refuse with the answer's media type chosen by the caller.
func RefuseAs(w http.ResponseWriter, mediaType string, k apperr.Refusal, msg string, retryAfter time.Duration) {
	e := k.Error(msg)
	e.RetryAfter = retryAfter
	w.Header().Set("Content-Type", mediaType+"; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(apperr.RetrySeconds(retryAfter)))
	}
	w.WriteHeader(k.Status(mediaType == MediaGraphQLResponse))
	_ = json.NewEncoder(w).Encode(errorBody{Errors: []errorEntry{{Message: msg, Extensions: apperr.Extensions(nil, e)}}})
}

// rewriter passes gqlgen's successful responses straight through and holds
// back its 4xx answers (small: request errors only) to fix their status and
// drop their "data": null.
type rewriter struct {
	http.ResponseWriter
	get         bool
	wroteHeader bool
	status      int
	held        *bytes.Buffer
}

func (w *rewriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if code >= 400 && code < 500 {
		w.status, w.held = code, new(bytes.Buffer)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *rewriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.held != nil {
		return w.held.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *rewriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes a flush on, except while an answer is held back: gqlgen's
// incremental transports (@defer) need an http.Flusher.
func (w *rewriter) Flush() {
	if w.held == nil {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *rewriter) finish() {
	if w.held == nil {
		return
	}
	status := w.status
	mt, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
	switch {
	case status == http.StatusNotAcceptable && w.get:
		// gqlgen's answer to a mutation over GET, which has no code;
		// ours has, and the status the spec wants (405).
		w.Header().Set("Allow", "POST")
		w.Header().Del("Content-Length")
		RefuseAs(w.ResponseWriter, mt, apperr.WrongMethod, "GET requests only allow query operations", 0)
		return
	case status == http.StatusUnprocessableEntity:
		// A document that does not parse or validate (its errors carry
		// their code from the error presenter) is still a well-formed
		// GraphQL-over-HTTP request.
		status = apperr.Rejected.Status(mt == MediaGraphQLResponse)
	}
	body := withoutNullData(w.held.Bytes())
	w.Header().Del("Content-Length")
	w.ResponseWriter.WriteHeader(status)
	_, _ = w.ResponseWriter.Write(body)
}

// withoutNullData drops `"data": null` from a request-error response: the
// request never reached execution, so the spec says there is no data entry.
func withoutNullData(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	if d, ok := m["data"]; !ok || string(bytes.TrimSpace(d)) != "null" {
		return body
	}
	delete(m, "data")
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// Package gqlhttp is the thin HTTP layer in front of gqlgen's handler that
// makes /graphql behave as the GraphQL-over-HTTP spec asks and bounds what a
// request may cost before gqlgen sees it: a body size limit (413), a request
// deadline on the context, only GET/POST/OPTIONS, only JSON request bodies
// in valid UTF-8, well-formed request parameters (400), and spec status
// codes for gqlgen's request errors (200 with application/json, 400 with
// application/graphql-response+json, no "data" entry, 405 for a mutation
// over GET).
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
	"strings"
	"time"
	"unicode/utf8"

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
}

// Handler wraps next, gqlgen's handler for the GraphQL endpoint.
func Handler(next http.Handler, o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsStream(r) {
			serveStream(w, r, next, o)
			return
		}
		if o.RequestTimeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), o.RequestTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		switch r.Method {
		case http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		case http.MethodGet:
			if msg := checkGET(r); msg != "" {
				writeError(w, r, http.StatusBadRequest, msg)
				return
			}
		case http.MethodPost:
			if status, msg := readPOST(w, r, o.MaxBodyBytes); status != 0 {
				writeError(w, r, status, msg)
				return
			}
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeError(w, r, http.StatusMethodNotAllowed, "method not allowed: use POST (or GET for queries)")
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
		if status, msg := readPOST(w, r, o.MaxBodyBytes); status != 0 {
			writeError(w, r, status, msg)
			return
		}
	}
	next.ServeHTTP(w, r)
}

// checkGET validates the URL parameters of a GET request.
func checkGET(r *http.Request) string {
	q := r.URL.Query()
	for _, k := range []string{"variables", "extensions"} {
		if v := q.Get(k); v != "" && !isJSONObject([]byte(v)) {
			return k + " must be a JSON object"
		}
	}
	if strings.TrimSpace(q.Get("query")) == "" && !persisted([]byte(q.Get("extensions"))) {
		return "missing query parameter"
	}
	return ""
}

// readPOST reads and checks a POST body and puts it back on r for gqlgen.
// It returns a non-zero status when the request must be refused.
func readPOST(w http.ResponseWriter, r *http.Request, maxBytes int64) (int, string) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return http.StatusUnsupportedMediaType, "missing Content-Type: send application/json"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != MediaJSON {
		return http.StatusUnsupportedMediaType, "unsupported Content-Type: send application/json"
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return http.StatusUnsupportedMediaType, "unsupported charset: send utf-8"
	}
	tooLarge := fmt.Sprintf("request body exceeds the limit of %d bytes", maxBytes)
	if maxBytes > 0 && r.ContentLength > maxBytes {
		return http.StatusRequestEntityTooLarge, tooLarge
	}
	body := r.Body
	if maxBytes > 0 {
		// Also catches chunked bodies, which declare no length.
		body = http.MaxBytesReader(w, r.Body, maxBytes)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return http.StatusRequestEntityTooLarge, tooLarge
		}
		return http.StatusBadRequest, "could not read the request body"
	}
	if msg := checkParams(raw); msg != "" {
		return http.StatusBadRequest, msg
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	r.ContentLength = int64(len(raw))
	return 0, ""
}

// checkParams validates a POST body as GraphQL-over-HTTP request
// parameters, so that gqlgen only ever sees well-formed ones.
func checkParams(raw []byte) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "empty request body: send {\"query\": \"...\"}"
	}
	if !utf8.Valid(raw) {
		return "request body is not valid UTF-8"
	}
	var p struct {
		Query         json.RawMessage `json:"query"`
		OperationName json.RawMessage `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&p); err != nil {
		if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return "request body must be a JSON object"
		}
		return "request body is not valid JSON"
	}
	if _, err := dec.Token(); err != io.EOF {
		return "request body has data after the JSON object"
	}
	if !isNullOr(p.OperationName, '"') {
		return "operationName must be a string"
	}
	if !isNullOr(p.Variables, '{') || !isNullOr(p.Extensions, '{') {
		return "variables and extensions must be JSON objects"
	}
	if !isNullOr(p.Query, '"') {
		return "query must be a string"
	}
	var query string
	_ = json.Unmarshal(p.Query, &query) // absent or null leaves it empty
	if strings.TrimSpace(query) == "" && !persisted(p.Extensions) {
		return "query must be a non-empty string"
	}
	return ""
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
	Message    string            `json:"message"`
	Extensions map[string]string `json:"extensions"`
}

// writeError answers a request that never reached GraphQL execution: no
// "data" entry, code BAD_USER_INPUT.
func writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Content-Type", ResponseType(r)+"; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Errors: []errorEntry{{Message: msg, Extensions: map[string]string{"code": string(apperr.BadUserInput)}}}})
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

func (w *rewriter) finish() {
	if w.held == nil {
		return
	}
	status := w.status
	mt, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
	switch {
	case status == http.StatusNotAcceptable && w.get:
		// gqlgen's answer to a mutation over GET; the spec wants 405.
		status = http.StatusMethodNotAllowed
		w.Header().Set("Allow", "POST")
	case status == http.StatusUnprocessableEntity && mt == MediaJSON:
		// A document that does not parse or validate is still a
		// well-formed GraphQL-over-HTTP request: 200 for application/json.
		status = http.StatusOK
	case status == http.StatusUnprocessableEntity:
		status = http.StatusBadRequest
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

// Package requestlog writes one structured log line per HTTP request: request
// id, method, path, status, duration, GraphQL operation and outcome, and the
// number of upstream calls the request made. Layers below annotate the
// request's Record through the context; the line is written when the
// response is done.
//
// It never logs headers, query strings or bodies, so a token cannot reach a
// log line through it.
package requestlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Header carries the request id in both directions.
const Header = "X-Request-Id"

// saneID is what an incoming request id must look like to be reused; anything
// else (too long, spaces, control characters) is replaced by a fresh id.
var saneID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// Record is what one request learned about itself while being served.
type Record struct {
	ID string

	upstreamCalls atomic.Int64

	mu        sync.Mutex
	operation string
	opType    string
	codes     []string
}

// SetOperation records the GraphQL operation the request ran and the
// extensions.code of its errors (none on success). A nil Record ignores it.
func (r *Record) SetOperation(name, opType string, codes []string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.operation, r.opType, r.codes = name, opType, codes
}

// CountUpstream adds one upstream call. A nil Record ignores it.
func (r *Record) CountUpstream() {
	if r != nil {
		r.upstreamCalls.Add(1)
	}
}

// UpstreamCalls is the number of upstream calls counted so far.
func (r *Record) UpstreamCalls() int64 {
	if r == nil {
		return 0
	}
	return r.upstreamCalls.Load()
}

type ctxKey struct{}

// FromContext returns the request's Record, or nil outside a request.
func FromContext(ctx context.Context) *Record {
	r, _ := ctx.Value(ctxKey{}).(*Record)
	return r
}

// Quiet tells whether a path is polled by machines (probes, scrapes) or is a
// static asset; those requests are logged at debug level (and get no server
// span) so they do not drown the others.
func Quiet(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	// A playground page load fetches several static files; one line for the
	// page itself is enough at info.
	return strings.HasPrefix(path, "/playground/assets/")
}

// Middleware assigns each request an id (a sane incoming X-Request-Id, or a
// new one), echoes it in the response, puts a Record on the context and logs
// one line when the handler returns.
func Middleware(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get(Header)
			if !saneID.MatchString(id) {
				id = newID()
			}
			rec := &Record{ID: id}
			w.Header().Set(Header, id)
			sw := &statusWriter{ResponseWriter: w}
			ctx := context.WithValue(r.Context(), ctxKey{}, rec)
			next.ServeHTTP(sw, r.WithContext(ctx))

			level := slog.LevelInfo
			switch {
			case sw.status >= 500:
				level = slog.LevelError
			case Quiet(r.URL.Path):
				level = slog.LevelDebug
			}
			if !log.Enabled(r.Context(), level) {
				return
			}
			attrs := []slog.Attr{
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("path", truncate(r.URL.Path, 256)),
				slog.Int("status", sw.code()),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			}
			rec.mu.Lock()
			if rec.opType != "" || rec.operation != "" || rec.codes != nil {
				outcome := "ok"
				if len(rec.codes) > 0 {
					outcome = "error"
				}
				attrs = append(attrs,
					slog.String("operation", truncate(rec.operation, 64)),
					slog.String("operation_type", rec.opType),
					slog.String("outcome", outcome))
				if len(rec.codes) > 0 {
					attrs = append(attrs, slog.Any("error_codes", rec.codes))
				}
			}
			rec.mu.Unlock()
			attrs = append(attrs, slog.Int64("upstream_calls", rec.UpstreamCalls()))
			if sc := trace.SpanContextFromContext(r.Context()); sc.HasTraceID() {
				attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
			}
			// The outer context: Handler would add the id a second time.
			log.LogAttrs(r.Context(), level, "request", attrs...)
		})
	}
}

// Handler adds the request id to every record logged with a request's
// context, so errors logged deep in a request can be matched to its line.
func Handler(h slog.Handler) slog.Handler { return idHandler{h} }

type idHandler struct{ slog.Handler }

func (h idHandler) Handle(ctx context.Context, r slog.Record) error {
	if rec := FromContext(ctx); rec != nil {
		r.AddAttrs(slog.String("request_id", rec.ID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h idHandler) WithAttrs(as []slog.Attr) slog.Handler { return idHandler{h.Handler.WithAttrs(as)} }
func (h idHandler) WithGroup(name string) slog.Handler    { return idHandler{h.Handler.WithGroup(name)} }

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// statusWriter remembers the status written; Unwrap lets
// http.ResponseController reach the underlying writer's Flush and deadlines.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes a flush on: gqlgen's incremental transports (@defer over
// multipart/mixed and SSE) need an http.Flusher, not an Unwrap.
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

package graph

// @defer, served incrementally. gqlparser declares @defer for every gqlgen
// schema; gqlgen executes it by sending the deferred fragments as later
// responses. Only the transports that stream (multipart/mixed, as Apollo
// Client and urql request it, and SSE) can carry those; the one-response
// transports (POST, GET) would answer the deferred fields as null with
// "hasNext": true and never the rest. So:
//   - the streaming transports take a request only when it asks for a
//     stream (its Accept) and its document uses @defer: urql lists
//     multipart/mixed and text/event-stream in every request's Accept, and
//     its other requests must keep their plain JSON answer (and the fast
//     path);
//   - an operation using @defer that reaches a one-response transport (an
//     APQ hash without text, a GET, a client that does not accept a stream)
//     is refused with a clear error instead of a null that never completes;
//   - operations using @defer are never shared between requests
//     (sharequeries.go keeps one response per run).

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// streaming is a streaming transport that takes only requests whose
// document uses @defer.
type streaming struct{ graphql.Transport }

func (t streaming) Supports(r *http.Request) bool {
	return t.Transport.Supports(r) && bodyUsesDefer(r)
}

// Do keeps the answer private: gqlgen's streaming transports set
// Cache-Control: no-cache, which would let a shared cache store one
// caller's data. It also refuses writes once Do has returned: the
// transports' own goroutines (multipart/mixed's flush ticker, SSE's
// keep-alive) may outlive it, and net/http recycles a response's buffers
// as soon as the handler is done.
func (t streaming) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	p := &privateStream{ResponseWriter: w}
	defer p.end()
	t.Transport.Do(p, r, exec)
}

// privateStream sets Cache-Control once gqlgen has set its headers, just
// before they are sent, and drops writes after end.
type privateStream struct {
	http.ResponseWriter
	mu    sync.Mutex
	sent  bool
	ended bool
}

func (p *privateStream) private() {
	if !p.sent {
		p.sent = true
		p.Header().Set("Cache-Control", "private, no-store")
	}
}

func (p *privateStream) end() {
	p.mu.Lock()
	p.ended = true
	p.mu.Unlock()
}

func (p *privateStream) WriteHeader(code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.private()
	p.ResponseWriter.WriteHeader(code)
}

func (p *privateStream) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return 0, http.ErrHandlerTimeout
	}
	p.private()
	return p.ResponseWriter.Write(b)
}

func (p *privateStream) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.private()
	_ = http.NewResponseController(p.ResponseWriter).Flush()
}

func (p *privateStream) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// bodyUsesDefer reads the query text of a POST body (bounded by the HTTP
// layer before it) and puts the body back. Mentioning @defer is enough:
// a false positive streams an ordinary answer, which the client accepts.
func bodyUsesDefer(r *http.Request) bool {
	if r.Body == nil {
		return false
	}
	raw, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(raw))
	if err != nil {
		return false
	}
	var p struct {
		Query string `json:"query"`
	}
	return json.Unmarshal(raw, &p) == nil && strings.Contains(p.Query, "@defer")
}

// oneResponse marks the requests of a transport that answers once.
type oneResponse struct{ graphql.Transport }

type oneResponseKey struct{}

func (t oneResponse) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.Transport.Do(w, r.WithContext(context.WithValue(r.Context(), oneResponseKey{}, true)), exec)
}

// usesDefer reports whether op (with the fragments it spreads) carries a
// @defer directive.
func usesDefer(doc *ast.QueryDocument, op *ast.OperationDefinition) bool {
	if op == nil {
		return false
	}
	seen := map[string]bool{}
	var walk func(ast.SelectionSet) bool
	has := func(dl ast.DirectiveList) bool { return dl.ForName("defer") != nil }
	walk = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if walk(s.SelectionSet) {
					return true
				}
			case *ast.InlineFragment:
				if has(s.Directives) || walk(s.SelectionSet) {
					return true
				}
			case *ast.FragmentSpread:
				if has(s.Directives) {
					return true
				}
				if !seen[s.Name] && doc != nil {
					seen[s.Name] = true
					if f := doc.Fragments.ForName(s.Name); f != nil && walk(f.SelectionSet) {
						return true
					}
				}
			}
		}
		return false
	}
	return walk(op.SelectionSet)
}

package graph

import (
	"bytes"
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// fastPOST is gqlgen's POST transport with one change: a response the fast
// path wrote (data only: no errors, extensions or incremental parts) is
// written without encoding/json's second pass over it. gqlgen's transport
// marshals every response with json.Marshal, which re-scans the data it
// already holds as JSON to compact and HTML-escape it; for a list that is
// as much CPU as writing the list. The fast path's JSON is compact by
// construction, so only the escaping is left, done here in one pass with
// encoding/json's rules. Everything else, the request side and every other
// response, is gqlgen's POST.Do unchanged.
type fastPOST struct{ transport.POST }

func (t fastPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	fw := &fastResponseWriter{ResponseWriter: w}
	t.POST.Do(fw, r, fastExecutor{GraphExecutor: exec, w: fw})
}

// fastMark lets the fast path say which response data it wrote.
type fastMark struct{ data []byte }

type fastMarkKey struct{}

// markFastData records data as the fast path's, for fastPOST.
func markFastData(ctx context.Context, data []byte) {
	if m, ok := ctx.Value(fastMarkKey{}).(*fastMark); ok {
		m.data = data
	}
}

// owns reports whether resp is exactly the data the fast path wrote.
func (m *fastMark) owns(resp *graphql.Response) bool {
	return len(m.data) > 0 && len(resp.Data) == len(m.data) && &resp.Data[0] == &m.data[0] &&
		len(resp.Errors) == 0 && len(resp.Extensions) == 0 && resp.Label == "" && resp.Path == nil && resp.HasNext == nil
}

// fastExecutor hands gqlgen's transport a stand-in for fast-path data and
// keeps the data for fastResponseWriter.
type fastExecutor struct {
	graphql.GraphExecutor
	w *fastResponseWriter
}

// standIn is what gqlgen's transport marshals in place of fast-path data.
var standIn = []byte(`{"data":null}`)

func (e fastExecutor) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	mark := &fastMark{}
	h, ctx := e.GraphExecutor.DispatchOperation(context.WithValue(ctx, fastMarkKey{}, mark), rc)
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp == nil || !mark.owns(resp) {
			return resp
		}
		e.w.pending = resp.Data
		return &graphql.Response{Data: []byte("null")}
	}, ctx
}

// fastResponseWriter writes the pending fast-path data where gqlgen's
// transport writes the stand-in.
type fastResponseWriter struct {
	http.ResponseWriter
	pending []byte
}

func (w *fastResponseWriter) Write(p []byte) (int, error) {
	if w.pending == nil || !bytes.Equal(p, standIn) {
		return w.ResponseWriter.Write(p)
	}
	out := make([]byte, 0, len(w.pending)+len(`{"data":}`)+64)
	out = append(out, `{"data":`...)
	out = appendHTMLEscaped(out, w.pending)
	out = append(out, '}')
	w.pending = nil
	if _, err := w.ResponseWriter.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *fastResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

const lowerHex = "0123456789abcdef"

// appendHTMLEscaped appends compact JSON src as json.Marshal writes a
// json.RawMessage: '<', '>', '&' as \u003c, \u003e, \u0026 and U+2028,
// U+2029 as \u2028, \u2029 (encoding/json's appendCompact with escaping).
func appendHTMLEscaped(dst, src []byte) []byte {
	start := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '<' || c == '>' || c == '&' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xF])
			start = i + 1
		} else if c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', lowerHex[src[i+2]&0xF])
			start = i + 3
			i += 2
		}
	}
	return append(dst, src[start:]...)
}

package graph

import (
	"bytes"
	"context"
	"io"
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

// dataOpen and dataClose surround fast-path data in the response; slices,
// so writing them allocates nothing.
var dataOpen, dataClose = []byte(`{"data":`), []byte(`}`)

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
	data := w.pending
	w.pending = nil
	// Written in pieces straight from the plan's buffer: net/http buffers
	// them, so a copy of the whole answer (escaped or not) would only be
	// one more pass over it and one more allocation of its size.
	if _, err := w.ResponseWriter.Write(dataOpen); err != nil {
		return 0, err
	}
	if err := writeHTMLEscaped(w.ResponseWriter, data); err != nil {
		return 0, err
	}
	if _, err := w.ResponseWriter.Write(dataClose); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *fastResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// htmlSpecial are the bytes at which json.Marshal may escape compact JSON:
// '<', '>', '&', and 0xE2, the first byte of U+2028 and U+2029 (and of
// other characters, which are left alone).
const htmlSpecial = "<>&\xe2"

// escapeScanner finds the bytes of htmlSpecial in src with one
// bytes.IndexByte (vectorised) pass per byte value, remembering where each
// value next occurs, rather than testing every byte of the answer: an
// answer usually has none of them, and each value's scan moves only
// forward, so the whole search is linear however many there are.
type escapeScanner struct {
	src  []byte
	next [len(htmlSpecial)]int // next index of each byte value at or after the last search; len(src) when none is left
}

func newEscapeScanner(src []byte) escapeScanner {
	s := escapeScanner{src: src}
	for k := range s.next {
		s.next[k] = -1
	}
	return s
}

// find returns the index of the first byte json.Marshal escapes at or
// after from, and that escape's length in src (1 for '<', '>', '&', 3 for
// U+2028 and U+2029); len(src) and 0 when there is none.
func (s *escapeScanner) find(from int) (int, int) {
	for {
		at := len(s.src)
		for k := range s.next {
			if s.next[k] < from {
				if j := bytes.IndexByte(s.src[from:], htmlSpecial[k]); j >= 0 {
					s.next[k] = from + j
				} else {
					s.next[k] = len(s.src)
				}
			}
			at = min(at, s.next[k])
		}
		switch {
		case at == len(s.src):
			return at, 0
		case s.src[at] != 0xE2:
			return at, 1
		case at+2 < len(s.src) && s.src[at+1] == 0x80 && s.src[at+2]&^1 == 0xA8:
			return at, 3
		}
		from = at + 1 // another character starting with 0xE2: kept as it is
	}
}

// htmlEscapes are json.Marshal's escapes for '<', '>', '&', U+2028 and
// U+2029, kept as slices so writing one allocates nothing.
var htmlEscapes = [...][]byte{'<': []byte(`\u003c`), '>': []byte(`\u003e`), '&': []byte(`\u0026`), 0xA8: []byte(`\u2028`), 0xA9: []byte(`\u2029`)}

// htmlEscape is what json.Marshal writes for the escape of length n at src[i:].
func htmlEscape(src []byte, i, n int) []byte {
	if n == 1 {
		return htmlEscapes[src[i]]
	}
	return htmlEscapes[src[i+2]]
}

// appendHTMLEscaped appends compact JSON src as json.Marshal writes a
// json.RawMessage: '<', '>', '&' as \u003c, \u003e, \u0026 and U+2028,
// U+2029 as \u2028, \u2029 (encoding/json's appendCompact with escaping).
func appendHTMLEscaped(dst, src []byte) []byte {
	s := newEscapeScanner(src)
	for start := 0; ; {
		i, n := s.find(start)
		dst = append(dst, src[start:i]...)
		if n == 0 {
			return dst
		}
		dst = append(dst, htmlEscape(src, i, n)...)
		start = i + n
	}
}

// writeHTMLEscaped writes what appendHTMLEscaped appends, to w.
func writeHTMLEscaped(w io.Writer, src []byte) error {
	s := newEscapeScanner(src)
	for start := 0; ; {
		i, n := s.find(start)
		if i > start {
			if _, err := w.Write(src[start:i]); err != nil {
				return err
			}
		}
		if n == 0 {
			return nil
		}
		if _, err := w.Write(htmlEscape(src, i, n)); err != nil {
			return err
		}
		start = i + n
	}
}

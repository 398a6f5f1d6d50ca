package graph

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const deferQuery = `{ workspace(id: "2") { seatableId ... @defer(label: "more") { name tables { name } } } }`

func serveDefer(t *testing.T, h http.Handler, method, accept, query string) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if method == http.MethodGet {
		req = httptest.NewRequest(method, "/graphql?query="+url.QueryEscape(query), nil)
	} else {
		req = httptest.NewRequest(method, "/graphql", bytes.NewReader(diffBody(query, nil, "")))
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("Authorization", "Token defer-token-0123456789")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestDeferStreams: a deferred fragment arrives in a later part of a
// multipart/mixed answer (the format Apollo Client and urql read) or a later
// SSE event, and the answer ends; never a null with "hasNext": true alone.
func TestDeferStreams(t *testing.T) {
	h := newNodeServer(fixtureListers(t)["demo"])

	rec := serveDefer(t, h, http.MethodPost, "multipart/mixed;deferSpec=20220824, application/json", deferQuery)
	body := rec.Body.String()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "multipart/mixed") {
		t.Fatalf("Content-Type %q: %s", ct, body)
	}
	// gqlgen resolves plain struct fields (name) at once and defers the
	// resolver fields (tables), leaving them null until their part comes.
	first := `{"data":{"workspace":{"seatableId":"2","name":"group one","tables":null}},"hasNext":true}`
	rest := `{"incremental":[{"data":{"tables":[{"name":"testing"}]},"label":"more","path":["workspace"],"hasNext":false}],"hasNext":false}`
	if i, j := strings.Index(body, first), strings.Index(body, rest); i < 0 || j < i || !strings.HasSuffix(strings.TrimSpace(body), "-----") {
		t.Errorf("multipart answer:\n%s\nwant %s, then %s, then the closing boundary", body, first, rest)
	}

	rec = serveDefer(t, h, http.MethodPost, "text/event-stream", deferQuery)
	body = rec.Body.String()
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") || !strings.Contains(body, `"hasNext":true`) ||
		!strings.Contains(body, `"tables":[{"name":"testing"}]`) || !strings.Contains(body, "event: complete") {
		t.Errorf("SSE answer %q:\n%s", rec.Header().Get("Content-Type"), body)
	}

	// Without @defer a client accepting streams gets the plain JSON answer.
	rec = serveDefer(t, h, http.MethodPost, "application/graphql-response+json, application/json, text/event-stream, multipart/mixed", `{ workspace(id: "2") { seatableId } }`)
	if rec.Header().Get("Content-Type") != "application/graphql-response+json" || rec.Body.String() != `{"data":{"workspace":{"seatableId":"2"}}}` {
		t.Errorf("plain answer %q: %s", rec.Header().Get("Content-Type"), rec.Body)
	}

	// Where one response is all there is, @defer is refused, not half-answered.
	for _, tc := range []struct{ method, accept string }{{http.MethodPost, ""}, {http.MethodPost, "application/json"}, {http.MethodGet, "multipart/mixed"}} {
		rec = serveDefer(t, h, tc.method, tc.accept, deferQuery)
		body = rec.Body.String()
		if strings.Contains(body, "hasNext") || !strings.Contains(body, `"code":"BAD_USER_INPUT"`) || !strings.Contains(body, "@defer needs a streamed answer") {
			t.Errorf("%s Accept %q: %d %s", tc.method, tc.accept, rec.Code, body)
		}
	}
}

// TestSchemaAdvertisesWhatItServes: @defer is declared (and served, above);
// DateTime names its specification, so codegen can type it.
func TestSchemaAdvertisesWhatItServes(t *testing.T) {
	h := newNodeServer(fixtureListers(t)["demo"])
	res := postQuery(t, h, `{ __schema { directives { name } } __type(name: "DateTime") { specifiedByURL } }`, nil)
	if len(res.Errors) > 0 || !strings.Contains(string(res.Data), `{"name":"defer"}`) ||
		!strings.Contains(string(res.Data), `"specifiedByURL":"https://scalars.graphql.org/andimarek/date-time"`) {
		t.Errorf("%s %+v", res.Data, res.Errors)
	}
}

package app

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// urqlAccept is what urql sends with every request.
const urqlAccept = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"

// TestStreamsUrqlDefaultAccept: urql with its default exchanges runs a
// query, a mutation and an invalid query while a subscription holds the
// only live slot (issue 19.2). Before: each was answered as an event
// stream and, at the slot limit, with 503.
func TestStreamsUrqlDefaultAccept(t *testing.T) {
	client := needNodeClient(t, "urql", "urql", "@urql/core")
	e, _ := newLiveEnv(t, withEnv("LIVE_MAX_CONNECTIONS", "1"))
	s := openSSE(t, e, liveToken, wsQuery)
	s.next()
	client.run(time.Minute, []string{"GRAPHQL_URL=" + e.url + "/graphql", "SEATABLE_TOKEN=" + liveToken}, "negotiate.mjs")
}

// The same with Go: at the slot limit, a mutation with urql's Accept is
// answered once, as JSON; a subscription with that Accept still streams
// (here: 503, the slot is taken); a client that prefers event-stream gets
// a stream even for a query.
func TestStreamsNegotiationAtSlotLimit(t *testing.T) {
	e, _ := newLiveEnv(t, withEnv("LIVE_MAX_CONNECTIONS", "1"))
	s := openSSE(t, e, liveToken, wsQuery)
	uuid, _, _ := decodeWorkspaces(t, s.next().payload(t)).firstOwnBase(t)
	post := func(accept, query string) *http.Response {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		req.Header.Set("Authorization", "Token "+liveToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	mutation := `mutation { updateDTable(input: {uuid: "` + uuid + `", newName: "Negotiated"}) { dtable { name } } }`
	for _, tc := range []struct {
		name, accept, query string
		status              int
		ctype               string
	}{
		{"urql query", urqlAccept, `{ workspaces { name } }`, 200, "application/graphql-response+json"},
		{"urql mutation", urqlAccept, mutation, 200, "application/graphql-response+json"},
		{"urql invalid query", urqlAccept, `{ noSuchField }`, 400, "application/graphql-response+json"},
		{"json first, sse lower q", "text/event-stream;q=0.5, application/json", `{ workspaces { name } }`, 200, "application/json"},
		{"urql subscription needs a stream", urqlAccept, wsQuery, 503, "application/json"},
		{"prefers sse", "text/event-stream, application/json", `{ workspaces { name } }`, 503, "application/json"},
	} {
		resp := post(tc.accept, tc.query)
		if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, tc.ctype)
		}
	}
}

package graph

// Content negotiation for POST /graphql: when is an answer an event stream
// (issue 19.2)? Clients such as urql list text/event-stream in every
// request's Accept, after the JSON types, so that subscriptions and @defer
// can stream; their queries and mutations must still get one JSON answer
// (with GraphQL-over-HTTP status codes), and must not take a subscription
// slot.

import (
	"encoding/json"
	"mime"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// MediaEventStream is the media type of GraphQL over SSE.
const MediaEventStream = "text/event-stream"

// PrefersEventStream reads an Accept header: listed is whether
// text/event-stream is acceptable at all (q > 0), preferred whether the
// client ranks it above every other type it lists (by q-value, then by
// order). A wildcard does not ask for a stream.
func PrefersEventStream(accept string) (listed, preferred bool) {
	bestOther := -1.0
	sseQ, sseAt, otherAt := -1.0, -1, -1
	for i, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
		if q == 0 {
			continue
		}
		if mt == MediaEventStream {
			if q > sseQ {
				sseQ, sseAt = q, i
			}
			continue
		}
		if q > bestOther {
			bestOther, otherAt = q, i
		}
	}
	if sseQ <= 0 {
		return false, false
	}
	return true, sseQ > bestOther || (sseQ == bestOther && sseAt < otherAt)
}

// StreamWanted decides whether a POST whose Accept lists
// text/event-stream but does not prefer it is answered as a stream: only
// when its operation is a subscription or uses @defer, which cannot be
// answered once. Bodies without query text (a persisted query's hash, a
// documentId) and documents that do not parse get one answer: its errors
// then come with the status codes of GraphQL over HTTP.
func StreamWanted(body []byte) bool {
	var p struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(body, &p) != nil || strings.TrimSpace(p.Query) == "" {
		return false
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, DefaultParserTokenLimit)
	if err != nil {
		return false
	}
	var op *ast.OperationDefinition
	if p.OperationName != "" {
		op = doc.Operations.ForName(p.OperationName)
	} else if len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	if op == nil {
		return false
	}
	return op.Operation == ast.Subscription || usesDefer(doc, op)
}

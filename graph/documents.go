package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/internal/lru"
)

// documentCostFactor estimates what a parsed, validated document costs per
// byte of its text. Measured with gqlparser v2.5.64 on this schema's
// queries (2,000 documents kept): 26 bytes per byte for the README's
// composite query, 41 for aliased lists, 53 for a short list query; a
// document that is mostly one string literal costs about 1.5. 48 errs on
// the side of the common, small queries.
const documentCostFactor = 48

// documents is gqlgen's cache of parsed, validated documents (keyed by the
// raw query text), bounded by the estimated bytes of what it holds rather
// than by a number of entries: with an entry bound, a few hundred large
// documents pin gigabytes. Entries never expire.
type documents struct {
	entries *lru.Cache[*ast.QueryDocument]
}

var _ graphql.Cache[*ast.QueryDocument] = documents{}

// newDocuments keeps at most maxBytes (estimated) of documents.
func newDocuments(maxBytes int64) documents {
	return documents{entries: lru.New[*ast.QueryDocument](maxBytes, 0)}
}

// Get implements graphql.Cache.
func (d documents) Get(_ context.Context, query string) (*ast.QueryDocument, bool) {
	return d.entries.Get(query, time.Time{})
}

// Add implements graphql.Cache.
func (d documents) Add(_ context.Context, query string, doc *ast.QueryDocument) {
	d.entries.Add(query, doc, documentCost(query), time.Time{})
}

// documentCost estimates the memory a parsed, validated document of query
// holds, for every store that keeps one alive (this one, the fast path's
// plans).
func documentCost(query string) int64 { return documentCostFactor*int64(len(query)) + 1024 }

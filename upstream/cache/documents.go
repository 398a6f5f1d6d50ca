package cache

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// documentCostFactor estimates what a parsed, validated document costs per
// byte of its text. Measured with gqlparser v2.5.64 on this schema's
// queries (2,000 documents kept): 26 bytes per byte for the README's
// composite query, 41 for aliased lists, 53 for a short list query; a
// document that is mostly one string literal costs about 1.5. 48 errs on
// the side of the common, small queries.
const documentCostFactor = 48

// Documents is gqlgen's cache of parsed, validated documents (keyed by the
// raw query text), bounded by the estimated bytes of what it holds rather
// than by a number of entries: with an entry bound, a few hundred large
// documents pin gigabytes.
type Documents struct{ lru *byteLRU[*ast.QueryDocument] }

var _ graphql.Cache[*ast.QueryDocument] = (*Documents)(nil)

// NewDocuments keeps at most maxBytes (estimated) of documents.
func NewDocuments(maxBytes int64) *Documents {
	return &Documents{lru: newByteLRU[*ast.QueryDocument](maxBytes)}
}

// Get implements graphql.Cache.
func (d *Documents) Get(_ context.Context, query string) (*ast.QueryDocument, bool) {
	return d.lru.get(query, time.Time{})
}

// Add implements graphql.Cache.
func (d *Documents) Add(_ context.Context, query string, doc *ast.QueryDocument) {
	d.lru.add(query, doc, DocumentCost(query), time.Time{})
}

// DocumentCost estimates the memory a parsed, validated document of query
// holds, for every store that keeps one alive.
func DocumentCost(query string) int64 { return documentCostFactor*int64(len(query)) + 1024 }

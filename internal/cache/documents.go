package cache

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// documentCostFactor estimates what a parsed document costs per byte of its
// text. gqlparser keeps strings as substrings of the source (one copy) and
// adds an AST node, a position and a validation walk's worth of slices per
// token; measured on the schema's queries this stays under 8 bytes per
// byte of text, and a document that is mostly one string literal costs
// about 1.5.
const documentCostFactor = 8

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
	d.lru.add(query, doc, documentCostFactor*int64(len(query))+1024, time.Time{})
}

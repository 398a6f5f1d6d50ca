// Package trusted serves trusted documents (persisted queries known at
// build time): a manifest maps document ids to GraphQL documents, clients
// send the id instead of the text, and the server may refuse every other
// document. It reads the two manifest formats client tooling writes, which
// are the same JSON shape, an object of id -> document text:
// GraphQL Code Generator's persisted-documents.json (ids are sha256 hashes
// of the text; client-preset 6 writes them as "sha256:<hex>", the
// GraphQL-over-HTTP persisted documents appendix's form) and
// relay-compiler's persisted_queries.json (ids are md5 by default).
//
// Requests name a document by `documentId` (the GraphQL-over-HTTP
// persisted documents proposal; a "sha256:" prefix is accepted), `doc_id`
// (Relay's convention), or an APQ sha256Hash of a document in the
// manifest (with or without the prefix).
//
// Store.Admit is the one decision every operation meets, whatever its
// transport: the GraphQL layer asks it for each operation (POST, GET, a
// batch's element, SSE, a WebSocket subscribe). Handler, in front of the
// GraphQL layer over HTTP, turns the ids gqlgen does not read (documentId,
// doc_id) into the text and refuses early with an HTTP status; it leaves
// WebSocket upgrades to the per-operation check.
//
// It never logs or echoes a document's text; errors name the id.
package trusted

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/seatable-graphql/seatable-graphql/graph/gqlhttp"
	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// Store is a loaded manifest.
type Store struct {
	byID  map[string]string // manifest id -> text
	bySHA map[string]string // sha256 hex of the text -> text
}

// Load reads a manifest file; every error says what is wrong and where, so
// the caller can stop the start with it.
func Load(path string) (*Store, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the manifest: %w", err)
	}
	return Parse(raw)
}

// Parse reads a manifest: a JSON object of id -> document text, every
// document a GraphQL document that parses.
func Parse(raw []byte) (*Store, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("not a JSON object of document id -> document text (GraphQL Code Generator's persisted-documents.json or relay-compiler's persisted_queries.json): %v", err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("the manifest holds no documents")
	}
	s := &Store{byID: map[string]string{}, bySHA: map[string]string{}}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids) // report the first bad entry the same way every time
	for _, id := range ids {
		text, ok := m[id].(string)
		if id == "" || !ok || strings.TrimSpace(text) == "" {
			return nil, fmt.Errorf("entry %q: want a non-empty id mapped to a document's text", id)
		}
		if _, err := parser.ParseQuery(&ast.Source{Input: text}); err != nil {
			return nil, fmt.Errorf("entry %q: the document does not parse: %v", id, err)
		}
		s.byID[id] = text
		if h, ok := strings.CutPrefix(id, "sha256:"); ok {
			s.byID[strings.ToLower(h)] = text // client-preset 6's keys
		}
		s.bySHA[sha256Hex(text)] = text
	}
	return s, nil
}

// Trusted reports whether text is one of the manifest's documents.
func (s *Store) Trusted(text string) bool {
	_, ok := s.bySHA[sha256Hex(text)]
	return ok
}

// Len is the number of documents.
func (s *Store) Len() int { return len(s.byID) }

func sha256Hex(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// lookup finds a document by a request's id: a manifest id, with or without
// a "sha256:" prefix, or the sha256 of a document's text.
func (s *Store) lookup(id string) (string, bool) {
	if t, ok := s.byID[id]; ok {
		return t, true
	}
	if h, ok := strings.CutPrefix(id, "sha256:"); ok {
		if t, ok := s.byID[h]; ok {
			return t, true
		}
		id = h
	}
	t, ok := s.bySHA[strings.ToLower(id)]
	return t, ok
}

// Options say what the handler accepts besides trusted documents.
type Options struct {
	// Only refuses every document that is not in the manifest.
	Only bool
	// Introspection lets introspection-only documents through when Only is
	// set (the playground's schema query); it follows INTROSPECTION.
	Introspection bool
	// Exempt, if set, lets a request's own documents through when Only is
	// set: a federation gateway's query plans (app/internal/gateway), whose
	// clients' documents the gateway checks.
	// The GraphQL layer, which asks Admit again per operation, applies it
	// itself (Admit has no request).
	Exempt func(context.Context) bool
}

// Handler resolves document ids to their text and, with Only, refuses
// other documents. It expects gqlhttp.Handler in front of it (body limit,
// well-formed parameters, batches split).
func Handler(s *Store, o Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := o
		if o.Only && o.Exempt != nil && o.Exempt(r.Context()) {
			o.Only = false
		}
		switch {
		case r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
			// Every subscribe on the socket meets Admit in the GraphQL
			// layer; the upgrade's URL names no operation.
		case r.Method == http.MethodGet:
			q := r.URL.Query()
			p := params{Query: q.Get("query"), DocumentID: q.Get("documentId"), DocID: q.Get("doc_id")}
			if e := q.Get("extensions"); e != "" {
				p.Extensions = json.RawMessage(e)
			}
			text, refused, msg := s.resolve(p, o)
			if refused != 0 {
				gqlhttp.Refuse(w, r, refused, msg, 0)
				return
			}
			if text != "" {
				q.Set("query", text)
				q.Del("documentId")
				q.Del("doc_id")
				r.URL.RawQuery = q.Encode()
			}
		case r.Method == http.MethodPost:
			raw, err := readBody(r)
			if err != nil {
				gqlhttp.Refuse(w, r, apperr.Malformed, "could not read the request body", 0)
				return
			}
			var p params
			_ = json.Unmarshal(raw, &p) // zero unless raw is an object
			text, refused, msg := s.resolve(p, o)
			if refused != 0 {
				gqlhttp.Refuse(w, r, refused, msg, 0)
				return
			}
			// The body is taken apart member by member only to put a
			// document's text in place of its id, not for every request.
			var body map[string]json.RawMessage
			if text != "" && json.Unmarshal(raw, &body) == nil && body != nil {
				body["query"], _ = json.Marshal(text)
				delete(body, "documentId")
				delete(body, "doc_id")
				raw, _ = json.Marshal(body)
			}
			r.Body = io.NopCloser(bytes.NewReader(raw))
			r.ContentLength = int64(len(raw))
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads r's body in one allocation of its known length
// (gqlhttp.Handler, in front, has read it whole and set ContentLength);
// a declared length is trusted for the first allocation only up to
// maxPresize, the rest grows as it is read.
func readBody(r *http.Request) ([]byte, error) {
	const maxPresize = 1 << 20
	if r.ContentLength < 0 {
		return io.ReadAll(r.Body)
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(r.ContentLength, maxPresize)+bytes.MinRead))
	_, err := buf.ReadFrom(r.Body)
	return buf.Bytes(), err
}

// params are the request parameters the handler reads.
type params struct {
	Query      string          `json:"query"`
	DocumentID string          `json:"documentId"`
	DocID      string          `json:"doc_id"`
	Extensions json.RawMessage `json:"extensions"`
}

// resolve returns the text to put in `query` ("" to leave the request as it
// is), or why the request is refused.
func (s *Store) resolve(p params, o Options) (text string, refused apperr.Refusal, msg string) {
	if id := firstNonEmpty(p.DocumentID, p.DocID); id != "" {
		t, ok := s.lookup(id)
		if !ok {
			return "", apperr.UnknownDocument, fmt.Sprintf("unknown document id %q: it is not in this server's trusted documents (TRUSTED_DOCUMENTS)", clip(id))
		}
		if p.Query != "" && p.Query != t {
			return "", apperr.Malformed, fmt.Sprintf("the query sent with document id %q is not that document", clip(id))
		}
		return t, 0, ""
	}
	var ext struct {
		PersistedQuery struct {
			SHA256 string `json:"sha256Hash"`
		} `json:"persistedQuery"`
	}
	_ = json.Unmarshal(p.Extensions, &ext)
	// What Admit allows is left as it is: the GraphQL layer asks Admit
	// again for every operation and turns a trusted hash into its text
	// there, and answers a hash that does not match its text as APQ does
	// without a manifest. An unknown APQ hash is refused here with Only,
	// rather than answered with PERSISTED_QUERY_NOT_FOUND: the text the
	// client would send next would be refused anyway.
	_, why := s.Admit(p.Query, ext.PersistedQuery.SHA256, o)
	if why == nil || why.Message == HashMismatch {
		return "", 0, ""
	}
	return "", apperr.Untrusted, why.Message
}

// onlyTrusted is the refusal of a document that is not trusted.
const onlyTrusted = "this server accepts only trusted documents (TRUSTED_DOCUMENTS_ONLY=true): send the documentId (or Relay's doc_id, or the APQ sha256Hash) of a document in its manifest"

// HashMismatch is the refusal of a query sent with an APQ hash that is not
// its sha256: gqlgen's APQ extension words it the same way.
const HashMismatch = "provided APQ hash does not match query"

// NormalizeHash is an APQ sha256Hash as gqlgen's APQ extension compares
// it: lower-case hex, without the "sha256:" prefix GraphQL Code
// Generator's client-preset 6 writes.
func NormalizeHash(h string) string {
	h = strings.ToLower(h)
	if rest, ok := strings.CutPrefix(h, "sha256:"); ok {
		h = rest
	}
	return h
}

// Refusal is why an operation may not run.
type Refusal struct {
	Message string
}

// Admit decides whether an operation may run, whatever its transport:
// query is its text as sent ("" for none), hash its APQ sha256Hash ("" for
// none). It returns the text to run: query, or the manifest's document a
// hash names when no text came; "" leaves a hash it does not know to APQ.
// A text sent with a hash must be the hash's document (sha256), even with
// APQ off; with Only, only the manifest's documents run (and introspection,
// when allowed), whatever the APQ store holds.
func (s *Store) Admit(query, hash string, o Options) (string, *Refusal) {
	if hash != "" {
		h := NormalizeHash(hash)
		switch {
		case query != "" && sha256Hex(query) != h:
			return "", &Refusal{HashMismatch}
		case query == "":
			query, _ = s.lookup(h)
		}
	}
	if !o.Only {
		return query, nil
	}
	if query != "" {
		if s.Trusted(query) {
			return query, nil
		}
		if o.Introspection && introspectionOnly(query) {
			return query, nil
		}
	}
	return "", &Refusal{onlyTrusted}
}

// introspectionOnly reports whether every operation of a document selects
// only introspection fields at its root.
func introspectionOnly(text string) bool {
	doc, err := parser.ParseQuery(&ast.Source{Input: text})
	if err != nil || len(doc.Operations) == 0 {
		return false
	}
	var ok func(set ast.SelectionSet, seen map[string]bool) bool
	ok = func(set ast.SelectionSet, seen map[string]bool) bool {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Name != "__schema" && s.Name != "__type" && s.Name != "__typename" {
					return false
				}
			case *ast.InlineFragment:
				if !ok(s.SelectionSet, seen) {
					return false
				}
			case *ast.FragmentSpread:
				f := doc.Fragments.ForName(s.Name)
				if f == nil || seen[s.Name] {
					return f != nil
				}
				seen[s.Name] = true
				if !ok(f.SelectionSet, seen) {
					return false
				}
			}
		}
		return true
	}
	for _, op := range doc.Operations {
		if op.Operation != ast.Query || !ok(op.SelectionSet, map[string]bool{}) {
			return false
		}
	}
	return true
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

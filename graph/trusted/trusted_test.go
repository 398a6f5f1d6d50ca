package trusted

import (
	"net/http"
	"strings"
	"testing"
)

func TestParseRejectsBadManifests(t *testing.T) {
	for raw, want := range map[string]string{
		`[]`:                             "not a JSON object",
		`{"a": "query { x }"`:            "not a JSON object",
		`{}`:                             "no documents",
		`{"a": 1}`:                       `entry "a": want a non-empty id`,
		`{"a": "  "}`:                    `entry "a": want a non-empty id`,
		`{"a": "query { x }", "b": "{"}`: `entry "b": the document does not parse`,
	} {
		if _, err := Parse([]byte(raw)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
	if _, err := Load("/nonexistent/persisted.json"); err == nil || !strings.Contains(err.Error(), "cannot read the manifest") {
		t.Errorf("missing file: %v", err)
	}
}

func TestResolve(t *testing.T) {
	const doc = "query A { workspaces { id } }"
	s, err := Parse([]byte(`{"` + sha256Hex(doc) + `": "` + doc + `", "relay-1": "query B { dtables { totalCount } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{sha256Hex(doc), "sha256:" + sha256Hex(doc), strings.ToUpper(sha256Hex(doc))} {
		if text, _, msg := s.resolve(params{DocumentID: id}, Options{Only: true}); text != doc || msg != "" {
			t.Errorf("documentId %s: %q %q", id, text, msg)
		}
	}
	if text, _, _ := s.resolve(params{DocID: "relay-1"}, Options{}); text != "query B { dtables { totalCount } }" {
		t.Errorf("doc_id: %q", text)
	}
	if _, refused, msg := s.resolve(params{DocumentID: "nope"}, Options{}); refused.Status(false) != http.StatusOK || refused.Code() != "PERSISTED_QUERY_NOT_FOUND" || !strings.Contains(msg, "TRUSTED_DOCUMENTS") {
		t.Errorf("unknown id: %d %s %s", refused.Status(false), refused.Code(), msg)
	}
	apq := []byte(`{"persistedQuery":{"version":1,"sha256Hash":"` + sha256Hex(doc) + `"}}`)
	// Admitted and left as it is: the GraphQL layer turns the hash into
	// the text for every transport (TestAdmit).
	if text, _, msg := s.resolve(params{Extensions: apq}, Options{Only: true}); text != "" || msg != "" {
		t.Errorf("APQ hash of a known document: %q %q", text, msg)
	}
	for _, tc := range []struct {
		p      params
		o      Options
		refuse bool
	}{
		{params{Query: doc}, Options{Only: true}, false},
		{params{Query: "{ workspaces { name } }"}, Options{Only: true}, true},
		{params{Query: "{ workspaces { name } }"}, Options{}, false},
		{params{Query: "{ __schema { types { name } } }"}, Options{Only: true, Introspection: true}, false},
		{params{Query: "query I { ...F } fragment F on Query { __type(name: \"X\") { name } }"}, Options{Only: true, Introspection: true}, false},
		{params{Query: "{ __schema { types { name } } }"}, Options{Only: true}, true},
		{params{Query: "{ __schema { types { name } } workspaces { id } }"}, Options{Only: true, Introspection: true}, true},
		{params{Extensions: []byte(`{"persistedQuery":{"version":1,"sha256Hash":"00"}}`)}, Options{Only: true}, true},
		{params{DocumentID: sha256Hex(doc), Query: "{ other }"}, Options{}, true},
	} {
		_, _, msg := s.resolve(tc.p, tc.o)
		if (msg != "") != tc.refuse {
			t.Errorf("%+v %+v: refused %q, want refused %v", tc.p, tc.o, msg, tc.refuse)
		}
	}
}

// TestAdmit: the decision every operation meets. A hash may carry the
// "sha256:" prefix (client-preset 6); a text sent with a hash must be its
// document; with Only, only the manifest's documents run, whatever the hash.
func TestAdmit(t *testing.T) {
	const doc = "query A { workspaces { id } }"
	h := sha256Hex(doc)
	s, err := Parse([]byte(`{"sha256:` + h + `": "` + doc + `"}`)) // client-preset 6's keys
	if err != nil {
		t.Fatal(err)
	}
	if text, _, msg := s.resolve(params{DocumentID: h}, Options{Only: true}); text != doc || msg != "" {
		t.Errorf("a bare documentId for a sha256: key: %q %q", text, msg)
	}
	const other = "{ workspaces { name } }"
	for _, tc := range []struct {
		query, hash string
		only        bool
		want        string // text, or the refusal's message
	}{
		{"", h, true, doc},
		{"", "sha256:" + h, true, doc},
		{"", "SHA256:" + strings.ToUpper(h), false, doc},
		{doc, "sha256:" + h, true, doc},
		{other, h, true, HashMismatch},
		{other, h, false, HashMismatch},
		{other, sha256Hex(other), true, onlyTrusted},
		{other, sha256Hex(other), false, other},
		{"", sha256Hex(other), true, onlyTrusted},
		{"", sha256Hex(other), false, ""}, // left to APQ
		{other, "", true, onlyTrusted},
		{"", "", true, onlyTrusted},
	} {
		text, refused := s.Admit(tc.query, tc.hash, Options{Only: tc.only})
		got := text
		if refused != nil {
			got = refused.Message
		}
		if got != tc.want {
			t.Errorf("Admit(%q, %q, only=%v) = %q, want %q", tc.query, tc.hash, tc.only, got, tc.want)
		}
	}
}

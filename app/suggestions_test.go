package app

import (
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestNoSuggestionsWithoutIntrospection: with INTROSPECTION=false no error
// names a schema member the client did not write ("Did you mean …"), for
// every kind of misspelling gqlparser suggests on. Before, gqlgen's
// SetDisableSuggestion covered field names only.
func TestNoSuggestionsWithoutIntrospection(t *testing.T) {
	e := newTestEnv(t, withEnv("INTROSPECTION", "false"))
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	for name, q := range map[string]string{
		"field":         `{ workspacs { id } }`,
		"argument":      `{ dtable(uuidd: "x") { name } }`,
		"input field":   `{ dtables(filter: {nameContain: "x"}) { totalCount } }`,
		"enum value":    `{ dtables(filter: {workspaceType: STARED}) { totalCount } }`,
		"fragment type": `{ workspaces { ... on Workspac { id } } }`,
		"variable type": `query($f: DTableFiltr) { dtables(filter: $f) { totalCount } }`,
	} {
		_, resp := e.post(t, "Token "+tokA, q, nil)
		if len(resp.Errors) == 0 {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, err := range resp.Errors {
			if strings.Contains(err.Message, "Did you mean") {
				t.Errorf("%s: %q", name, err.Message)
			}
		}
	}
}

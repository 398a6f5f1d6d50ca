package app

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// nodeIDs returns n global ids of workspaces (valid ids, mostly of things
// the token cannot see: each still costs a lookup).
func nodeIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "Workspace:%d", i))
	}
	return ids
}

// nodes(ids:) is bounded: more ids than MAX_NODE_IDS is BAD_USER_INPUT
// naming the limit, before any SeaTable call; and complexity counts the ids
// (which come in variables, out of the token limit's sight), so aliases times
// ids are refused before execution instead of starting a goroutine per id.
func TestNodesIDsAreBounded(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	const q = `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`

	t.Run("at the limit", func(t *testing.T) {
		e.fake.ResetCounts()
		status, resp := e.post(t, "Token "+tokA, q, map[string]any{"ids": nodeIDs(100)})
		if status != http.StatusOK || len(resp.Errors) > 0 {
			t.Fatalf("100 ids: %d %+v", status, resp.Errors)
		}
		if n := e.fake.Calls(); n != 1 {
			t.Fatalf("100 ids made %d SeaTable calls, want 1", n)
		}
	})
	t.Run("over the limit", func(t *testing.T) {
		e.fake.ResetCounts()
		status, resp := e.post(t, "Token "+tokA, q, map[string]any{"ids": nodeIDs(101)})
		if status != http.StatusOK || len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "BAD_USER_INPUT" ||
			!strings.Contains(resp.Errors[0].Message, "MAX_NODE_IDS") || !strings.Contains(resp.Errors[0].Message, "100") {
			t.Fatalf("101 ids: %d %+v", status, resp.Errors)
		}
		if n := e.fake.Calls(); n != 0 {
			t.Fatalf("refused nodes made %d SeaTable calls", n)
		}
	})
	t.Run("aliases times ids", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`query($ids: [ID!]!) {`)
		for i := range 25 {
			fmt.Fprintf(&b, " a%d: nodes(ids: $ids) { id }", i)
		}
		b.WriteString(" }")
		e.fake.ResetCounts()
		before := runtime.NumGoroutine()
		start := time.Now()
		status, resp := e.post(t, "Token "+tokA, b.String(), map[string]any{"ids": nodeIDs(20000)})
		took := time.Since(start)
		if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(resp.Errors[0].Message, "complexity") {
			t.Fatalf("25 aliases x 20,000 ids: %d %+v", status, resp.Errors)
		}
		if n := e.fake.Calls(); n != 0 {
			t.Fatalf("refused operation made %d SeaTable calls", n)
		}
		if g := runtime.NumGoroutine(); g > before+50 {
			t.Fatalf("%d goroutines after the refusal, %d before", g, before)
		}
		t.Logf("25 aliases x 20,000 ids refused in %v (%s)", took.Round(time.Millisecond), resp.Errors[0].Message)
	})
}

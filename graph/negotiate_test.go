package graph

import "testing"

func TestPrefersEventStream(t *testing.T) {
	for _, tc := range []struct {
		accept            string
		listed, preferred bool
	}{
		{"", false, false},
		{"application/json", false, false},
		{"*/*", false, false},
		{"text/event-stream", true, true},
		{"text/event-stream, application/json", true, true},
		{"application/json, text/event-stream", true, false},
		{"application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed", true, false},
		{"application/json;q=0.5, text/event-stream", true, true},
		{"text/event-stream;q=0.5, application/json", true, false},
		{"text/event-stream;q=0, application/json", false, false},
		{"application/json;q=0, text/event-stream;q=0.1", true, true},
		{"text/event-stream;q=0.9, */*;q=0.8", true, true},
		{"garbage;;, text/event-stream", true, true},
	} {
		listed, preferred := PrefersEventStream(tc.accept)
		if listed != tc.listed || preferred != tc.preferred {
			t.Errorf("%q: listed %v preferred %v, want %v %v", tc.accept, listed, preferred, tc.listed, tc.preferred)
		}
	}
}

func TestStreamWanted(t *testing.T) {
	for _, tc := range []struct {
		body string
		want bool
	}{
		{`{"query":"subscription { workspacesChanged { workspaces { name } } }"}`, true},
		{`{"query":"{ workspaces { name } }"}`, false},
		{`{"query":"mutation { x }"}`, false},
		{`{"query":"{ workspaces { ... @defer { name } } }"}`, true},
		{`{"query":"query A { a } subscription B { b }","operationName":"B"}`, true},
		{`{"query":"query A { a } subscription B { b }","operationName":"A"}`, false},
		{`{"query":"query A { a } subscription B { b }"}`, false},
		{`{"query":"subscription {"}`, false},
		{`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`, false},
		{`not json`, false},
	} {
		if got := StreamWanted([]byte(tc.body)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.body, got, tc.want)
		}
	}
}

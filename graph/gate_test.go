package graph

import (
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// TestPayloadToken: connection_init payloads as clients send them; names in
// any case; a payload naming no token reports none.
func TestPayloadToken(t *testing.T) {
	for _, tc := range []struct {
		payload transport.InitPayload
		tok     string
		present bool
	}{
		{transport.InitPayload{"Authorization": "Token abc"}, "abc", true},
		{transport.InitPayload{"authorization": "Bearer abc"}, "abc", true},
		{transport.InitPayload{"AUTHORIZATION": "token abc"}, "abc", true},
		{transport.InitPayload{"token": "abc"}, "abc", true},
		{transport.InitPayload{"headers": map[string]any{"Authorization": "Token abc"}}, "abc", true},
		{transport.InitPayload{"Headers": map[string]any{"authorization": "Token abc"}}, "abc", true},
		{transport.InitPayload{"headers": map[string]any{"X-Other": "1"}}, "", false},
		{transport.InitPayload{"user": "someone"}, "", false},
		{transport.InitPayload{}, "", false},
	} {
		tok, present, err := payloadToken(tc.payload)
		if tok != tc.tok || present != tc.present || err != nil {
			t.Errorf("%v: %q %v %v, want %q %v", tc.payload, tok, present, err, tc.tok, tc.present)
		}
	}
	if _, present, err := payloadToken(transport.InitPayload{"headers": map[string]any{"Authorization": "Basic x y"}}); !present || err == nil {
		t.Errorf("a malformed header: present %v, err %v", present, err)
	}
}

// TestCloseReason: a close frame's reason holds 123 bytes.
func TestCloseReason(t *testing.T) {
	if r := closeReason("short"); r != "short" {
		t.Fatal(r)
	}
	r := closeReason(strings.Repeat("é", 100))
	if len(r) > 123 || !strings.HasSuffix(r, "…") || !strings.HasPrefix(r, "éé") {
		t.Fatalf("%d bytes: %q", len(r), r)
	}
}

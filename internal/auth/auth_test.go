package auth

import (
	"net/http"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

func TestToken(t *testing.T) {
	long := strings.Repeat("a", MaxTokenLength+1)
	cases := []struct {
		header, want string
		wantErr      bool
	}{
		{"", "", false},
		{"Token abc", "abc", false},
		{"Bearer abc", "abc", false},
		{"bearer\tabc", "abc", false},
		{"  TOKEN   abc  ", "abc", false},
		{"Token", "", true},
		{"Token a b", "", true},
		{"Basic dXNlcjpwYXNz", "", true},
		{"abc", "", true},
		{"Token " + long, "", true},
		{"Token tök", "", true},
	}
	for _, tc := range cases {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Authorization", tc.header)
		}
		got, err := Token(h)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("Token(%.30q) = %q, %v; want %q, err %v", tc.header, got, err, tc.want, tc.wantErr)
		}
		if err != nil {
			if apperr.CodeOf(err) != apperr.Unauthenticated {
				t.Errorf("%.30q: code %s, want UNAUTHENTICATED", tc.header, apperr.CodeOf(err))
			}
			// The message must not echo what the client sent.
			if strings.Contains(err.Error(), "dXNlcjpwYXNz") || strings.Contains(err.Error(), "tök") {
				t.Errorf("%.30q: error echoes the credential: %v", tc.header, err)
			}
		}
	}
}

// TestSeveralAuthorizationHeaders: two headers are refused, whether they
// agree or not (before, the first won silently).
func TestSeveralAuthorizationHeaders(t *testing.T) {
	for _, values := range [][]string{{"Token a", "Token b"}, {"Token a", "Token a"}, {"Token a", ""}} {
		_, err := Token(http.Header{"Authorization": values})
		if apperr.CodeOf(err) != apperr.Unauthenticated {
			t.Errorf("%q: %v, want UNAUTHENTICATED", values, err)
		}
	}
}

package apperr

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestEcho(t *testing.T) {
	for in, want := range map[string]string{
		"short":                    `"short"`,
		strings.Repeat("x", 40):    `"` + strings.Repeat("x", 40) + `"`,
		strings.Repeat("x", 100e3): `"` + strings.Repeat("x", 40) + `"…`,
		strings.Repeat("é", 30):    `"` + strings.Repeat("é", 20) + `"…`, // cut on a rune boundary
	} {
		if got := Echo(in); got != want {
			t.Errorf("Echo(%d bytes) = %s, want %s", len(in), got, want)
		}
	}
}

// TestEveryRefusalHasARow: a refusal added without a row in the table
// would answer 0 with no code.
func TestEveryRefusalHasARow(t *testing.T) {
	for k := Malformed; k <= AnswerTooLarge; k++ {
		if k.Code() == "" || k.Status(false) < 200 || k.Status(true) < 200 {
			t.Errorf("refusal %d: code %q, status %d/%d", k, k.Code(), k.Status(false), k.Status(true))
		}
	}
	if int(AnswerTooLarge) != len(refusals)-1 {
		t.Errorf("AnswerTooLarge is %d, the table has %d rows: keep the last refusal last in the loop above", AnswerTooLarge, len(refusals)-1)
	}
}

func TestExtensions(t *testing.T) {
	for _, tc := range []struct {
		e    *Error
		want map[string]any
	}{
		{New(BadUserInput, "x"), map[string]any{"code": "BAD_USER_INPUT"}},
		{&Error{Code: RateLimited, RetryAfter: 1500 * time.Millisecond, UpstreamStatus: 429}, map[string]any{"code": "RATE_LIMITED", "retryAfter": 2, "upstreamStatus": 429}},
		{&Error{Code: RateLimited, RetryAfter: time.Millisecond}, map[string]any{"code": "RATE_LIMITED", "retryAfter": 1}},
	} {
		if got := Extensions(nil, tc.e); !maps.Equal(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.e, got, tc.want)
		}
	}
}

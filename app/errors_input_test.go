package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestMalformedDateTimeIsBadUserInput: a DateTime variable that is not RFC
// 3339 is the client's mistake. Before, it was INTERNAL, logged at ERROR
// with the whole value (a 900 KB value gave a 900 KB log line) and counted
// as an internal failure in metrics; now it is BAD_USER_INPUT with a short
// message, logged at most at info, and counted as BAD_USER_INPUT.
func TestMalformedDateTimeIsBadUserInput(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Seed))
	huge := strings.Repeat("x", 900<<10)
	q := `query($t: DateTime) { dtables(filter: {updatedAfter: $t}) { totalCount } }`
	status, resp := e.post(t, "Token "+tokA, q, map[string]any{"t": huge})
	if status != http.StatusOK || len(resp.Errors) != 1 || code(resp.Errors[0]) != "BAD_USER_INPUT" {
		t.Fatalf("status %d, errors %+v, want BAD_USER_INPUT", status, resp.Errors)
	}
	if msg := resp.Errors[0].Message; len(msg) > 200 || !strings.Contains(msg, "RFC 3339") {
		t.Fatalf("message of %d bytes: %.200q", len(msg), msg)
	}
	logs := e.logs.String()
	if strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("logged at ERROR: %.300s", logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		if len(line) > 4<<10 {
			t.Fatalf("a log line of %d bytes", len(line))
		}
	}
	if _, m := e.scrape(t); strings.Contains(m, `"INTERNAL"`) || !strings.Contains(m, `"BAD_USER_INPUT"`) {
		t.Errorf("not counted as BAD_USER_INPUT:\n%s", m)
	}
}

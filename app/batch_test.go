package app

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// postBatch sends a JSON array of requests and decodes the array answered.
func postBatch(t *testing.T, e *testEnv, body string) (int, []gqlResponse, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+tokA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	var out []gqlResponse
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, string(raw)
}

// TestBatchSharesOneReadAndFailsAlone: a batch (Apollo's BatchHttpLink)
// answers an array in order; its reads make one SeaTable call, also when
// one operation alone would read the cheap list (detail=false) and another
// the full one; each failing operation fails alone, whatever its failure.
func TestBatchSharesOneReadAndFailsAlone(t *testing.T) {
	e := newTestEnv(t)
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	e.fake.ResetCounts()
	status, results, raw := postBatch(t, e, `[
		{"query":"{ workspaces { seatableId } }"},
		{"query":"query Q($u: ID!) { dtable(uuid: $u) { name } }","variables":{"u":"3a4f848c5fc94cc8bbda96d7d49a944a"},"operationName":"Q"},
		{"query":5},
		{"query":"{ workspaces { nope } }"},
		{"query":"{ dtable(uuid: \"x\") { name } }"},
		{"query":"{ dtables { totalCount } }"}
	]`)
	if status != http.StatusOK || len(results) != 6 {
		t.Fatalf("status %d, %s", status, raw)
	}
	want := []string{`{"workspaces":[{"seatableId":"starred"},{"seatableId":"shared"},{"seatableId":"1"},{"seatableId":"2"}]}`, `{"dtable":{"name":"testing"}}`, ``, ``, `{"dtable":null}`, `{"dtables":{"totalCount":4}}`}
	codes := []string{"", "", "BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT", ""}
	for i, r := range results {
		if got := strings.TrimSpace(string(r.Data)); got != want[i] && !(want[i] == "" && (got == "" || got == "null")) {
			t.Errorf("#%d data %s, want %s", i, got, want[i])
		}
		var code string
		if len(r.Errors) > 0 {
			code, _ = r.Errors[0].Extensions["code"].(string)
		}
		if code != codes[i] {
			t.Errorf("#%d code %q, want %q (%+v)", i, code, codes[i], r.Errors)
		}
	}
	if n := e.fake.Calls(); n != 1 {
		t.Errorf("the batch made %d SeaTable calls, want 1", n)
	}
}

// TestBatchWithAMutation: a write in a batch is seen by the reads after it
// (the shared loaders are invalidated), and reads before it are not redone.
func TestBatchWithAMutation(t *testing.T) {
	e := newWriteEnv(t)
	status, results, raw := postBatch(t, e, `[
		{"query":"{ dtable(uuid: \"`+travelUUID+`\") { starred } }"},
		{"query":"mutation { starDTable(input: {uuid: \"`+travelUUID+`\"}) { dtable { id starred } } }"},
		{"query":"{ dtable(uuid: \"`+travelUUID+`\") { starred } }"}
	]`)
	if status != http.StatusOK || len(results) != 3 {
		t.Fatalf("status %d, %s", status, raw)
	}
	if string(results[0].Data) != `{"dtable":{"starred":false}}` || string(results[2].Data) != `{"dtable":{"starred":true}}` {
		t.Errorf("before/after the write: %s", raw)
	}
}

func TestBatchTurnedOff(t *testing.T) {
	e := newTestEnv(t, withEnv("MAX_BATCH", "0"))
	e.fake.SetToken(tokA, fakeseatable.Fixture(fakeseatable.Demo))
	status, _, raw := postBatch(t, e, `[{"query":"{ __typename }"}]`)
	if status != http.StatusBadRequest || !strings.Contains(raw, "MAX_BATCH=0") {
		t.Errorf("status %d: %s", status, raw)
	}
}

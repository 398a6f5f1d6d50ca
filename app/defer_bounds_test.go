package app

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// A deferred answer over MAX_RESPONSE_BYTES (issue 18.3): the initial
// part and the deferred ones count against the limit together (the
// deferred fields' lists are charged as they resolve, so here the limit is
// met before the first part is sent); the part that crosses it is
// replaced by one error naming the limit with hasNext false, the stream
// ends, and the deferred work left is dropped (goroutines back to where
// they were), so neither the answer nor the work outgrows the limit. The
// same query under a limit it fits streams every part.
func TestDeferOverMaxResponseBytes(t *testing.T) {
	const limit = 64 << 10
	fake := fakeseatable.New()
	fake.SetToken(tokA, fakeseatable.Generate(100, 50)) // each workspace's tables: ~10 KB
	e := newTestEnv(t, withFake(fake), withEnv("MAX_RESPONSE_BYTES", "65536"))
	roomy := newTestEnv(t, withFake(fake), withEnv("MAX_RESPONSE_BYTES", "16777216"))
	allocs := func(f func()) uint64 {
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		f()
		runtime.ReadMemStats(&b)
		return b.TotalAlloc - a.TotalAlloc
	}
	var roomyParts []deferredPart
	var roomyTotal int
	fits := allocs(func() { roomyParts, roomyTotal = deferredParts(t, roomy) })
	if parts, total := roomyParts, roomyTotal; len(parts) < 2 || total < 5*limit || len(parts[len(parts)-1].Errors) > 0 || *parts[len(parts)-1].HasNext {
		t.Fatalf("under a roomy limit: %d parts, %d bytes, last %+v", len(parts), total, parts[len(parts)-1])
	}
	deferredParts(t, e) // warm: connections to the fake are kept
	before := runtime.NumGoroutine()
	var parts []deferredPart
	var total int
	over := allocs(func() { parts, total = deferredParts(t, e) })
	last := parts[len(parts)-1]
	// The error is the part's own when the limit is met before the first
	// part is sent (usually), else an incremental result of a later part
	// (gqlgen sends later parts' results under "incremental", possibly
	// beside results that fit): which depends on how fast the deferred
	// lists resolve.
	errs := last.Errors
	for _, raw := range last.Incremental { // with the results that fit before it
		var inc deferredPart
		if err := json.Unmarshal(raw, &inc); err != nil {
			t.Fatal(err)
		}
		errs = append(errs, inc.Errors...)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "MAX_RESPONSE_BYTES") || !strings.Contains(errs[0].Message, "65536") ||
		errs[0].Extensions["code"] != "BAD_USER_INPUT" || last.HasNext == nil || *last.HasNext {
		t.Fatalf("last of %d parts: %+v (hasNext %v)", len(parts), last, last.HasNext != nil && *last.HasNext)
	}
	for i, p := range parts[:len(parts)-1] {
		if len(p.Errors) > 0 || p.HasNext == nil || !*p.HasNext || incrementalErrors(p) {
			t.Fatalf("part %d of %d: %+v", i, len(parts), p)
		}
	}
	if total > limit {
		t.Fatalf("%d bytes streamed for a limit of %d", total, limit)
	}
	if over > fits/2 {
		t.Fatalf("refusing allocated %d bytes, answering in full %d", over, fits)
	}
	t.Logf("%d parts, %d bytes, the last the error; %.1f MB allocated (%.1f MB for the full answer of %d bytes)", len(parts), total, float64(over)/(1<<20), float64(fits)/(1<<20), roomyTotal)
	eventually(t, "the deferred work to end", func() bool { return runtime.NumGoroutine() <= before })
}

// incrementalErrors reports whether any incremental result of p has errors.
func incrementalErrors(p deferredPart) bool {
	for _, raw := range p.Incremental {
		var inc deferredPart
		if json.Unmarshal(raw, &inc) != nil || len(inc.Errors) > 0 {
			return true
		}
	}
	return false
}

var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

type deferredPart struct {
	Data        json.RawMessage `json:"data"`
	HasNext     *bool           `json:"hasNext"`
	Incremental []json.RawMessage
	Errors      []struct {
		Message    string
		Extensions map[string]any
	}
}

// deferredParts posts a deferred query of every workspace's tables and
// reads the multipart answer.
func deferredParts(t *testing.T, e *testEnv) (parts []deferredPart, total int) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": `{ workspaces { seatableId ... @defer { tables { uuid name workspace { name } } } } }`})
	req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "multipart/mixed;deferSpec=20220824, application/json")
	req.Header.Set("Authorization", "Token "+tokA)
	resp, err := noKeepAlive.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		t.Fatalf("Content-Type %q: %v", resp.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d parts: %v", len(parts), err)
		}
		b, _ := io.ReadAll(p)
		total += len(b)
		var pt deferredPart
		if err := json.Unmarshal(b, &pt); err != nil {
			t.Fatalf("part %d: %v: %.200s", len(parts), err, b)
		}
		parts = append(parts, pt)
	}
	if len(parts) == 0 {
		t.Fatal("no part")
	}
	return parts, total
}

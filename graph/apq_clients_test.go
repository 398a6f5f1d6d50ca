package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/internal/ratelimit"
	"github.com/seatable-graphql/seatable-graphql/internal/redistest"
)

// One client, anonymous or not, cannot use up the hourly Redis budget for
// persisted queries: each has its share (a sixteenth, at least one longest
// query), charged before the shared budget, so what it is refused costs
// the others nothing. Before, one anonymous client's 16 queries filled
// the budget and everyone else's stayed in process only.
func TestPersistedQueriesBudgetPerClient(t *testing.T) {
	_, rc := redistest.StartWithClient(t)
	p := NewAPQStore(APQOptions{MaxBytes: 16 << 10, MaxQueryBytes: 1 << 10, Redis: rc})
	as := func(client string) context.Context {
		return ratelimit.WithClient(context.Background(), func(context.Context) string { return client })
	}
	flood := as("ip:203.0.113.9")
	for i := range 40 {
		p.Add(flood, fmt.Sprintf("flood-%d", i), strings.Repeat("x", 1000))
	}
	inRedis := func(prefix string) int {
		t.Helper()
		keys, err := rc.Keys(context.Background(), apqPrefix+prefix+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	if n := inRedis("flood-"); n != 1 {
		t.Fatalf("one client wrote %d queries to Redis, want 1 (its 1 KiB share)", n)
	}
	for c := range 15 {
		p.Add(as(fmt.Sprintf("t:client%d", c)), fmt.Sprintf("other-%d", c), strings.Repeat("y", 1000))
	}
	if n := inRedis("other-"); n != 15 {
		t.Fatalf("%d of 15 other clients' queries reached Redis, want all", n)
	}
}

package redisguard

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestFailedMarksRedisDownForAWhile(t *testing.T) {
	var g Guard
	for _, err := range []error{nil, redis.Nil} {
		if g.Failed(err) || !g.Available() {
			t.Fatalf("%v counted as a failure", err)
		}
	}
	if !g.Failed(errors.New("connection refused")) || g.Available() {
		t.Fatal("a failure must make Redis unavailable")
	}
}

func TestContextOutlivesTheRequestButNotTheTimeout(t *testing.T) {
	var g Guard
	req, cancel := context.WithCancel(context.Background())
	cancel()
	ctx, done := g.Context(req)
	defer done()
	if ctx.Err() != nil {
		t.Fatal("a Redis call must not be cut short by its request going away")
	}
	if d, ok := ctx.Deadline(); !ok || d.IsZero() {
		t.Fatal("a Redis call must be bounded")
	}
}

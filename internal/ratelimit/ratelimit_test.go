package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestLocalBuckets: each key has its own burst; past it a retry delay is
// given; a zero limit is off.
func TestLocalBuckets(t *testing.T) {
	l := New(nil)
	lim := Limit{PerSecond: 1, Burst: 2}
	for i, want := range []bool{true, true, false} {
		if ok, retry := l.Allow(context.Background(), "a", lim); ok != want || (!ok && retry <= 0) {
			t.Fatalf("request %d: %v (retry %v), want %v", i+1, ok, retry, want)
		}
	}
	if ok, _ := l.Allow(context.Background(), "b", lim); !ok {
		t.Fatal("another key shares a's bucket")
	}
	if ok, _ := l.Allow(context.Background(), "a", Limit{}); !ok {
		t.Fatal("a zero limit refused a request")
	}
}

// TestRedisDownFallsBackToLocal: an unreachable Redis never fails or
// stalls a check; the in-process buckets answer.
func TestRedisDownFallsBackToLocal(t *testing.T) {
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer rc.Close()
	l := New(rc)
	start := time.Now()
	for i, want := range []bool{true, false} {
		if ok, _ := l.Allow(context.Background(), "a", Limit{PerSecond: 1, Burst: 1}); ok != want {
			t.Fatalf("request %d: %v, want %v", i+1, ok, want)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("checks took %v with Redis down", d)
	}
}

package tokenhash_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/internal/redistest"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
)

// TestReplicasShareOneKey: two replicas read the same key from Redis, so
// their hashes of one token agree; a key that is not one this server
// wrote is refused rather than used.
func TestReplicasShareOneKey(t *testing.T) {
	ctx := context.Background()
	srv, rc := redistest.StartWithClient(t)
	a, ok := tokenhash.NewSharedKey(rc).Get(ctx)
	if !ok {
		t.Fatal("no key")
	}
	b, err := tokenhash.LoadSharedKey(ctx, rc)
	if err != nil || !bytes.Equal(a, b) || tokenhash.Sum(a, "tok") != tokenhash.Sum(b, "tok") {
		t.Fatalf("replicas disagree: %x %x %v", a, b, err)
	}
	if err := rc.Set(ctx, "sgql:hmac-key", "not hex", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := tokenhash.LoadSharedKey(ctx, rc); err == nil {
		t.Fatal("a bad key was accepted")
	}
	srv.Stop()
	if _, ok := tokenhash.NewSharedKey(rc).Get(ctx); ok {
		t.Fatal("a key without Redis")
	}
}

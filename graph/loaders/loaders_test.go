package loaders

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// recorder is a Lister that counts calls and remembers what each asked for.
type recorder struct {
	list  *upstream.WorkspaceList
	err   error
	calls atomic.Int64
	gate  chan struct{} // when set, calls wait for it

	mu     sync.Mutex
	asked  []string // "detail=<bool> fields=<hex>" per call
	tokens []string
	inval  []string
}

func (r *recorder) ListWorkspaces(ctx context.Context, token string, read upstream.Read) (*upstream.WorkspaceList, error) {
	r.calls.Add(1)
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	r.asked = append(r.asked, map[bool]string{true: "detail", false: "summary"}[read.Detail]+"/"+fieldsName(read.Fields()))
	r.tokens = append(r.tokens, token)
	r.mu.Unlock()
	return r.list, r.err
}

func (r *recorder) Invalidate(_ context.Context, token string) {
	r.mu.Lock()
	r.inval = append(r.inval, token)
	r.mu.Unlock()
}

func fieldsName(f upstream.Fields) string {
	if f == upstream.AllFields {
		return "all"
	}
	return "some"
}

func caller(token string) *auth.Caller {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Token "+token)
	}
	return auth.NewCaller(h, "", false)
}

func seedList(t *testing.T) *upstream.WorkspaceList {
	t.Helper()
	list, err := upstream.DecodeWorkspaceListBytes(fakeseatable.Fixture(fakeseatable.Current))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestOneReadPerRequest: however many lookups, concurrent or not, one
// request reads SeaTable once, with its caller's token.
func TestOneReadPerRequest(t *testing.T) {
	r := &recorder{list: seedList(t), gate: make(chan struct{})}
	l := New(r, caller("tok-a"))
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.Workspaces(ctx); err != nil {
				t.Error(err)
			}
			if _, err := l.WorkspaceByID(ctx, "12"); err != nil {
				t.Error(err)
			}
		}()
	}
	close(r.gate)
	wg.Wait()
	if _, err := l.DTableByUUID(ctx, strings.Repeat("a", 32)); err != nil {
		t.Fatal(err)
	}
	if n := r.calls.Load(); n != 1 || r.tokens[0] != "tok-a" {
		t.Fatalf("%d calls with %v, want 1 with tok-a", n, r.tokens)
	}
}

// TestWiderReadServesNarrowerOne: a list decoded with more fields serves a
// later read that needs fewer; one that needs more is read again.
func TestWiderReadServesNarrowerOne(t *testing.T) {
	r := &recorder{list: seedList(t)}
	l := New(r, caller("tok-a"))
	ctx := context.Background()
	l.SetFields(upstream.FieldCreatedAt)
	if _, err := l.List(ctx); err != nil {
		t.Fatal(err)
	}
	l.SetFields(upstream.AllFields)
	if _, err := l.List(ctx); err != nil {
		t.Fatal(err)
	}
	l.SetFields(upstream.FieldCreatedAt)
	if _, err := l.List(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.asked, ","); got != "detail/some,detail/all" {
		t.Fatalf("reads %s, want detail/some,detail/all (the third served by the second)", got)
	}
}

// TestBatchLoadersReadEverything: the loaders a batch shares ask for the
// whole list whatever one operation sets, since one read serves them all.
func TestBatchLoadersReadEverything(t *testing.T) {
	r := &recorder{list: seedList(t)}
	l := New(r, caller("tok-a"), ForBatch())
	l.SetDetail(false)
	l.SetFields(upstream.FieldCreatedAt)
	if _, err := l.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.asked, ","); got != "detail/all" {
		t.Fatalf("batch read %s, want detail/all", got)
	}
}

// TestInvalidateRereadsAndForwards: after a write the request reads anew,
// and the fetch stack forgets what it keeps for that token only.
func TestInvalidateRereadsAndForwards(t *testing.T) {
	r := &recorder{list: seedList(t)}
	l := New(r, caller("tok-a"))
	ctx := context.Background()
	_, _ = l.WorkspaceByID(ctx, "12")
	l.Invalidate(ctx)
	_, _ = l.WorkspaceByID(ctx, "12")
	if n := r.calls.Load(); n != 2 || len(r.inval) != 1 || r.inval[0] != "tok-a" {
		t.Fatalf("%d calls, invalidated %v; want 2 calls and tok-a invalidated", n, r.inval)
	}
	New(r, caller("")).Invalidate(ctx) // no token: nothing to forget
	if len(r.inval) != 1 {
		t.Fatalf("an anonymous invalidation reached the stack: %v", r.inval)
	}
}

// TestErrorsAreTheReadsOwn: a caller without a token is refused without a
// call; an upstream error reaches every lookup of the request, wrapped; a
// panicking Lister becomes INTERNAL without the token in its text.
func TestErrorsAreTheReadsOwn(t *testing.T) {
	ctx := context.Background()
	r := &recorder{list: seedList(t)}
	if _, err := New(r, caller("")).Workspaces(ctx); apperr.CodeOf(err) != apperr.Unauthenticated || r.calls.Load() != 0 {
		t.Fatalf("no token: %v after %d calls, want UNAUTHENTICATED and none", err, r.calls.Load())
	}
	down := &recorder{err: apperr.New(apperr.UpstreamUnavailable, "SeaTable is unavailable")}
	l := New(down, caller("tok-a"))
	_, err1 := l.WorkspaceByID(ctx, "1")
	_, err2 := l.DTableByUUID(ctx, strings.Repeat("b", 32))
	if apperr.CodeOf(err1) != apperr.UpstreamUnavailable || apperr.CodeOf(err2) != apperr.UpstreamUnavailable || down.calls.Load() != 1 {
		t.Fatalf("errors %v / %v after %d calls, want UPSTREAM_UNAVAILABLE twice from one call", err1, err2, down.calls.Load())
	}
	if _, err := l.DTableByUUID(ctx, "not-a-uuid"); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Fatalf("bad uuid: %v, want BAD_USER_INPUT", err)
	}
	_, err := New(panicking{}, caller("secret-token-123")).Workspaces(ctx)
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "secret-token-123") {
			t.Fatalf("panic error holds the token: %v", e)
		}
	}
	if apperr.CodeOf(err) != apperr.Internal {
		t.Fatalf("panic: %v", err)
	}
	outside := For(ctx)
	if _, err := outside.Workspaces(ctx); apperr.CodeOf(err) != apperr.Internal {
		t.Fatalf("loaders outside a request: %v, want INTERNAL", err)
	}
	outside.Invalidate(ctx) // must not panic: there is no caller to forget
}

type panicking struct{}

func (panicking) ListWorkspaces(_ context.Context, token string, _ upstream.Read) (*upstream.WorkspaceList, error) {
	panic("bug while holding " + token)
}

// TestEventLoadersReadOnlyTheirEvent: a subscription's loaders never call
// SeaTable; each read answers from the event last served, and serving the
// next event forgets the previous one's indexes. Other loaders ignore Serve.
func TestEventLoadersReadOnlyTheirEvent(t *testing.T) {
	r := &recorder{list: seedList(t)}
	ctx := context.Background()
	ev := New(r, caller("tok-a")).ForEvents()
	if _, err := ev.Workspaces(ctx); apperr.CodeOf(err) != apperr.Internal {
		t.Fatalf("before any event: %v, want INTERNAL", err)
	}
	first := seedList(t)
	ev.Serve(first)
	ws, err := ev.Workspaces(ctx)
	if err != nil || len(ws) == 0 || ws[0] != first.Workspaces[0] {
		t.Fatalf("first event: %v, %v", ws, err)
	}
	second := seedList(t)
	ev.Serve(second)
	w, err := ev.WorkspaceByID(ctx, first.Workspaces[0].ID)
	if err != nil || w != second.Workspaces[0] {
		t.Fatalf("second event: got the workspace of %p, want %p (%v)", w, second.Workspaces[0], err)
	}
	if n := r.calls.Load(); n != 0 {
		t.Fatalf("event loaders called SeaTable %d times, want 0", n)
	}

	plain := New(r, caller("tok-a"))
	plain.Serve(first)
	if _, err := plain.Workspaces(ctx); err != nil || r.calls.Load() != 1 {
		t.Fatalf("plain loaders after Serve: %v, %d calls, want their own read", err, r.calls.Load())
	}
}

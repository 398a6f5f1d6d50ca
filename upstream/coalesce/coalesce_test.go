package coalesce_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/flight/flighttest"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/coalesce"
)

// gate is an upstream that blocks every call until released and answers
// each token with a list naming that token.
type gate struct {
	calls   atomic.Int64
	entered chan string
	release chan struct{}
	ctxErr  atomic.Value
}

func newGate() *gate {
	return &gate{entered: make(chan string, 100), release: make(chan struct{})}
}

func (g *gate) ListWorkspaces(ctx context.Context, token string, r upstream.Read) (*upstream.WorkspaceList, error) {
	g.calls.Add(1)
	g.entered <- token
	<-g.release
	if err := ctx.Err(); err != nil {
		g.ctxErr.Store(err)
		return nil, err
	}
	return &upstream.WorkspaceList{Workspaces: []*upstream.Workspace{{ID: token}}, Detail: r.Detail}, nil
}

func TestConcurrentCallsWithOneTokenShareOneCall(t *testing.T) {
	g := newGate()
	c := coalesce.New(g, time.Minute)
	const n = 20
	results := make(chan *upstream.WorkspaceList, n)
	waiting := make([]<-chan struct{}, n)
	for i := 0; i < n; i++ {
		var ctx context.Context
		ctx, waiting[i] = flighttest.Context(context.Background())
		go func() {
			l, err := c.ListWorkspaces(ctx, "tok", upstream.Read{Detail: true})
			if err != nil {
				t.Error(err)
			}
			results <- l
		}()
	}
	<-g.entered
	for _, w := range waiting {
		<-w // every request waits on the one call
	}
	close(g.release)
	first := <-results
	for i := 1; i < n; i++ {
		if l := <-results; l != first {
			t.Fatal("followers must share the leader's decoded result")
		}
	}
	if got := g.calls.Load(); got != 1 {
		t.Fatalf("%d upstream calls, want 1", got)
	}
}

func TestDifferentTokensAndDetailNeverShare(t *testing.T) {
	g := newGate()
	c := coalesce.New(g, time.Minute)
	type res struct {
		token  string
		detail bool
		list   *upstream.WorkspaceList
	}
	out := make(chan res, 4)
	for _, tok := range []string{"a", "b"} {
		for _, detail := range []bool{true, false} {
			go func() {
				l, err := c.ListWorkspaces(context.Background(), tok, upstream.Read{Detail: detail})
				if err != nil {
					t.Error(err)
				}
				out <- res{tok, detail, l}
			}()
		}
	}
	for i := 0; i < 4; i++ {
		<-g.entered // four distinct calls in flight at once
	}
	close(g.release)
	for i := 0; i < 4; i++ {
		r := <-out
		if r.list.Workspaces[0].ID != r.token || r.list.Detail != r.detail {
			t.Errorf("token %s detail %v got %s/%v", r.token, r.detail, r.list.Workspaces[0].ID, r.list.Detail)
		}
	}
}

func TestCancelledLeaderDoesNotFailFollowers(t *testing.T) {
	g := newGate()
	c := coalesce.New(g, time.Minute)
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.ListWorkspaces(leaderCtx, "tok", upstream.Read{Detail: true})
		leaderErr <- err
	}()
	<-g.entered
	followerRes := make(chan error, 1)
	followerCtx, waiting := flighttest.Context(context.Background())
	go func() {
		l, err := c.ListWorkspaces(followerCtx, "tok", upstream.Read{Detail: true})
		if err == nil && l.Workspaces[0].ID != "tok" {
			err = errors.New("wrong list")
		}
		followerRes <- err
	}()
	<-waiting
	cancelLeader()
	err := <-leaderErr
	var ae *apperr.Error
	if !errors.As(err, &ae) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled leader got %v, want a classified cancellation", err)
	}
	close(g.release)
	if err := <-followerRes; err != nil {
		t.Fatalf("follower failed with its leader: %v", err)
	}
	if e := g.ctxErr.Load(); e != nil {
		t.Fatalf("shared call saw a cancelled context: %v", e)
	}
}

func TestSharedCallIsBoundedByTimeout(t *testing.T) {
	c := coalesce.New(upstreamFunc(func(ctx context.Context) (*upstream.WorkspaceList, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}), 20*time.Millisecond)
	_, err := c.ListWorkspaces(context.Background(), "tok", upstream.Read{Detail: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the shared call's deadline", err)
	}
}

func TestErrorsAreSharedButNotKept(t *testing.T) {
	var calls atomic.Int64
	c := coalesce.New(upstreamFunc(func(ctx context.Context) (*upstream.WorkspaceList, error) {
		if calls.Add(1) == 1 {
			return nil, apperr.New(apperr.UpstreamUnavailable, "down")
		}
		return &upstream.WorkspaceList{}, nil
	}), time.Minute)
	if _, err := c.ListWorkspaces(context.Background(), "tok", upstream.Read{Detail: true}); err == nil {
		t.Fatal("first call should fail")
	}
	if _, err := c.ListWorkspaces(context.Background(), "tok", upstream.Read{Detail: true}); err != nil {
		t.Fatalf("an error must not outlive its call: %v", err)
	}
}

func TestInvalidateStartsAFreshCall(t *testing.T) {
	g := newGate()
	c := coalesce.New(g, time.Minute)
	done := make(chan struct{}, 2)
	go func() {
		_, _ = c.ListWorkspaces(context.Background(), "tok", upstream.Read{Detail: true})
		done <- struct{}{}
	}()
	<-g.entered
	c.Invalidate(context.Background(), "tok")
	go func() {
		_, _ = c.ListWorkspaces(context.Background(), "tok", upstream.Read{Detail: true})
		done <- struct{}{}
	}()
	<-g.entered // a second call started instead of joining the first
	close(g.release)
	<-done
	<-done
	if g.calls.Load() != 2 {
		t.Fatalf("%d calls, want 2", g.calls.Load())
	}
}

type upstreamFunc func(ctx context.Context) (*upstream.WorkspaceList, error)

func (f upstreamFunc) ListWorkspaces(ctx context.Context, _ string, _ upstream.Read) (*upstream.WorkspaceList, error) {
	return f(ctx)
}

// TestCallEndsWhenEveryWaiterHasGone: once no request waits for a shared
// call any more, its context is cancelled (a client that went away must not
// keep a SeaTable call running), and the next request starts afresh.
func TestCallEndsWhenEveryWaiterHasGone(t *testing.T) {
	ended := make(chan error, 1)
	entered := make(chan struct{}, 2)
	c := coalesce.New(upstreamFunc(func(ctx context.Context) (*upstream.WorkspaceList, error) {
		entered <- struct{}{}
		<-ctx.Done()
		ended <- ctx.Err()
		return nil, ctx.Err()
	}), time.Minute)
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	ctx2, waiting := flighttest.Context(ctx2)
	errs := make(chan error, 2)
	go func() { _, err := c.ListWorkspaces(ctx1, "tok", upstream.Read{Detail: true}); errs <- err }()
	<-entered
	go func() { _, err := c.ListWorkspaces(ctx2, "tok", upstream.Read{Detail: true}); errs <- err }()
	<-waiting
	cancel1()
	<-errs
	select {
	case err := <-ended:
		t.Fatalf("the call ended (%v) while a request still waited", err)
	default:
	}
	cancel2()
	<-errs
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("shared call ended with %v, want cancellation", err)
	}
}

func TestPanickingCallIsAnInternalError(t *testing.T) {
	c := coalesce.New(upstreamFunc(func(context.Context) (*upstream.WorkspaceList, error) {
		panic("boom")
	}), time.Minute)
	_, err := c.ListWorkspaces(context.Background(), "tok", upstream.Read{Detail: true})
	if ae, ok := apperr.As(err); !ok || ae.Code != apperr.Internal || ae.Message != "upstream call panicked" {
		t.Fatalf("got %v, want INTERNAL upstream call panicked", err)
	}
}

// TestReadsThatDifferNeverShare: the whole read is the key. A read that
// leaves out fields must not serve one that needs them, and a fresh read
// must not wait on a call a cache below may answer.
func TestReadsThatDifferNeverShare(t *testing.T) {
	g := newGate()
	c := coalesce.New(g, time.Minute)
	reads := []upstream.Read{
		{Detail: true},
		{Detail: true, Omit: upstream.FieldColor},
		{Detail: true, Fresh: true},
		{Detail: true, Omit: upstream.FieldColor, Fresh: true},
	}
	done := make(chan error, len(reads))
	for _, r := range reads {
		go func() { _, err := c.ListWorkspaces(context.Background(), "tok", r); done <- err }()
	}
	for range reads {
		<-g.entered // one call per read, all in flight at once
	}
	close(g.release)
	for range reads {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := g.calls.Load(); n != int64(len(reads)) {
		t.Fatalf("%d calls for %d different reads", n, len(reads))
	}
}

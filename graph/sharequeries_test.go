package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/internal/flight/flighttest"
)

func opCtx(token string, op ast.Operation, query string) context.Context {
	ctx := auth.NewContext(context.Background(), auth.NewCaller(http.Header{"Authorization": {"Token " + token}}, "", false))
	return graphql.WithOperationContext(ctx, &graphql.OperationContext{
		RawQuery: query, Variables: map[string]any{"a": 1}, Operation: &ast.OperationDefinition{Operation: op},
	})
}

// blockingOp is an operation that blocks until released and answers with
// the token's name and a run number.
type blockingOp struct {
	runs    atomic.Int64
	started chan struct{}
	release chan struct{}
}

func (b *blockingOp) handler(ctx context.Context) graphql.ResponseHandler {
	n := b.runs.Add(1)
	b.started <- struct{}{}
	<-b.release
	if ctx.Err() != nil {
		return graphql.OneShot(graphql.ErrorResponse(ctx, "leader context leaked into the shared run"))
	}
	data, _ := json.Marshal(map[string]int64{"run": n})
	return graphql.OneShot(&graphql.Response{Data: data})
}

func TestSharedQueriesRunOnceAndSurviveTheLeader(t *testing.T) {
	s := newSharedQueries(nil)
	op := &blockingOp{started: make(chan struct{}, 10), release: make(chan struct{})}

	leaderCtx, cancel := context.WithCancel(opCtx("tok", ast.Query, "{ a }"))
	leader := make(chan *graphql.Response, 1)
	go func() { leader <- s.around(leaderCtx, op.handler)(leaderCtx) }()
	<-op.started
	followers := make(chan *graphql.Response, 3)
	for i := 0; i < 3; i++ {
		ctx, waiting := flighttest.Context(opCtx("tok", ast.Query, "{ a }"))
		go func() { followers <- s.around(ctx, op.handler)(ctx) }()
		<-waiting
	}
	cancel()
	if r := <-leader; len(r.Errors) == 0 {
		t.Fatalf("the cancelled leader should get an error, got %s", r.Data)
	}
	close(op.release)
	for i := 0; i < 3; i++ {
		if r := <-followers; len(r.Errors) != 0 || string(r.Data) != `{"run":1}` {
			t.Fatalf("follower got %s %v", r.Data, r.Errors)
		}
	}
	if op.runs.Load() != 1 {
		t.Fatalf("%d runs, want 1", op.runs.Load())
	}
}

func TestSharedQueriesKeepApart(t *testing.T) {
	s := newSharedQueries(nil)
	s.observe = func(context.Context, *graphql.Response) { t.Error("nothing here may be shared") }
	op := &blockingOp{started: make(chan struct{}, 10), release: make(chan struct{})}
	ctxs := []context.Context{
		opCtx("tok-a", ast.Query, "{ a }"),
		opCtx("tok-b", ast.Query, "{ a }"),    // another caller
		opCtx("tok-a", ast.Query, "{ b }"),    // another document
		opCtx("tok-a", ast.Mutation, "{ a }"), // a mutation, twice
		opCtx("tok-a", ast.Mutation, "{ a }"),
		opCtx("", ast.Query, "{ a }"), // no token
		opCtx("", ast.Query, "{ a }"),
	}
	done := make(chan struct{}, len(ctxs))
	for _, ctx := range ctxs {
		go func() { s.around(ctx, op.handler)(ctx); done <- struct{}{} }()
	}
	for range ctxs {
		<-op.started // every one runs on its own
	}
	close(op.release)
	for range ctxs {
		<-done
	}
}

// TestSharedRunEndsWhenEveryWaiterHasGone: a run nobody waits for any more
// is cancelled, so a client that went away does not keep SeaTable busy.
func TestSharedRunEndsWhenEveryWaiterHasGone(t *testing.T) {
	s := newSharedQueries(nil)
	started, ended := make(chan struct{}), make(chan error, 1)
	op := func(ctx context.Context) graphql.ResponseHandler {
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
		return graphql.OneShot(&graphql.Response{})
	}
	ctx, cancel := context.WithCancel(opCtx("tok", ast.Query, "{ a }"))
	done := make(chan struct{})
	go func() { s.around(ctx, op)(ctx); close(done) }()
	<-started
	cancel()
	<-done
	if err := <-ended; err == nil {
		t.Fatal("the run was not cancelled")
	}
}

// TestSharedQueriesReportFollowers: every request that joined a run is
// reported to the observers with its own context (metrics, request log);
// before, only the leader's response passed gqlgen's interceptors.
func TestSharedQueriesReportFollowers(t *testing.T) {
	s := newSharedQueries(nil)
	var reported atomic.Int64
	s.observe = observeExtension{observers: []Observer{func(ctx context.Context, op Operation) {
		if op.Type == "query" && len(op.Codes) == 0 {
			reported.Add(1)
		}
	}}}.report
	op := &blockingOp{started: make(chan struct{}, 10), release: make(chan struct{})}
	done := make(chan struct{}, 4)
	for i := range 4 {
		ctx, waiting := flighttest.Context(opCtx("tok", ast.Query, "{ a }"))
		go func() {
			s.around(ctx, op.handler)(ctx)
			done <- struct{}{}
		}()
		if i == 0 {
			<-op.started
		}
		<-waiting
	}
	close(op.release)
	for range 4 {
		<-done
	}
	// The leader's report comes from gqlgen's interceptor, not tested here.
	if n := reported.Load(); n != 3 {
		t.Fatalf("%d followers reported, want 3", n)
	}
}

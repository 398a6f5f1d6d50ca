package graph

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/internal/auth"
)

// sharedQueries runs identical queries that are in flight at the same time
// once: same caller (token), same document, operation name and variables.
// The followers get the leader's response. They would have read the same
// coalesced upstream answer and so computed the same bytes; sharing the
// execution saves resolving and encoding them again, which for a large
// workspace list costs far more than the upstream call. Mutations are never
// shared, and neither are requests of different callers.
type sharedQueries struct {
	hashKey   []byte
	partition func(ctx context.Context) string
	onJoin    func()
	// observe reports a follower's response (metrics, request log): the
	// leader's went through gqlgen's interceptors inside the run.
	observe func(ctx context.Context, resp *graphql.Response)

	mu      sync.Mutex
	flights map[string]*queryFlight
}

type queryFlight struct {
	done chan struct{}
	resp *graphql.Response

	waiters int                // requests waiting for it; guarded by sharedQueries.mu
	cancel  context.CancelFunc // ends the run once no request waits any more
}

func newSharedQueries(partition func(ctx context.Context) string, onJoin func()) *sharedQueries {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &sharedQueries{hashKey: key, partition: partition, onJoin: onJoin, flights: map[string]*queryFlight{}}
}

func (s *sharedQueries) around(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	key, ok := s.key(ctx)
	if !ok {
		return next(ctx)
	}
	s.mu.Lock()
	f, joined := s.flights[key]
	if !joined {
		f = &queryFlight{done: make(chan struct{})}
		// Detached from the leader's cancellation (values are kept): a
		// leader that goes away must not fail the requests sharing its run.
		// When all of them have gone, the run is cancelled.
		var runCtx context.Context
		runCtx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
		s.flights[key] = f
		go s.run(runCtx, key, f, next)
	}
	f.waiters++
	s.mu.Unlock()
	if joined && s.onJoin != nil {
		s.onJoin()
	}
	select {
	case <-f.done:
		if joined && s.observe != nil {
			s.observe(ctx, f.resp)
		}
		return graphql.OneShot(f.resp)
	case <-ctx.Done():
		s.mu.Lock()
		if f.waiters--; f.waiters == 0 {
			f.cancel()
			if s.flights[key] == f {
				delete(s.flights, key)
			}
		}
		s.mu.Unlock()
		return graphql.OneShot(graphql.ErrorResponse(ctx, "request cancelled"))
	}
}

func (s *sharedQueries) run(ctx context.Context, key string, f *queryFlight, next graphql.OperationHandler) {
	defer f.cancel()
	defer func() {
		if r := recover(); r != nil {
			f.resp = graphql.ErrorResponse(ctx, "internal system error")
		}
		s.mu.Lock()
		if s.flights[key] == f {
			delete(s.flights, key)
		}
		s.mu.Unlock()
		close(f.done)
	}()
	f.resp = next(ctx)(ctx)
	if f.resp == nil {
		f.resp = &graphql.Response{}
	}
}

// key identifies a query run; ok is false for anything that must run on
// its own: non-queries and requests without a usable token.
func (s *sharedQueries) key(ctx context.Context) (string, bool) {
	if !graphql.HasOperationContext(ctx) {
		return "", false
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Query || usesDefer(oc.Doc, oc.Operation) {
		// A run keeps one response: a deferred operation has several.
		return "", false
	}
	caller, ok := auth.From(ctx).Hash(s.hashKey)
	if !ok {
		return "", false
	}
	vars, err := json.Marshal(oc.Variables) // map keys come out sorted
	if err != nil {
		return "", false
	}
	k := caller + "\x00" + oc.OperationName + "\x00" + string(vars) + "\x00" + oc.RawQuery
	if s.partition != nil {
		k += "\x00" + s.partition(ctx)
	}
	return k, true
}

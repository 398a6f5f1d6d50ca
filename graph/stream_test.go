package graph

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/graph/live"
	"github.com/seatable-graphql/seatable-graphql/internal/auth"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

type emptyLister struct{}

func (emptyLister) ListWorkspaces(context.Context, string, upstream.Read) (*upstream.WorkspaceList, error) {
	return &upstream.WorkspaceList{}, nil
}

// A panic while converting a subscription's event ends that subscription
// (its channel closes, so the client gets complete) and is logged with the
// token redacted; it does not take the process down, which it did when the
// goroutine had no recover.
func TestStreamPanicEndsTheSubscription(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef01234567"
	hub := live.New(emptyLister{}, live.Options{Interval: time.Hour})
	t.Cleanup(hub.Close)
	sub := hub.Subscribe(token)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx := auth.NewContext(t.Context(), auth.NewCaller(http.Header{"Authorization": {"Token " + token}}, "", false))
	ended := make(chan struct{})
	out := stream(ctx, log, sub, live.Update{List: &upstream.WorkspaceList{}}, func() { sub.Close(); close(ended) },
		func(live.Update) (int, *upstream.WorkspaceList, bool) { panic("converting the event of " + token) })
	select {
	case _, open := <-out:
		if open {
			t.Fatal("an event was sent")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the subscription did not end")
	}
	<-ended
	if !strings.Contains(logs.String(), "panic in resolver") || strings.Contains(logs.String(), token) {
		t.Fatalf("log: %s", logs.String())
	}
}

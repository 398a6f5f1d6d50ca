package live

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// readRecorder answers every poll and remembers what each asked for.
type readRecorder struct {
	mu    sync.Mutex
	reads []upstream.Read
}

func (r *readRecorder) ListWorkspaces(_ context.Context, _ string, read upstream.Read) (*upstream.WorkspaceList, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, read)
	return &upstream.WorkspaceList{Workspaces: []*upstream.Workspace{{ID: "1", Name: "one"}}, Detail: true}, nil
}

// A poll asks for SeaTable's answer now, with base lists and every field:
// the response cache's answer may be up to CACHE_TTL old. The poll says so
// in its read, so this package needs no decorator to mark its context.
func TestPollsReadFresh(t *testing.T) {
	r := &readRecorder{}
	h := New(r, Options{Interval: 10 * time.Second, After: newClock().After})
	defer h.Close()
	recv(t, h.Subscribe("a"))
	r.mu.Lock()
	defer r.mu.Unlock()
	want := upstream.Read{Detail: true, Fresh: true}
	if len(r.reads) != 1 || r.reads[0] != want {
		t.Fatalf("polls read %+v, want one %+v", r.reads, want)
	}
}

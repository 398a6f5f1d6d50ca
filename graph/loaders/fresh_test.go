package loaders

import (
	"context"
	"sync"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// readLog is a Lister that remembers every read it was asked for.
type readLog struct {
	mu    sync.Mutex
	reads []upstream.Read
}

func (r *readLog) ListWorkspaces(_ context.Context, _ string, read upstream.Read) (*upstream.WorkspaceList, error) {
	r.mu.Lock()
	r.reads = append(r.reads, read)
	r.mu.Unlock()
	return &upstream.WorkspaceList{}, nil
}

// The loaders put everything a read depends on into the upstream.Read:
// detail, the fields to leave out and the request's no-cache (FreshReads),
// which loaders built from them for another caller or event keep.
func TestReadsSayWhatTheyRead(t *testing.T) {
	ctx := context.Background()
	log := &readLog{}
	plain := New(log, caller("tok"))
	plain.SetDetail(false)
	plain.SetFields(upstream.FieldColor)
	fresh := New(log, caller("tok"), FreshReads())
	for _, l := range []*Loaders{plain, fresh, fresh.WithCaller(caller("tok2")), fresh.Anew()} {
		if _, err := l.List(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := []upstream.Read{
		{Detail: false, Omit: upstream.AllFields &^ upstream.FieldColor},
		{Detail: true, Fresh: true},
		{Detail: true, Fresh: true},
		{Detail: true, Fresh: true},
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.reads) != len(want) {
		t.Fatalf("reads %+v, want %+v", log.reads, want)
	}
	for i := range want {
		if log.reads[i] != want[i] {
			t.Errorf("read %d: %+v, want %+v", i, log.reads[i], want[i])
		}
	}
	if plain.ReadsFresh() || !fresh.ReadsFresh() || !fresh.Anew().ReadsFresh() {
		t.Error("ReadsFresh does not say how the loaders were built")
	}
}

package loaders

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// fakeBases is an in-test BaseReader: it counts calls per kind and base,
// tracks how many run at once, and can hold each call for a while.
type fakeBases struct {
	hold time.Duration

	mu       sync.Mutex
	calls    map[string]int // "metadata <uuid>", "rows <uuid> <table> <view> <start> <limit>", "row ..."
	inFlight int
	peak     int
	panicOn  string // uuid whose metadata read panics
	tokens   map[string]bool
}

func (f *fakeBases) enter(ctx context.Context, token, key string) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls, f.tokens = map[string]int{}, map[string]bool{}
	}
	f.calls[key]++
	f.tokens[token] = true
	f.inFlight++
	f.peak = max(f.peak, f.inFlight)
	f.mu.Unlock()
	select {
	case <-time.After(f.hold):
	case <-ctx.Done():
	}
	f.mu.Lock()
	f.inFlight--
	f.mu.Unlock()
}

func (f *fakeBases) BaseMetadata(ctx context.Context, token string, b upstream.BaseRef) (*upstream.BaseMetadata, error) {
	f.enter(ctx, token, "metadata "+b.UUID)
	if b.UUID == f.panicOn {
		panic("boom with " + token)
	}
	return &upstream.BaseMetadata{Tables: []upstream.Table{{ID: "0000", Name: "T " + b.Name}}}, nil
}

func (f *fakeBases) Rows(ctx context.Context, token string, b upstream.BaseRef, q upstream.RowsQuery) ([]upstream.Row, error) {
	f.enter(ctx, token, fmt.Sprintf("rows %s %s %s %d %d", b.UUID, q.Table, q.View, q.Start, q.Limit))
	return []upstream.Row{{ID: "r1"}}, nil
}

func (f *fakeBases) Row(ctx context.Context, token string, b upstream.BaseRef, table, id string) (*upstream.Row, error) {
	f.enter(ctx, token, "row "+b.UUID+" "+table+" "+id)
	return &upstream.Row{ID: id}, nil
}

// basesList is a workspace list of n bases in one workspace.
func basesList(n int) (*upstream.WorkspaceList, []string) {
	ws := &upstream.Workspace{ID: "7", Type: upstream.WorkspacePersonal}
	var uuids []string
	for i := range n {
		u := fmt.Sprintf("%08x-0000-4000-8000-%012x", i+1, i+1)
		uuids = append(uuids, u)
		ws.Tables = append(ws.Tables, &upstream.DTable{UUID: u, Name: fmt.Sprintf("base %02d", i), WorkspaceID: "7"})
	}
	return &upstream.WorkspaceList{Workspaces: []*upstream.Workspace{ws}}, uuids
}

// loadAll reads the metadata of every uuid concurrently, as gqlgen's
// resolvers of a list do.
func loadAll(ctx context.Context, l *Loaders, uuids []string) []error {
	errs := make([]error, len(uuids))
	var wg sync.WaitGroup
	for i, u := range uuids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = l.BaseMetadata(ctx, u)
		}()
	}
	wg.Wait()
	return errs
}

func TestBaseMetadataFannedOutWithABound(t *testing.T) {
	list, uuids := basesList(10)
	fb := &fakeBases{hold: 30 * time.Millisecond}
	l := New(&recorder{list: list}, caller("tok"), WithBases(Bases{Reader: fb, Parallel: 4}))
	ctx := context.Background()
	start := time.Now()
	for _, err := range loadAll(ctx, l, append(uuids, uuids...)) { // every base twice
		if err != nil {
			t.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	for _, u := range uuids {
		if fb.calls["metadata "+u] != 1 {
			t.Errorf("base %s read %d times, want once", u, fb.calls["metadata "+u])
		}
	}
	if fb.peak != 4 {
		t.Errorf("%d calls at once, want the bound, 4", fb.peak)
	}
	// 10 bases, 4 at a time: 3 waves of 30 ms, not 10 one after another.
	if elapsed > 250*time.Millisecond {
		t.Errorf("took %v: the bases were not read side by side", elapsed)
	}
}

func TestBaseLimitAdmitsInListOrder(t *testing.T) {
	list, uuids := basesList(6)
	fb := &fakeBases{}
	l := New(&recorder{list: list}, caller("tok"), WithBases(Bases{Reader: fb, MaxBases: 4}))
	ctx := context.Background()
	// Asked in reverse: the first four of the list are opened all the same.
	rev := make([]string, len(uuids))
	for i, u := range uuids {
		rev[len(uuids)-1-i] = u
	}
	errs := loadAll(ctx, l, rev)
	for i, err := range errs {
		u := rev[i]
		first4 := u <= uuids[3]
		if first4 != (err == nil) {
			t.Errorf("base %s: err %v", u, err)
		}
		if err != nil && (apperr.CodeOf(err) != apperr.BadUserInput || !strings.Contains(err.Error(), "4 bases")) {
			t.Errorf("limit error %v", err)
		}
		if err != nil && fb.calls["metadata "+u] != 0 {
			t.Errorf("refused base %s was called", u)
		}
	}
	// An opened base stays open for its rows.
	if _, err := l.Rows(ctx, RowsKey{Base: uuids[0], Table: "T", Limit: 5}); err != nil {
		t.Errorf("rows of an opened base: %v", err)
	}
	if _, err := l.Rows(ctx, RowsKey{Base: uuids[5], Table: "T", Limit: 5}); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("rows of a fifth base: %v", err)
	}
}

func TestBaseLoadersInvisibleBasePanicAndCaller(t *testing.T) {
	list, uuids := basesList(2)
	fb := &fakeBases{panicOn: uuids[1]}
	l := New(&recorder{list: list}, caller("tok-secret-123"), WithBases(Bases{Reader: fb}))
	ctx := context.Background()
	m, err := l.BaseMetadata(ctx, "99999999-0000-4000-8000-000000000099")
	if m != nil || err != nil || len(fb.calls) != 0 {
		t.Errorf("invisible base: %v %v, calls %v", m, err, fb.calls)
	}
	_, err = l.BaseMetadata(ctx, uuids[1])
	if apperr.CodeOf(err) != apperr.Internal || strings.Contains(err.Error(), "tok-secret-123") {
		t.Errorf("panic: %v", err)
	}
	// Loaders for another caller (a WebSocket's) keep reading bases, with
	// that caller's token.
	l2 := l.WithCaller(caller("tok2"))
	if _, err := l2.BaseMetadata(ctx, uuids[0]); err != nil || !fb.tokens["tok2"] {
		t.Errorf("WithCaller: %v, tokens %v", err, fb.tokens)
	}
}

package live

import (
	"sync"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// One render per key however many ask at once: followers wait for the
// leader's bytes and get the same slice.
func TestRenderOncePerKey(t *testing.T) {
	h := New(newFetcher(), Options{Interval: time.Hour})
	t.Cleanup(h.Close)
	list := &upstream.WorkspaceList{}
	key := RenderKey{List: list, Stream: "doc"}
	entered, release := make(chan struct{}), make(chan struct{})
	var leader []byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		leader, _ = h.Render(t.Context(), "tok", key, func() ([]byte, bool) {
			close(entered)
			<-release
			return []byte(`{"x":1}`), true
		})
	}()
	<-entered // the entry exists: everyone after this joins it
	const n = 50
	got := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got[i], _ = h.Render(t.Context(), "tok", key, func() ([]byte, bool) {
				t.Error("a follower rendered")
				return nil, false
			})
		})
	}
	close(release)
	wg.Wait()
	<-done
	for i := range n {
		if &got[i][0] != &leader[0] {
			t.Fatalf("follower %d got its own copy", i)
		}
	}
	if r := h.Renders(); r != 1 {
		t.Fatalf("%d renders, want 1", r)
	}
}

// The token is part of the key: the same answer, document and variables
// under two tokens are two renders.
func TestRenderNeverSharedAcrossTokens(t *testing.T) {
	h := New(newFetcher(), Options{Interval: time.Hour})
	t.Cleanup(h.Close)
	key := RenderKey{List: &upstream.WorkspaceList{}, Stream: "doc"}
	for _, tok := range []string{"a", "b", "a", "b"} {
		b, ok := h.Render(t.Context(), tok, key, func() ([]byte, bool) { return []byte(tok), true })
		if !ok || string(b) != tok {
			t.Fatalf("token %s got %q", tok, b)
		}
	}
	if r := h.Renders(); r != 2 {
		t.Fatalf("%d renders, want 2", r)
	}
}

// A new answer replaces the renders of older ones for the same stream, a
// failed render is not kept, and a token's renders go with its poller.
func TestRenderKeepsOnlyWhatIsNeeded(t *testing.T) {
	h := New(newFetcher(), Options{Interval: time.Hour})
	t.Cleanup(h.Close)
	l1, l2 := &upstream.WorkspaceList{}, &upstream.WorkspaceList{}
	ok := func() ([]byte, bool) { return make([]byte, 1000), true }
	h.Render(t.Context(), "tok", RenderKey{List: l1, Stream: "d"}, ok)
	h.Render(t.Context(), "tok", RenderKey{List: l1, Stream: "e"}, ok)
	h.Render(t.Context(), "tok", RenderKey{List: l2, Stream: "d"}, ok)
	if n, b := len(h.renders.entries), h.renders.bytes; n != 2 || b != 2000 {
		t.Fatalf("%d entries, %d bytes; want 2, 2000 (d's older answer dropped)", n, b)
	}
	h.Render(t.Context(), "tok", RenderKey{List: l2, Stream: "f"}, func() ([]byte, bool) { return nil, false })
	if n := len(h.renders.entries); n != 2 {
		t.Fatalf("a failed render was kept: %d entries", n)
	}
	s := h.Subscribe("tok")
	s.Close() // the token's last subscription: its poller and renders go
	if n, b := len(h.renders.entries), h.renders.bytes; n != 0 || b != 0 {
		t.Fatalf("%d entries, %d bytes left after the poller stopped", n, b)
	}
}

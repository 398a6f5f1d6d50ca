package app

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A goroutine that writes to a stream after its handler returned (gqlgen's
// SSE keep-alive does) is refused instead of reaching a response whose
// buffers net/http has recycled: without the guard this Write and Flush
// dereference a nil writer and the process exits (issue 18.1).
func TestStreamWriterRefusesWritesAfterHandlerReturned(t *testing.T) {
	late := make(chan error, 1)
	finished := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		sw := newStreamWriter(w, time.Second, func() {})
		defer sw.close()
		_, _ = sw.Write([]byte(":\n\n"))
		sw.Flush()
		go func() {
			<-finished // the response is over: net/http has recycled it
			_, err := sw.Write([]byte(": ping\n\n"))
			sw.Flush()
			late <- err
		}()
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	close(finished)
	if err := <-late; !errors.Is(err, errStreamEnded) {
		t.Fatalf("late write: %v, want errStreamEnded", err)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "private, no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
}

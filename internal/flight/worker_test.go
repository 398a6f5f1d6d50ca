package flight

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// goroutineID is the running goroutine's number, from its stack's header
// ("goroutine 7 [running]:"): test-only, to tell goroutines apart.
func goroutineID() int {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	n, _ := strconv.Atoi(string(b[:bytes.IndexByte(b, ' ')]))
	return n
}

// Calls one after another run on the goroutine that ran the one before:
// a new goroutine per call grew its stack anew each time, which cost about
// a twentieth of the server's CPU with many users.
func TestCallsReuseAWaitingGoroutine(t *testing.T) {
	var g Group[int]
	seen := map[int]bool{}
	for i := range 200 {
		v, err, _ := g.Do(context.Background(), strconv.Itoa(i), func(context.Context) (int, error) {
			return goroutineID(), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		seen[v] = true
	}
	// The worker may not be back waiting by the time the next call starts:
	// then that call gets a goroutine of its own, which is kept in turn.
	if len(seen) > 20 {
		t.Fatalf("200 calls in a row ran on %d goroutines", len(seen))
	}
}

// A goroutine that ran a call ends once no call has come for workerIdle:
// an idle server keeps none.
func TestWaitingGoroutinesEnd(t *testing.T) {
	before := runtime.NumGoroutine()
	var g Group[int]
	for i := range 8 {
		if _, err, _ := g.Do(context.Background(), strconv.Itoa(i), func(context.Context) (int, error) { return i, nil }); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(workerIdle + 3*time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines %v after the last call, %d before", runtime.NumGoroutine(), workerIdle+3*time.Second, before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A goroutine waiting for the next call keeps nothing of the last one: its
// result (a whole workspace list, say) is garbage once its callers are
// done with it, not a second later.
func TestAWaitingGoroutineKeepsNoResult(t *testing.T) {
	var g Group[*[1 << 16]byte]
	collected := make(chan struct{})
	v, err, _ := g.Do(context.Background(), "k", func(context.Context) (*[1 << 16]byte, error) {
		p := new([1 << 16]byte)
		runtime.AddCleanup(p, func(ch chan struct{}) { close(ch) }, collected)
		return p, nil
	})
	if err != nil || v == nil {
		t.Fatalf("%v %v", v, err)
	}
	v = nil
	_ = v
	deadline := time.Now().Add(workerIdle / 2)
	for {
		runtime.GC()
		select {
		case <-collected:
			return
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the result was still reachable %v after the call", workerIdle/2)
		}
	}
}

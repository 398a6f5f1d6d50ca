package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestStreamsMeasureSharedEventsMemory measures the heap held by 200
// reading subscriptions of one token and one document on a large account
// (100 workspaces × 50 bases, 2 aliases: ~1 MB events) once each has its
// first event: FAST_PATH=false (each subscription renders and keeps its own
// copy, as before issue 18.3) and on (one shared rendering). Run with
//
//	STREAMS_MEASURE=1 go test -run TestStreamsMeasureSharedEventsMemory -v ./app
func TestStreamsMeasureSharedEventsMemory(t *testing.T) {
	if os.Getenv("STREAMS_MEASURE") == "" {
		t.Skip("a measurement: STREAMS_MEASURE=1")
	}
	const n = 200
	for _, fast := range []string{"false", "true"} {
		fake := fakeseatable.New()
		fake.SetToken(liveToken, fakeseatable.Generate(100, 50))
		e := newTestEnv(t, withFake(fake), withEnv("FAST_PATH", fast, "LIVE_POLL_INTERVAL", "1h",
			"LIVE_MAX_PER_CLIENT", "1000", "LIVE_MAX_CONNECTIONS", "1000"), func(o *envOptions) { o.quiet = true })
		heap := func() float64 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return float64(m.HeapInuse) / (1 << 20)
		}
		base := heap()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}}
		body, _ := json.Marshal(map[string]any{"query": bigSubscription(2)})
		got := make(chan int, n)
		var bodies []io.Closer
		start := time.Now()
		for range n {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "text/event-stream")
			req.Header.Set("Authorization", "Token "+liveToken)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, resp.Body)
			go func() {
				// The first event, then keep reading what comes (pings).
				r := bufio.NewReaderSize(resp.Body, 1<<16)
				size := 0
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						got <- -1
						return
					}
					size += len(line)
					if strings.HasPrefix(line, "data: ") {
						break
					}
				}
				got <- size
				_, _ = io.Copy(io.Discard, r)
			}()
		}
		size := 0
		for range n {
			if s := <-got; s < 0 {
				t.Fatal("a stream ended before its first event")
			} else {
				size = s
			}
		}
		elapsed := time.Since(start)
		held := heap()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		t.Logf("FAST_PATH=%s: %d subscriptions of one token, %.1f MB events: heap %.0f MB -> %.0f MB with every first event delivered; %.0f MB allocated, %v, shared renders %d",
			fast, n, float64(size)/(1<<20), base, held, float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), elapsed.Round(10*time.Millisecond), e.live.hub.Renders())
		for _, b := range bodies {
			_ = b.Close()
		}
		e.close()
	}
}

package app

import (
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// TestStreamsMeasureStalledMemory measures the heap held by subscriptions
// of one token that never read (issue 18.3): with LIVE_WRITE_TIMEOUT=1h
// (as before: no deadline) and at 500ms. Run with
//
//	STREAMS_MEASURE=1 go test -run TestStreamsMeasureStalledMemory -v ./app
func TestStreamsMeasureStalledMemory(t *testing.T) {
	if os.Getenv("STREAMS_MEASURE") == "" {
		t.Skip("a measurement: STREAMS_MEASURE=1")
	}
	const n = 10
	var dropAfter time.Duration
	for _, timeout := range []string{"500ms", "1h"} {
		fake := fakeseatable.New()
		fake.SetToken(liveToken, fakeseatable.Generate(100, 50))
		e := newTestEnv(t, withFake(fake), withEnv("LIVE_WRITE_TIMEOUT", timeout, "LIVE_POLL_INTERVAL", "1h"),
			func(o *envOptions) { o.quiet = true })
		heap := func() float64 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			return float64(m.HeapInuse) / (1 << 20)
		}
		base := heap()
		var conns []*net.TCPConn
		for range n {
			c, err := stalledSSE(strings.TrimPrefix(e.url, "http://"), liveToken, bigSubscription(10))
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		start := time.Now()
		if timeout == "500ms" {
			for e.live.hub.Pollers() == 0 || e.live.hub.Pollers() != 0 && time.Since(start) < time.Minute {
				if time.Since(start) > time.Second && e.live.hub.Pollers() == 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			dropAfter = time.Since(start)
		} else {
			time.Sleep(dropAfter + 2*time.Second)
		}
		held := heap()
		t.Logf("LIVE_WRITE_TIMEOUT=%s: %d never-reading subscriptions of one token (~5.6 MB events): heap %.0f MB -> %.0f MB after %v, subscriptions open: %v",
			timeout, n, base, held, time.Since(start).Round(100*time.Millisecond), e.live.hub.Pollers() > 0)
		for _, c := range conns {
			reset(c)
		}
		e.close()
	}
}

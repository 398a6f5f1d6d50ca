package app

import (
	"context"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// Subscribers that never read are dropped on every transport (issue
// 18.8): SSE, graphql-ws (legacy) and graphql-transport-ws. Each client
// has a tiny receive buffer and reads nothing after subscribing; one event
// (~5.6 MB) is more than the socket buffers hold, so the server's write
// blocks until LIVE_WRITE_TIMEOUT (here 500ms) drops the stream. Before
// there was no write deadline: these streams were held for ever.

func stallEnv(t *testing.T) *testEnv {
	t.Helper()
	if testing.Short() || raceEnabled {
		// Rendering one ~5.6 MB event takes seconds, twenty times that
		// under the race detector; TestStreamWriterRefusesWritesAfterHandlerReturned
		// and the slot tests cover the concurrent paths there.
		t.Skip("renders events of megabytes")
	}
	fake := fakeseatable.New()
	fake.SetToken(liveToken, fakeseatable.Generate(100, 50))
	return newTestEnv(t, withFake(fake), withEnv("LIVE_WRITE_TIMEOUT", "500ms", "LIVE_POLL_INTERVAL", "1h"))
}

// smallReceiveBuffer keeps the kernel from buffering megabytes for a
// client that does not read.
func smallReceiveBuffer(_, _ string, rc syscall.RawConn) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	}); err != nil {
		return err
	}
	return serr
}

// waitDropped waits until the token has no subscription left and returns
// how long that took.
func waitDropped(t *testing.T, e *testEnv, start time.Time) time.Duration {
	t.Helper()
	deadline := start.Add(10 * time.Second)
	for e.live.hub.Pollers() == 0 { // subscribed
		if time.Now().After(deadline) {
			t.Fatal("the subscription did not start")
		}
		time.Sleep(time.Millisecond)
	}
	for e.live.hub.Pollers() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a subscriber that reads nothing was not dropped within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func TestStreamsNeverReadingSSEIsDropped(t *testing.T) {
	e := stallEnv(t)
	start := time.Now()
	c, err := stalledSSE(strings.TrimPrefix(e.url, "http://"), liveToken, bigSubscription(10))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("dropped after %v", waitDropped(t, e, start))
	if !strings.Contains(e.logs.String(), `"stalled":true`) {
		t.Error("the close line does not say the stream stalled")
	}
}

func TestStreamsNeverReadingWebSocketIsDropped(t *testing.T) {
	for _, proto := range []string{"graphql-ws", "graphql-transport-ws"} {
		t.Run(proto, func(t *testing.T) {
			e := stallEnv(t)
			d := &net.Dialer{Control: smallReceiveBuffer}
			hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
			ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
			defer cancel()
			conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/graphql",
				&websocket.DialOptions{Subprotocols: []string{proto}, HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.CloseNow()
			_ = wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Token " + liveToken}})
			var ack wsMessage
			if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
				t.Fatalf("ack: %+v %v", ack, err)
			}
			start, typ := time.Now(), "subscribe"
			if proto == "graphql-ws" {
				typ = "start"
			}
			_ = wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": typ, "payload": map[string]any{"query": bigSubscription(10)}})
			// Read nothing more.
			t.Logf("dropped after %v", waitDropped(t, e, start))
		})
	}
}

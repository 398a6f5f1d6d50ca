package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// Subscription slots are shared between clients (issue 18.6). Before: one
// token could hold every LIVE_MAX_CONNECTIONS slot, and upgrades that never
// authenticated gave everyone else 503.

// sseStatus opens an SSE subscription and returns its status and body
// (read only when it is not a stream).
func sseStatus(t *testing.T, e *testEnv, token string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	body, _ := json.Marshal(map[string]any{"query": wsQuery})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, ""
	}
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func TestStreamsSlotsPerClient(t *testing.T) {
	e, _ := newLiveEnv(t, withEnv("LIVE_MAX_PER_CLIENT", "2", "LIVE_MAX_CONNECTIONS", "10"))
	e.fake.SetToken(otherToken, fakeseatable.Fixture(fakeseatable.Demo))
	for i := range 2 {
		if code, body := sseStatus(t, e, liveToken); code != 200 {
			t.Fatalf("stream %d: %d %s", i+1, code, body)
		}
	}
	if code, body := sseStatus(t, e, liveToken); code != 503 || !strings.Contains(body, "for this client (limit 2)") {
		t.Fatalf("third stream of one token: %d %s", code, body)
	}
	if code, body := sseStatus(t, e, otherToken); code != 200 {
		t.Fatalf("another token: %d %s", code, body)
	}
	// A WebSocket that authenticates as the full token is refused then.
	_, m, err := connectWS(t, e, nil, map[string]any{"Authorization": "Token " + liveToken})
	if code := websocket.CloseStatus(err); code != 4429 {
		t.Fatalf("WebSocket of the full token: %+v, close code %d (%v), want 4429", m, code, err)
	}
}

func TestStreamsUnauthenticatedUpgradesGiveWay(t *testing.T) {
	e, _ := newLiveEnv(t, withEnv("LIVE_MAX_CONNECTIONS", "3"))
	var idle []*websocket.Conn
	for range 3 { // upgrades that never send connection_init
		conn, _, err := dialWS(t, e, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.CloseNow() })
		idle = append(idle, conn)
	}
	if _, resp, err := dialWS(t, e, nil); err == nil || resp.StatusCode != 503 {
		t.Fatalf("a fourth unauthenticated upgrade: %v", err)
	}
	// An authenticated stream takes the oldest idle upgrade's slot.
	if code, body := sseStatus(t, e, liveToken); code != 200 {
		t.Fatalf("authenticated stream with the slots full of idle upgrades: %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, _, err := idle[0].Read(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("the oldest idle upgrade is still open: %v", err)
	}
	// Authenticated WebSockets are not evicted: once the idle upgrades
	// are gone, the slots are full.
	withToken := http.Header{"Authorization": {"Token " + liveToken}}
	for range 2 {
		if _, m, err := connectWS(t, e, withToken, nil); err != nil || m.Type != "connection_ack" {
			t.Fatalf("authenticated WebSocket: %+v %v", m, err)
		}
	}
	if code, _ := sseStatus(t, e, liveToken); code != 503 {
		t.Fatalf("all slots authenticated: %d", code)
	}
}

func TestLoadStreamLimitsConfig(t *testing.T) {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil || c.LiveMaxPerClient != 100 || c.LiveWriteTimeout != 30*time.Second {
		t.Fatalf("defaults: %v %d %v", err, c.LiveMaxPerClient, c.LiveWriteTimeout)
	}
	env := map[string]string{"LIVE_MAX_PER_CLIENT": "0", "LIVE_WRITE_TIMEOUT": "2s"}
	c, err = LoadConfig(func(k string) string { return env[k] })
	if err != nil || c.LiveMaxPerClient != 0 || c.LiveWriteTimeout != 2*time.Second {
		t.Fatalf("set: %v %d %v", err, c.LiveMaxPerClient, c.LiveWriteTimeout)
	}
	for _, bad := range []map[string]string{{"LIVE_MAX_PER_CLIENT": "-1"}, {"LIVE_WRITE_TIMEOUT": "10ms"}, {"LIVE_WRITE_TIMEOUT": "30"}} {
		if _, err := LoadConfig(func(k string) string { return bad[k] }); err == nil || !strings.Contains(err.Error(), "LIVE_") {
			t.Errorf("%v: err %v", bad, err)
		}
	}
}

package app

import (
	"net/http"
	"testing"
	"time"
)

// A token SeaTable starts rejecting ends its streams (issue 18.9): one
// event with UNAUTHENTICATED, then the stream completes, and SeaTable is
// not polled with that token again. Before: the stream stayed open with
// pings, and the poller went on polling, backing off up to 5 minutes.
func TestStreamsRevokedTokenEndsStreams(t *testing.T) {
	e, clock := newLiveEnv(t, withEnv("UPSTREAM_RETRIES", "0", "BREAKER_FAILURES", "0"))
	s := openSSE(t, e, liveToken, wsQuery)
	c := openWS(t, e, liveToken)
	c.subscribe("1", wsQuery)
	decodeWorkspaces(t, s.next().payload(t))
	decodeWorkspaces(t, c.nextData("1"))
	clock.polled(t)

	e.fake.FailWith(http.StatusUnauthorized, nil, `{"detail":"Invalid token"}`)
	calls := e.fake.Calls()
	clock.tick <- time.Now()

	p := s.next().payload(t)
	if len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
		t.Fatalf("sse: %s %+v", p.Data, p.Errors)
	}
	if ev := s.next(); ev.event != "complete" {
		t.Fatalf("sse after the error: %+v", ev)
	}
	if _, err := s.read(); err == nil {
		t.Fatal("sse: the response goes on after complete")
	}
	p = c.nextData("1")
	if len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
		t.Fatalf("websocket: %s %+v", p.Data, p.Errors)
	}
	if m := c.nextFor("1"); m.Type != "complete" {
		t.Fatalf("websocket after the error: %+v", m)
	}
	eventually(t, "the poller stops", func() bool { return e.live.hub.Pollers() == 0 })
	select {
	case d := <-clock.waits:
		t.Fatalf("the poller waits to poll the revoked token again (%v)", d)
	case <-time.After(100 * time.Millisecond):
	}
	if n := e.fake.Calls() - calls; n != 1 {
		t.Fatalf("%d SeaTable calls after the revocation, want 1", n)
	}
}

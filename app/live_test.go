package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/seatable-graphql/seatable-graphql/graph/live"
	"github.com/seatable-graphql/seatable-graphql/internal/redistest"
	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// Subscriptions end to end: real WebSocket (graphql-transport-ws) and SSE
// clients against the handler, the fake SeaTable behind it, and a manual
// clock for the pollers so that every poll is one the test asked for.

const (
	liveToken  = "live-0123456789abcdef"
	otherToken = "live-fedcba9876543210"
)

// manualClock drives the pollers: a poller that finished a poll asks for
// its next wait (waits: the test knows the poll is done) and polls again
// when the test ticks.
type manualClock struct {
	waits chan time.Duration
	tick  chan time.Time
}

func newManualClock() *manualClock {
	return &manualClock{waits: make(chan time.Duration, 64), tick: make(chan time.Time)}
}

func (c *manualClock) After(d time.Duration) <-chan time.Time { c.waits <- d; return c.tick }

// polled waits until a poller has finished a poll.
func (c *manualClock) polled(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.waits:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no poll finished")
		return 0
	}
}

// step lets one waiting poller poll once and waits until it has.
func (c *manualClock) step(t *testing.T) {
	t.Helper()
	select {
	case c.tick <- time.Now():
	case <-time.After(10 * time.Second):
		t.Fatal("no poller waiting")
	}
	c.polled(t)
}

func newLiveEnv(t *testing.T, opts ...func(*envOptions)) (*testEnv, *manualClock) {
	c := newManualClock()
	e := newTestEnv(t, append(opts, func(o *envOptions) { o.seams.liveClock = c.After })...)
	e.fake.SetToken(liveToken, fakeseatable.Fixture(fakeseatable.Demo))
	return e, c
}

// wsClient speaks graphql-transport-ws.
type wsClient struct {
	t       *testing.T
	conn    *websocket.Conn
	pending []wsMessage // read while looking for another subscription's
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dialWS(t *testing.T, e *testEnv, header http.Header) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header})
}

// connectWS opens a connection and sends connection_init with payload; it
// returns the client and the first message the server answered with.
func connectWS(t *testing.T, e *testEnv, header http.Header, payload map[string]any) (*wsClient, wsMessage, error) {
	t.Helper()
	conn, _, err := dialWS(t, e, header)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	c := &wsClient{t: t, conn: conn}
	c.send(map[string]any{"type": "connection_init", "payload": payload})
	m, err := c.read()
	return c, m, err
}

func openWS(t *testing.T, e *testEnv, token string) *wsClient {
	t.Helper()
	c, m, err := connectWS(t, e, nil, map[string]any{"Authorization": "Token " + token})
	if err != nil || m.Type != "connection_ack" {
		t.Fatalf("want connection_ack, got %+v %v", m, err)
	}
	return c
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.conn, v); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next message other than ping/pong/keep-alive.
func (c *wsClient) read() (wsMessage, error) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var m wsMessage
		err := wsjson.Read(ctx, c.conn, &m)
		cancel()
		if err != nil {
			return m, err
		}
		switch m.Type {
		case "ping":
			c.send(map[string]any{"type": "pong"})
		case "pong", "ka":
		default:
			return m, nil
		}
	}
}

func (c *wsClient) next() wsMessage {
	c.t.Helper()
	m, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// closeStatus reads until the server closes the connection and returns the
// close code; a subscription may be completed first, but no data may come.
func (c *wsClient) closeStatus() websocket.StatusCode {
	c.t.Helper()
	for {
		m, err := c.read()
		if err != nil {
			return websocket.CloseStatus(err)
		}
		if m.Type != "complete" {
			c.t.Fatalf("%s before the close: %s", m.Type, m.Payload)
		}
	}
}

func (c *wsClient) subscribe(id, query string) {
	c.t.Helper()
	c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query}})
}

// gqlPayload is a next message's payload.
type gqlPayload struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// nextFor returns the next message for subscription id, keeping messages
// of other subscriptions on the connection for later.
func (c *wsClient) nextFor(id string) wsMessage {
	c.t.Helper()
	for i, m := range c.pending {
		if m.ID == id {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return m
		}
	}
	for {
		m := c.next()
		if m.ID == id {
			return m
		}
		c.pending = append(c.pending, m)
	}
}

// nextData reads the next "next" message for id and decodes its payload.
func (c *wsClient) nextData(id string) gqlPayload {
	c.t.Helper()
	m := c.nextFor(id)
	if m.Type != "next" || m.ID != id {
		c.t.Fatalf("want next for %s, got %s %s %s", id, m.Type, m.ID, m.Payload)
	}
	var p gqlPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		c.t.Fatal(err)
	}
	return p
}

const wsQuery = `subscription W { workspacesChanged { workspaces { id: seatableId name tables { uuid name starred workspace { id: seatableId } } } } }`

type workspacesEvent struct {
	WorkspacesChanged struct {
		Workspaces []struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Tables []struct {
				UUID      string `json:"uuid"`
				Name      string `json:"name"`
				Starred   bool   `json:"starred"`
				Workspace struct {
					ID string `json:"id"`
				} `json:"workspace"`
			} `json:"tables"`
		} `json:"workspaces"`
	} `json:"workspacesChanged"`
}

func decodeWorkspaces(t *testing.T, p gqlPayload) workspacesEvent {
	t.Helper()
	if len(p.Errors) > 0 {
		t.Fatalf("errors: %+v", p.Errors)
	}
	var ev workspacesEvent
	if err := json.Unmarshal(p.Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.WorkspacesChanged.Workspaces == nil {
		t.Fatalf("no workspaces in %s", p.Data)
	}
	return ev
}

// baseNames lists "uuid=name" of every base in the event.
func (ev workspacesEvent) baseNames() map[string]string {
	out := map[string]string{}
	for _, ws := range ev.WorkspacesChanged.Workspaces {
		for _, d := range ws.Tables {
			out[d.UUID] = d.Name
		}
	}
	return out
}

// firstOwnBase is a base of a numbered workspace (not starred/shared).
func (ev workspacesEvent) firstOwnBase(t *testing.T) (uuid, name, wsID string) {
	for _, ws := range ev.WorkspacesChanged.Workspaces {
		if ws.ID != "starred" && ws.ID != "shared" && len(ws.Tables) > 0 {
			return ws.Tables[0].UUID, ws.Tables[0].Name, ws.ID
		}
	}
	t.Fatal("no base in a numbered workspace")
	return "", "", ""
}

func postGraphQL(t *testing.T, e *testEnv, token, query string) gqlPayload {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p gqlPayload
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if len(p.Errors) > 0 {
		t.Fatalf("%s: %+v", query, p.Errors)
	}
	return p
}

func TestLiveWebSocketFirstValueChangesAndUnsubscribe(t *testing.T) {
	e, clock := newLiveEnv(t)
	c := openWS(t, e, liveToken)
	c.subscribe("1", wsQuery)
	first := decodeWorkspaces(t, c.nextData("1"))
	clock.polled(t)
	uuid, name, wsID := first.firstOwnBase(t)
	for _, ws := range first.WorkspacesChanged.Workspaces {
		for _, d := range ws.Tables {
			if ws.ID != "starred" && ws.ID != "shared" && d.Workspace.ID != ws.ID {
				t.Fatalf("nested field resolved against another list: base %s in %s says workspace %s", d.UUID, ws.ID, d.Workspace.ID)
			}
		}
	}

	// A rename through this server is pushed without waiting for a tick.
	postGraphQL(t, e, liveToken, fmt.Sprintf(`mutation { updateDTable(input: {uuid: %q, newName: "Renamed here"}) { dtable { name } } }`, uuid))
	clock.polled(t)
	if got := decodeWorkspaces(t, c.nextData("1")).baseNames()[uuid]; got != "Renamed here" {
		t.Fatalf("after the mutation the base is %q", got)
	}

	// A change made elsewhere (straight at SeaTable) shows at the next poll.
	up, err := upstream.New(e.upstream.URL + "/seatable")
	if err != nil {
		t.Fatal(err)
	}
	newName := "Renamed elsewhere"
	if _, err := up.UpdateDTable(t.Context(), liveToken, wsID, "Renamed here", upstream.UpdateDTable{NewName: &newName}); err != nil {
		t.Fatal(err)
	}
	clock.step(t)
	if got := decodeWorkspaces(t, c.nextData("1")).baseNames()[uuid]; got != newName {
		t.Fatalf("after the upstream rename the base is %q (was %q)", got, name)
	}

	// Nothing changed: a poll pushes nothing (the next message is the
	// complete we ask for below, not a next).
	clock.step(t)
	c.send(map[string]any{"id": "1", "type": "complete"})
	c.subscribe("2", `subscription { dtableChanged(uuid: "`+uuid+`") { uuid dtable { name } } }`)
	// gqlgen confirms the complete of 1; nothing else may come for it.
	if m := c.nextFor("1"); m.Type != "complete" {
		t.Fatalf("subscription 1: want complete after an unchanged poll, got %s %s", m.Type, m.Payload)
	}
	m := c.nextFor("2")
	if m.Type != "next" {
		t.Fatalf("after an unchanged poll and complete, want the next of subscription 2, got %s %s %s", m.Type, m.ID, m.Payload)
	}
	if !strings.Contains(string(m.Payload), newName) {
		t.Fatalf("dtableChanged: %s", m.Payload)
	}
	if err := c.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the poller stops when its last subscriber leaves", func() bool { return e.live.hub.Pollers() == 0 })
}

func TestLiveDTablesChangedReportsAddedUpdatedRemoved(t *testing.T) {
	e, clock := newLiveEnv(t)
	c := openWS(t, e, liveToken)
	c.subscribe("d", `subscription { dtablesChanged(filter: {nameContains: "zz"}) { initial changes { added { uuid name } updated { uuid name starred } removed } } }`)
	type changes struct {
		DtablesChanged struct {
			Initial bool `json:"initial"`
			Changes struct {
				Added   []struct{ UUID, Name string } `json:"added"`
				Updated []struct {
					UUID, Name string
					Starred    bool
				} `json:"updated"`
				Removed []string `json:"removed"`
			} `json:"changes"`
		} `json:"dtablesChanged"`
	}
	read := func() changes {
		t.Helper()
		p := c.nextData("d")
		if len(p.Errors) > 0 {
			t.Fatalf("errors: %+v", p.Errors)
		}
		var ch changes
		if err := json.Unmarshal(p.Data, &ch); err != nil {
			t.Fatal(err)
		}
		return ch
	}
	first := read()
	clock.polled(t)
	if !first.DtablesChanged.Initial || len(first.DtablesChanged.Changes.Added) != 0 {
		t.Fatalf("first event: %+v", first)
	}
	created := postGraphQL(t, e, liveToken, `mutation { createDTable(input: {name: "zz new"}) { dtable { uuid } } }`)
	clock.polled(t)
	var cr struct {
		CreateDTable struct{ Dtable struct{ UUID string } } `json:"createDTable"`
	}
	_ = json.Unmarshal(created.Data, &cr)
	uuid := cr.CreateDTable.Dtable.UUID
	if ev := read(); ev.DtablesChanged.Initial || len(ev.DtablesChanged.Changes.Added) != 1 || ev.DtablesChanged.Changes.Added[0].UUID != uuid {
		t.Fatalf("create: %+v", ev)
	}
	postGraphQL(t, e, liveToken, fmt.Sprintf(`mutation { starDTable(input: {uuid: %q}) { dtable { uuid } } }`, uuid))
	clock.polled(t)
	if ev := read(); len(ev.DtablesChanged.Changes.Updated) != 1 || !ev.DtablesChanged.Changes.Updated[0].Starred {
		t.Fatalf("star: %+v", ev)
	}
	postGraphQL(t, e, liveToken, fmt.Sprintf(`mutation { deleteDTable(input: {uuid: %q}) { uuid } }`, uuid))
	clock.polled(t)
	if ev := read(); len(ev.DtablesChanged.Changes.Removed) != 1 || ev.DtablesChanged.Changes.Removed[0] != uuid {
		t.Fatalf("delete: %+v", ev)
	}
}

func TestLiveTenSubscriptionsThreeConnectionsOnePollPerInterval(t *testing.T) {
	e, clock := newLiveEnv(t)
	conns := []*wsClient{openWS(t, e, liveToken), openWS(t, e, liveToken), openWS(t, e, liveToken)}
	type sub struct {
		c  *wsClient
		id string
	}
	var subs []sub
	for i := range 10 {
		s := sub{conns[i%3], fmt.Sprint(i)}
		s.c.subscribe(s.id, wsQuery)
		subs = append(subs, s)
	}
	var uuid, name, wsID string
	for _, s := range subs {
		uuid, name, wsID = decodeWorkspaces(t, s.c.nextData(s.id)).firstOwnBase(t)
	}
	clock.polled(t)
	if n := e.live.hub.Pollers(); n != 1 {
		t.Fatalf("%d pollers for one token", n)
	}
	up, err := upstream.New(e.upstream.URL + "/seatable")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		newName := fmt.Sprintf("interval %d", i)
		if _, err := up.UpdateDTable(t.Context(), liveToken, wsID, name, upstream.UpdateDTable{NewName: &newName}); err != nil {
			t.Fatal(err)
		}
		name = newName
		e.fake.ResetCounts() // count only what the interval's poll costs
		clock.step(t)
		for _, s := range subs {
			if got := decodeWorkspaces(t, s.c.nextData(s.id)).baseNames()[uuid]; got != name {
				t.Fatalf("subscription %s: %q, want %q", s.id, got, name)
			}
		}
		if n := e.fake.Calls(); n != 1 {
			t.Fatalf("interval %d: %d upstream calls for 10 subscriptions of one token, want 1", i, n)
		}
	}
}

func TestLiveTokensNeverSeeEachOthersData(t *testing.T) {
	e, clock := newLiveEnv(t)
	e.fake.SetToken(otherToken, fakeseatable.Generate(2, 3))
	a, b := openWS(t, e, liveToken), openWS(t, e, otherToken)
	a.subscribe("a", wsQuery)
	b.subscribe("b", wsQuery)
	evA, evB := decodeWorkspaces(t, a.nextData("a")), decodeWorkspaces(t, b.nextData("b"))
	clock.polled(t)
	clock.polled(t)
	if e.live.hub.Pollers() != 2 {
		t.Fatalf("%d pollers for two tokens", e.live.hub.Pollers())
	}
	na, nb := evA.baseNames(), evB.baseNames()
	if len(na) == 0 || len(nb) == 0 {
		t.Fatal("empty lists")
	}
	for u := range na {
		if _, ok := nb[u]; ok {
			t.Fatalf("base %s reached both tokens", u)
		}
	}
	// Each token's subscription shows what its own query shows.
	for token, ev := range map[string]workspacesEvent{liveToken: evA, otherToken: evB} {
		p := postGraphQL(t, e, token, `{ workspaces { id: seatableId name } }`)
		var q struct{ Workspaces []struct{ ID, Name string } }
		if err := json.Unmarshal(p.Data, &q); err != nil {
			t.Fatal(err)
		}
		if len(q.Workspaces) != len(ev.WorkspacesChanged.Workspaces) {
			t.Fatalf("query sees %d workspaces, subscription %d", len(q.Workspaces), len(ev.WorkspacesChanged.Workspaces))
		}
		for i, ws := range q.Workspaces {
			if got := ev.WorkspacesChanged.Workspaces[i]; got.ID != ws.ID || got.Name != ws.Name {
				t.Fatalf("workspace %d: query %+v, subscription %s %s", i, ws, got.ID, got.Name)
			}
		}
	}
}

func TestLiveRefusesMissingAndBadTokensBeforeAnyPoll(t *testing.T) {
	e, _ := newLiveEnv(t)
	for _, tc := range []struct {
		name    string
		header  http.Header
		payload map[string]any
		reaches bool // the one check read reaches SeaTable
	}{
		{"missing", nil, map[string]any{}, false},
		{"malformed", nil, map[string]any{"Authorization": "Token a b"}, false},
		{"rejected by SeaTable", nil, map[string]any{"token": "not-a-valid-token"}, true},
		{"rejected, from the upgrade header", http.Header{"Authorization": {"Token not-a-valid-token"}}, map[string]any{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.fake.ResetCounts()
			_, m, err := connectWS(t, e, tc.header, tc.payload)
			if m.Type == "connection_ack" {
				t.Fatalf("connection accepted")
			}
			if s := websocket.CloseStatus(err); s != 4403 {
				t.Fatalf("close status %d (%v), want 4403", s, err)
			}
			if n := e.fake.Calls(); (n > 0) != tc.reaches || n > 1 {
				t.Fatalf("%d upstream calls", n)
			}
			if e.live.hub.Pollers() != 0 {
				t.Fatal("a poller started")
			}
		})
	}
	t.Run("accepted from the upgrade header", func(t *testing.T) {
		_, m, err := connectWS(t, e, http.Header{"Authorization": {"Token " + liveToken}}, nil)
		if err != nil || m.Type != "connection_ack" {
			t.Fatalf("got %+v", m)
		}
	})
	t.Run("SSE without a token", func(t *testing.T) {
		s := openSSE(t, e, "", `subscription { workspacesChanged { workspaces { id: seatableId } } }`)
		ev := s.next()
		if ev.event != "next" || !strings.Contains(ev.data, "UNAUTHENTICATED") {
			t.Fatalf("got %+v", ev)
		}
		if ev := s.next(); ev.event != "complete" {
			t.Fatalf("want complete, got %+v", ev)
		}
	})
}

func TestLiveUpstreamErrorsAreReportedWithoutClosing(t *testing.T) {
	e, clock := newLiveEnv(t, withEnv("UPSTREAM_RETRIES", "0", "BREAKER_FAILURES", "0"))
	c := openWS(t, e, liveToken)
	c.subscribe("1", wsQuery)
	decodeWorkspaces(t, c.nextData("1"))
	clock.polled(t)

	e.fake.FailWith(http.StatusTooManyRequests, http.Header{"Retry-After": {"42"}}, `{"detail":"slow down"}`)
	clock.tick <- time.Now()
	if d := clock.polled(t); d < 41*time.Second || d > 43*time.Second {
		t.Errorf("wait after 429 with Retry-After 42: %v", d)
	}
	p := c.nextData("1")
	if len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "RATE_LIMITED" || !strings.Contains(string(p.Data), `"workspaces":null`) {
		t.Fatalf("429: %s %+v", p.Data, p.Errors)
	}
	e.fake.FailWith(http.StatusBadGateway, nil, "bad gateway")
	clock.step(t)
	p = c.nextData("1")
	if len(p.Errors) != 1 || p.Errors[0].Extensions["code"] == "RATE_LIMITED" || p.Errors[0].Extensions["code"] == "" {
		t.Fatalf("502: %+v", p.Errors)
	}
	if strings.Contains(p.Errors[0].Message, e.upstream.URL) {
		t.Fatalf("error leaks the upstream URL: %s", p.Errors[0].Message)
	}
	e.fake.SetHook(nil)
	clock.step(t)
	decodeWorkspaces(t, c.nextData("1")) // still open, data again
}

func TestLiveLimits(t *testing.T) {
	e, _ := newLiveEnv(t, withEnv("LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION", "2", "LIVE_MAX_CONNECTIONS", "2"))
	c := openWS(t, e, liveToken)
	c.subscribe("1", wsQuery)
	c.nextData("1")
	c.subscribe("2", wsQuery)
	c.nextData("2")
	c.subscribe("3", wsQuery)
	if p := c.nextData("3"); len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "RATE_LIMITED" || !strings.Contains(p.Errors[0].Message, "too many subscriptions") {
		t.Fatalf("third subscription: %+v", p.Errors)
	}
	if m := c.nextFor("3"); m.Type != "complete" {
		t.Fatalf("third subscription not completed: %+v", m)
	}
	c.send(map[string]any{"id": "1", "type": "complete"})
	c.pending = nil
	// The slot is freed when the subscription's goroutine has ended, just
	// after the complete; retry until it is.
	k := 0
	eventually(t, "the completed subscription frees its slot", func() bool {
		k++
		id := fmt.Sprint("4-", k)
		c.subscribe(id, wsQuery)
		p := c.nextData(id)
		return len(p.Errors) == 0
	})

	openWS(t, e, liveToken) // the second connection
	_, resp, err := dialWS(t, e, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third connection: %v %+v", err, resp)
	}
}

func TestLiveShutdownClosesStreams(t *testing.T) {
	e, clock := newLiveEnv(t)
	c := openWS(t, e, liveToken)
	c.subscribe("1", wsQuery)
	c.nextData("1")
	clock.polled(t)
	s := openSSE(t, e, liveToken, wsQuery)
	if ev := s.next(); ev.event != "next" {
		t.Fatalf("sse: %+v", ev)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// Shutdown returns once every stream handler has; a WebSocket close
	// waits for the client's close frame, so the clients read meanwhile.
	done := make(chan struct{})
	go func() { e.live.Shutdown(ctx); close(done) }()
	if s := c.closeStatus(); s != websocket.StatusNormalClosure {
		t.Fatalf("websocket after shutdown: close status %d", s)
	}
	for {
		ev, err := s.read()
		if err != nil {
			break // the response ended
		}
		if ev.event == "next" {
			t.Fatalf("event after shutdown: %+v", ev)
		}
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("Shutdown did not return after the streams ended")
	}
	if e.live.hub.Pollers() != 0 {
		t.Fatal("pollers still running after shutdown")
	}
	if _, resp, err := dialWS(t, e, nil); err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("connection after shutdown: %v", err)
	}
}

func TestLiveSSE(t *testing.T) {
	e, clock := newLiveEnv(t)
	s := openSSE(t, e, liveToken, wsQuery)
	ev := s.next()
	if ev.event != "next" {
		t.Fatalf("first: %+v", ev)
	}
	clock.polled(t)
	first := decodeWorkspaces(t, ev.payload(t))
	uuid, _, _ := first.firstOwnBase(t)
	postGraphQL(t, e, liveToken, fmt.Sprintf(`mutation { updateDTable(input: {uuid: %q, newName: "Over SSE"}) { dtable { name } } }`, uuid))
	clock.polled(t)
	if got := decodeWorkspaces(t, s.next().payload(t)).baseNames()[uuid]; got != "Over SSE" {
		t.Fatalf("after rename: %q", got)
	}
	s.cancel() // unsubscribe: close the request
	eventually(t, "the poller stops after the SSE client leaves", func() bool { return e.live.hub.Pollers() == 0 })
}

// sseClient reads a GraphQL-over-SSE response.
type sseClient struct {
	t      *testing.T
	r      *bufio.Reader
	cancel context.CancelFunc
}

type sseEvent struct{ event, data string }

func (ev sseEvent) payload(t *testing.T) gqlPayload {
	t.Helper()
	var p gqlPayload
	if err := json.Unmarshal([]byte(ev.data), &p); err != nil {
		t.Fatalf("%v: %s", err, ev.data)
	}
	return p
}

func openSSE(t *testing.T, e *testEnv, token, query string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("SSE answer %d %s", resp.StatusCode, ct)
	}
	return &sseClient{t: t, r: bufio.NewReader(resp.Body), cancel: cancel}
}

// read returns the next event, skipping comments (keep-alives).
func (s *sseClient) read() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if ev.event != "" || ev.data != "" {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event: "):
			ev.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data += strings.TrimPrefix(line, "data: ")
		}
	}
}

func (s *sseClient) next() sseEvent {
	s.t.Helper()
	type res struct {
		ev  sseEvent
		err error
	}
	ch := make(chan res, 1)
	go func() { ev, err := s.read(); ch <- res{ev, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			s.t.Fatalf("sse read: %v", r.err)
		}
		return r.ev
	case <-time.After(10 * time.Second):
		s.t.Fatal("no SSE event")
		return sseEvent{}
	}
}

// eventually waits up to 5 s for cond, for effects that happen on another
// goroutine after the last message a client can observe.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLoadLiveConfig(t *testing.T) {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil || c.LivePollInterval != 10*time.Second || c.LiveMaxConns != 1000 || c.LiveMaxSubs != 20 {
		t.Fatalf("defaults: %v %v %d %d", err, c.LivePollInterval, c.LiveMaxConns, c.LiveMaxSubs)
	}
	env := map[string]string{"LIVE_POLL_INTERVAL": "30s", "LIVE_MAX_CONNECTIONS": "0", "LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION": "5"}
	c, err = LoadConfig(func(k string) string { return env[k] })
	if err != nil || c.LivePollInterval != 30*time.Second || c.LiveMaxConns != 0 || c.LiveMaxSubs != 5 {
		t.Fatalf("set: %v %+v", err, c)
	}
	for _, bad := range []map[string]string{{"LIVE_POLL_INTERVAL": "1s"}, {"LIVE_POLL_INTERVAL": "10"}, {"LIVE_MAX_CONNECTIONS": "-1"}} {
		if _, err := LoadConfig(func(k string) string { return bad[k] }); err == nil || !strings.Contains(err.Error(), "LIVE_") {
			t.Errorf("%v: err %v", bad, err)
		}
	}
}

// A stream outlives REQUEST_TIMEOUT and the HTTP server's WRITE_TIMEOUT:
// both bound ordinary requests, not subscriptions.
func TestLiveStreamOutlivesWriteTimeout(t *testing.T) {
	e, clock := newLiveEnv(t, withEnv("REQUEST_TIMEOUT", "100ms", "WRITE_TIMEOUT", "300ms"))
	srv := newHTTPServer(e.cfg, e.handler, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	real := *e
	real.url = "http://" + ln.Addr().String()
	s := openSSE(t, &real, liveToken, wsQuery)
	c := openWS(t, &real, liveToken)
	c.subscribe("1", wsQuery)
	uuid, _, _ := decodeWorkspaces(t, s.next().payload(t)).firstOwnBase(t)
	c.nextData("1")
	clock.polled(t)
	// The timeouts under test are real time: wait past them.
	time.Sleep(600 * time.Millisecond)
	postGraphQL(t, &real, liveToken, fmt.Sprintf(`mutation { updateDTable(input: {uuid: %q, newName: "Late"}) { dtable { name } } }`, uuid))
	clock.polled(t)
	if got := decodeWorkspaces(t, s.next().payload(t)).baseNames()[uuid]; got != "Late" {
		t.Fatalf("sse after the write timeout: %q", got)
	}
	if got := decodeWorkspaces(t, c.nextData("1")).baseNames()[uuid]; got != "Late" {
		t.Fatalf("websocket after the write timeout: %q", got)
	}
}

// metricValue sums a family's samples whose labels include want.
func metricValue(t *testing.T, e *testEnv, name string, want map[string]string) float64 {
	t.Helper()
	fams, _ := e.scrape(t)
	f, ok := fams[name]
	if !ok {
		return 0
	}
	var sum float64
	for _, m := range f.GetMetric() {
		match := true
		for k, v := range want {
			found := false
			for _, l := range m.GetLabel() {
				found = found || (l.GetName() == k && l.GetValue() == v)
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func TestLiveMetricsAndLogs(t *testing.T) {
	e, clock := newLiveEnv(t, withEnv("UPSTREAM_RETRIES", "0", "BREAKER_FAILURES", "0"))
	c := openWS(t, e, liveToken)
	c.subscribe("1", wsQuery)
	c.nextData("1")
	clock.polled(t)
	// The second subscription gets the poller's latest answer, not a push.
	c.subscribe("2", `subscription { dtablesChanged { initial } }`)
	c.nextData("2")
	const ns = "seatable_graphql_"
	for name, want := range map[string]float64{
		"live_connections": 1, "live_subscriptions": 2, "live_pollers": 1, "live_polls_total": 1, "live_pushes_total": 1,
	} {
		if got := metricValue(t, e, ns+name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	e.fake.FailWith(http.StatusTooManyRequests, nil, "")
	clock.step(t)
	c.nextData("1")
	c.nextData("2")
	if got := metricValue(t, e, ns+"live_polls_total", map[string]string{"outcome": "RATE_LIMITED"}); got != 1 {
		t.Errorf("polls answered 429: %v", got)
	}
	if got := metricValue(t, e, ns+"live_pushes_total", nil); got != 3 {
		t.Errorf("the 429 reached two subscriptions: pushes %v, want 3", got)
	}
	_ = c.conn.Close(websocket.StatusNormalClosure, "")
	eventually(t, "the gauges fall when the client leaves", func() bool {
		return metricValue(t, e, ns+"live_connections", nil) == 0 && metricValue(t, e, ns+"live_subscriptions", nil) == 0 &&
			metricValue(t, e, ns+"live_pollers", nil) == 0
	})
	logs := e.logs.String()
	for _, want := range []string{`"msg":"live stream opened","transport":"websocket"`, `"msg":"live stream closed","transport":"websocket"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("no %s in the logs", want)
		}
	}
	if strings.Contains(logs, liveToken) {
		t.Error("a token reached the logs")
	}
}

// TestLiveMeasureUpstreamCalls measures, on the real clock, what
// subscriptions cost in SeaTable calls: 100 subscriptions of one token, and
// one subscription each of 100 tokens. It takes about 25 s, so it runs only
// with LIVE_MEASURE=1 (the figures are in docs/operations.md):
//
//	LIVE_MEASURE=1 go test -run TestLiveMeasureUpstreamCalls -v ./app
func TestLiveMeasureUpstreamCalls(t *testing.T) {
	if os.Getenv("LIVE_MEASURE") != "1" {
		t.Skip("set LIVE_MEASURE=1 to measure (about 25 s)")
	}
	const interval, window = 2 * time.Second, 10 * time.Second
	measure := func(t *testing.T, tokens, perToken int) float64 {
		e := newTestEnv(t, withEnv("LIVE_POLL_INTERVAL", interval.String()))
		var conns []*wsClient
		for i := range tokens {
			tok := fmt.Sprintf("measure-%04d-0123456789", i)
			e.fake.SetToken(tok, fakeseatable.Fixture(fakeseatable.Demo))
			for j := 0; j < perToken; j += 10 { // at most 10 subscriptions a connection
				c := openWS(t, e, tok)
				for k := j; k < min(j+10, perToken); k++ {
					c.subscribe(fmt.Sprint(k), wsQuery)
					c.nextData(fmt.Sprint(k))
				}
				conns = append(conns, c)
			}
		}
		e.fake.ResetCounts()
		time.Sleep(window) // the measurement window itself
		calls := e.fake.Calls()
		perMinAtInterval := float64(calls) * float64(time.Minute) / float64(window)
		perMinAtDefault := perMinAtInterval * float64(interval) / float64(live.DefaultInterval)
		t.Logf("%d token(s) x %d subscription(s), %d connections: %d upstream calls in %v at LIVE_POLL_INTERVAL=%v = %.0f/min; at the default %v: %.0f/min",
			tokens, perToken, len(conns), calls, window, interval, perMinAtInterval, live.DefaultInterval, perMinAtDefault)
		// One poll per token per interval, ±10% jitter, rounded per window.
		if max := float64(tokens) * float64(window/interval) * 1.25; float64(calls) > max {
			t.Errorf("%d calls, want at most %.0f", calls, max)
		}
		return perMinAtDefault
	}
	t.Run("100 subscriptions of one token", func(t *testing.T) { measure(t, 1, 100) })
	t.Run("100 tokens", func(t *testing.T) { measure(t, 100, 1) })
}

// Two replicas sharing Redis and one SeaTable, with a subscriber each:
// one poll per interval between them, both subscribers see every change,
// and when the polling replica stops the other takes over.
func TestLiveRedisTwoReplicas(t *testing.T) {
	srv := redistest.Start(t)
	a, clockA := newLiveEnv(t, withEnv("REDIS_URL", srv.URL))
	b, clockB := newLiveEnv(t, withEnv("REDIS_URL", srv.URL), func(o *envOptions) {
		o.upstreamHandler = func(http.Handler) http.Handler { return a.fake } // one SeaTable
	})
	ca, cb := openWS(t, a, liveToken), openWS(t, b, liveToken)
	ca.subscribe("1", wsQuery)
	cb.subscribe("1", wsQuery)
	uuid, name, wsID := decodeWorkspaces(t, ca.nextData("1")).firstOwnBase(t)
	decodeWorkspaces(t, cb.nextData("1"))
	clockA.polled(t)
	clockB.polled(t)
	up, err := upstream.New(a.upstream.URL + "/seatable")
	if err != nil {
		t.Fatal(err)
	}
	rename := func(to string) {
		t.Helper()
		if _, err := up.UpdateDTable(t.Context(), liveToken, wsID, name, upstream.UpdateDTable{NewName: &to}); err != nil {
			t.Fatal(err)
		}
		name = to
		a.fake.ResetCounts()
	}
	rename("seen by both")
	clockA.step(t) // A takes the lock and polls
	clockB.step(t) // B finds it taken
	for _, c := range []*wsClient{ca, cb} {
		if got := decodeWorkspaces(t, c.nextData("1")).baseNames()[uuid]; got != name {
			t.Fatalf("got %q, want %q", got, name)
		}
	}
	if n := a.fake.Calls(); n != 1 {
		t.Fatalf("%d SeaTable calls in one interval from two replicas, want 1", n)
	}

	// A stops: it releases the lock, and B polls at its next tick.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	stopped := make(chan struct{})
	go func() { a.live.Shutdown(ctx); close(stopped) }()
	if s := ca.closeStatus(); s != websocket.StatusNormalClosure {
		t.Fatalf("A's client: close status %d", s)
	}
	<-stopped // its pollers have ended and released their locks
	rename("after failover")
	clockB.step(t)
	if got := decodeWorkspaces(t, cb.nextData("1")).baseNames()[uuid]; got != name {
		t.Fatalf("after failover: %q", got)
	}
	if n := a.fake.Calls(); n != 1 {
		t.Fatalf("after failover: %d calls, want 1", n)
	}
}

// Queries over a WebSocket connection read SeaTable anew each time: the
// connection outlives many operations.
func TestLiveQueriesOverWebSocketAreFresh(t *testing.T) {
	e, _ := newLiveEnv(t)
	c := openWS(t, e, liveToken)
	const q = `{ dtables(first: 1000) { nodes { uuid name } } }`
	c.subscribe("q1", q)
	before := string(c.nextData("q1").Data)
	if m := c.nextFor("q1"); m.Type != "complete" {
		t.Fatalf("query not completed: %+v", m)
	}
	var v struct {
		Dtables struct{ Nodes []struct{ UUID, Name string } }
	}
	if err := json.Unmarshal([]byte(before), &v); err != nil || len(v.Dtables.Nodes) == 0 {
		t.Fatalf("%v %s", err, before)
	}
	// Renamed elsewhere (not through this connection, which would
	// invalidate what it read).
	postGraphQL(t, e, liveToken, fmt.Sprintf(`mutation { updateDTable(input: {uuid: %q, newName: "Fresh"}) { dtable { name } } }`, v.Dtables.Nodes[0].UUID))
	c.subscribe("q2", q)
	if after := string(c.nextData("q2").Data); !strings.Contains(after, `"Fresh"`) {
		t.Fatalf("second query on the connection: %s", after)
	}
}

// Pages of CORS_ALLOWED_ORIGINS may open a WebSocket; other origins may
// not (a page anywhere could otherwise use a browser's credentials).
func TestLiveWebSocketOrigins(t *testing.T) {
	e, _ := newLiveEnv(t, withEnv("CORS_ALLOWED_ORIGINS", "https://app.example.com"))
	for origin, ok := range map[string]bool{"https://app.example.com": true, "https://evil.example": false, "": true} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		conn, resp, err := dialWS(t, e, h)
		if ok != (err == nil) {
			t.Errorf("origin %q: err %v", origin, err)
		}
		if err == nil {
			_ = conn.CloseNow()
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q refused with %+v, want 403", origin, resp)
		}
	}
}

package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// Shared subscription events (issue 18.3): the events of one token,
// document, variables and operation name are rendered once (fast path
// plans, graph/subscriptions.go) and the bytes shared between its subscriptions.

// sharedEventDocuments are subscriptions the shared rendering covers,
// with what can go wrong in rendering them: aliases, fragments,
// __typename, directives with variables, nulls, differences.
var sharedEventDocuments = []struct {
	query string
	vars  map[string]any
	once  bool // no event after the first: what it shows never changes
}{
	{query: wsQuery},
	{query: `subscription { workspacesChanged { __typename workspaces { __typename id seatableId type name ownerName groupId isAdmin folders { id name } tables { uuid id name starred createdAt updatedAt folder { name } workspace { name } } } } }`},
	{query: `subscription S($all: Boolean!) { w: workspacesChanged { ...E } } fragment E on WorkspacesChangedEvent { workspaces { n: name tables @include(if: $all) { name } ... on Workspace { seatableId } } }`, vars: map[string]any{"all": true}},
	{query: `subscription S($all: Boolean!) { w: workspacesChanged { ...E } } fragment E on WorkspacesChangedEvent { workspaces { n: name tables @include(if: $all) { name } ... on Workspace { seatableId } } }`, vars: map[string]any{"all": false}},
	{query: `subscription { dtablesChanged { __typename initial changes { __typename added { uuid name starred workspace { seatableId } } updated { uuid name starred } removed } } }`},
	{query: `subscription F($f: DTableFilter) { dtablesChanged(filter: $f) { changes { removed added { name } } initial } }`, vars: map[string]any{"f": map[string]any{"nameContains": "a"}}},
	{query: `subscription O($u: ID!) { dtableChanged(uuid: $u) { __typename uuid dtable { __typename uuid name starred folder { name } workspace { name seatableId } } } }`},
	{query: `subscription { dtableChanged(uuid: "00000000-0000-0000-0000-000000000000") { uuid dtable { name } } }`, once: true},
}

// The shared rendering writes exactly gqlgen's bytes: each document is
// subscribed to on a server with the fast path (shared events) and one
// without (gqlgen renders every event), both in front of one fake
// SeaTable; the first events and those after a rename, a star, a creation
// and a deletion are compared byte for byte.
func TestLiveSharedEventsMatchGqlgen(t *testing.T) {
	fake := fakeseatable.New()
	shared, clockS := newLiveEnv(t, withFake(fake))
	plain, clockP := newLiveEnv(t, withFake(fake), withEnv("FAST_PATH", "false"))
	cs, cp := openWS(t, shared, liveToken), openWS(t, plain, liveToken)
	cs.subscribe("base", wsQuery)
	uuid, name, wsID := decodeWorkspaces(t, cs.nextData("base")).firstOwnBase(t)
	clockS.polled(t)
	for i, d := range sharedEventDocuments {
		vars := d.vars
		if vars == nil && bytes.Contains([]byte(d.query), []byte("$u")) {
			vars = map[string]any{"u": uuid}
		}
		id := fmt.Sprint(i)
		cs.subscribeVars(id, d.query, vars)
		cp.subscribeVars(id, d.query, vars)
	}
	clockP.polled(t)
	compare := func(step string) {
		t.Helper()
		for i, d := range sharedEventDocuments {
			if d.once && step != "first events" {
				continue
			}
			id := fmt.Sprint(i)
			a, b := cs.nextFor(id), cp.nextFor(id)
			if a.Type != "next" || !bytes.Equal(a.Payload, b.Payload) {
				t.Fatalf("%s, document %d:\nshared %s %s\ngqlgen %s %s", step, i, a.Type, a.Payload, b.Type, b.Payload)
			}
		}
	}
	compare("first events")
	if r := shared.live.hub.Renders(); r == 0 {
		t.Fatal("no event was rendered by the shared path")
	}
	if r := plain.live.hub.Renders(); r != 0 {
		t.Fatalf("%d shared renders without the fast path", r)
	}
	up, err := upstream.New(shared.upstream.URL + "/seatable")
	if err != nil {
		t.Fatal(err)
	}
	newName := "renamed <&> \u2028 ü"
	if _, err := up.UpdateDTable(t.Context(), liveToken, wsID, name, upstream.UpdateDTable{NewName: &newName}); err != nil {
		t.Fatal(err)
	}
	clockS.step(t)
	clockP.step(t)
	compare("after a rename")
	cs.nextFor("base")
	if err := up.StarDTable(t.Context(), liveToken, uuid); err != nil {
		t.Fatal(err)
	}
	clockS.step(t)
	clockP.step(t)
	compare("after a star")
}

// subscribeVars subscribes id to query with variables.
func (c *wsClient) subscribeVars(id, query string, vars map[string]any) {
	c.t.Helper()
	c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
}

// N subscriptions of one token and one document cost one render per event,
// however many connections they are spread over; another document, or the
// same one with other variables, is rendered on its own. Every
// subscription of a document gets the same bytes.
func TestLiveSharedEventsRenderedOncePerTokenAndDocument(t *testing.T) {
	e, clock := newLiveEnv(t)
	conns := []*wsClient{openWS(t, e, liveToken), openWS(t, e, liveToken), openWS(t, e, liveToken)}
	const perDoc = 12
	docs := []struct {
		query string
		vars  map[string]any
	}{
		{query: wsQuery},
		{query: `subscription V($t: Boolean!) { workspacesChanged { workspaces { name tables @include(if: $t) { name } } } }`, vars: map[string]any{"t": true}},
		{query: `subscription V($t: Boolean!) { workspacesChanged { workspaces { name tables @include(if: $t) { name } } } }`, vars: map[string]any{"t": false}},
	}
	type sub struct {
		c   *wsClient
		id  string
		doc int
	}
	var subs []sub
	for d, doc := range docs {
		for i := range perDoc {
			s := sub{conns[i%len(conns)], fmt.Sprintf("%d-%d", d, i), d}
			s.c.subscribeVars(s.id, doc.query, doc.vars)
			subs = append(subs, s)
		}
	}
	var name, wsID string
	read := func(step string) {
		t.Helper()
		got := make([][]byte, len(docs))
		for _, s := range subs {
			m := s.c.nextFor(s.id)
			if m.Type != "next" {
				t.Fatalf("%s: %s: %s %s", step, s.id, m.Type, m.Payload)
			}
			switch {
			case got[s.doc] == nil:
				got[s.doc] = m.Payload
			case !bytes.Equal(got[s.doc], m.Payload):
				t.Fatalf("%s: subscriptions of one document got different events:\n%s\n%s", step, got[s.doc], m.Payload)
			}
			if s.doc == 0 && name == "" {
				var p gqlPayload
				if err := json.Unmarshal(m.Payload, &p); err != nil {
					t.Fatal(err)
				}
				_, name, wsID = decodeWorkspaces(t, p).firstOwnBase(t)
			}
		}
	}
	read("first event")
	clock.polled(t)
	if r := e.live.hub.Renders(); r != int64(len(docs)) {
		t.Fatalf("first event: %d renders for %d subscriptions of %d documents, want %d", r, len(subs), len(docs), len(docs))
	}
	up, err := upstream.New(e.upstream.URL + "/seatable")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		newName := fmt.Sprintf("%s %d", name, i)
		if _, err := up.UpdateDTable(t.Context(), liveToken, wsID, name, upstream.UpdateDTable{NewName: &newName}); err != nil {
			t.Fatal(err)
		}
		name = newName
		clock.step(t)
		read(fmt.Sprintf("rename %d", i))
		if r, want := e.live.hub.Renders(), int64(len(docs)*(i+2)); r != want {
			t.Fatalf("after rename %d: %d renders in all, want %d (one per document and event)", i, r, want)
		}
	}
}

// Two tokens never share a rendering, even with the same document and the
// same data: each token's events are rendered for it.
func TestLiveSharedEventsNeverCrossTokens(t *testing.T) {
	e, clock := newLiveEnv(t)
	e.fake.SetToken(otherToken, fakeseatable.Fixture(fakeseatable.Demo))
	e.fake.SetToken("live-third-000000000000", fakeseatable.Generate(2, 3))
	a, b, c := openWS(t, e, liveToken), openWS(t, e, otherToken), openWS(t, e, "live-third-000000000000")
	for i := range 4 {
		a.subscribe(fmt.Sprint(i), wsQuery)
		b.subscribe(fmt.Sprint(i), wsQuery)
		c.subscribe(fmt.Sprint(i), wsQuery)
	}
	var evA, evC []byte
	for i := range 4 {
		ma, mb, mc := a.nextFor(fmt.Sprint(i)), b.nextFor(fmt.Sprint(i)), c.nextFor(fmt.Sprint(i))
		evA, evC = ma.Payload, mc.Payload
		if !bytes.Equal(ma.Payload, mb.Payload) {
			t.Fatalf("two tokens with the same data got different events:\n%s\n%s", ma.Payload, mb.Payload)
		}
	}
	if bytes.Equal(evA, evC) {
		t.Fatal("a token with other data got the same event")
	}
	for range 3 {
		clock.polled(t)
	}
	if r := e.live.hub.Renders(); r != 3 {
		t.Fatalf("%d renders for 3 tokens with 4 subscriptions each, want 3", r)
	}
}

package app

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// A subscription's events are each an answer within MAX_RESPONSE_BYTES:
// a stream whose events each fit keeps going however many it sends (their
// sum once ended it with an error), and an event that does not fit is
// that event's error, not the stream's end.
func TestLiveEventsAreBoundedOneByOne(t *testing.T) {
	big := fakeseatable.Generate(10, 10) // events of some kilobytes: the setting's least is 1 KiB
	probe, clock := newLiveEnv(t)
	probe.fake.SetToken(liveToken, big)
	s := openSSE(t, probe, liveToken, wsQuery)
	first := s.next()
	clock.polled(t)
	size := len(first.payload(t).Data)
	s.cancel()

	// Room for two events and a half: four events sum to well over it.
	limit := size * 5 / 2
	e, clock := newLiveEnv(t, withEnv("MAX_RESPONSE_BYTES", strconv.Itoa(limit)))
	e.fake.SetToken(liveToken, big)
	s = openSSE(t, e, liveToken, wsQuery)
	ev := s.next()
	clock.polled(t)
	p := ev.payload(t)
	if ev.event != "next" || len(p.Errors) > 0 {
		t.Fatalf("first event: %+v", ev)
	}
	uuid, _, _ := decodeWorkspaces(t, p).firstOwnBase(t)
	for i := range 3 {
		name := fmt.Sprintf("Renamed %d", i)
		postGraphQL(t, e, liveToken, fmt.Sprintf(`mutation { updateDTable(input: {uuid: %q, newName: %q}) { dtable { name } } }`, uuid, name))
		clock.polled(t)
		ev := s.next()
		p := ev.payload(t)
		if ev.event != "next" || len(p.Errors) > 0 {
			t.Fatalf("event %d of a stream whose events each fit (%d bytes, limit %d): %+v", i+2, size, limit, ev)
		}
		if got := decodeWorkspaces(t, p).baseNames()[uuid]; got != name {
			t.Fatalf("event %d: name %q, want %q", i+2, got, name)
		}
	}

	// An event over the limit is an error event; the stream goes on.
	tight, clock := newLiveEnv(t, withEnv("MAX_RESPONSE_BYTES", strconv.Itoa(size/2)))
	tight.fake.SetToken(liveToken, big)
	s = openSSE(t, tight, liveToken, wsQuery)
	for i := range 2 {
		ev := s.next()
		clock.polled(t)
		p := ev.payload(t)
		if ev.event != "next" || len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
			t.Fatalf("event %d over the limit: %+v", i+1, ev)
		}
		if i == 0 {
			postGraphQL(t, tight, liveToken, fmt.Sprintf(`mutation { updateDTable(input: {uuid: %q, newName: "Still streaming"}) { dtable { name } } }`, uuid))
		}
	}
}

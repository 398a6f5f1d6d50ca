package upstream

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// referenceParseTime is parseTime without its fast path: time.Parse over
// the layouts.
func referenceParseTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Truncate(time.Second), true
		}
	}
	return time.Time{}, false
}

// TestParseSeconds3339MatchesTimeParse: whatever parseSeconds3339 accepts,
// time.Parse(time.RFC3339Nano) accepts as the same instant, and parseTime
// answers as time.Parse over the layouts does, over random timestamps of
// every offset and a mutation of a byte of each.
func TestParseSeconds3339MatchesTimeParse(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	fast := 0
	check := func(v string) {
		got, ok := parseSeconds3339(v)
		want, err := time.Parse(time.RFC3339Nano, v)
		if ok && (err != nil || !got.Equal(want) || got.Location() != time.UTC) {
			t.Fatalf("%q: fast %v, time.Parse %v %v", v, got, want, err)
		}
		if ok {
			fast++
		}
		p, pok := parseTime(looseString{Value: v, Set: true})
		r, rok := referenceParseTime(v)
		if pok != rok || !p.Equal(r) || p.Location() != r.Location() {
			t.Fatalf("%q: parseTime %v %v, reference %v %v", v, p, pok, r, rok)
		}
	}
	bytes := "0123456789+-:TZz .\xff"
	for i := 0; i < 20000; i++ {
		ts := time.Unix(rng.Int64N(400*365*86400)-100*365*86400, 0)
		off := time.FixedZone("", (rng.IntN(48)-24)*1800)
		v := ts.In(off).Format(time.RFC3339)
		check(v)
		b := []byte(v)
		b[rng.IntN(len(b))] = bytes[rng.IntN(len(bytes))]
		check(string(b))
	}
	for _, v := range []string{"2024-02-29T12:00:00Z", "2023-02-29T12:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z",
		"2026-01-01T00:00:60Z", "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+23:59", "2026-01-01T00:00:00-00:00", "0000-01-01T00:00:00Z"} {
		check(v)
	}
	if fast < 20000 {
		t.Errorf("the fast path took only %d of the timestamps", fast)
	}
}

// The table of years gives the day numbers the formula gives, on and
// around its edges.
func TestDaysSinceEpochMatchesTheFormula(t *testing.T) {
	for year := 0; year <= 9999; year++ {
		for month := 1; month <= 12; month++ {
			for _, day := range []int{1, 2, 28, daysIn(month, year)} {
				if got, want := daysSinceEpoch(year, month, day), daysFromCivil(year, month, day); got != want {
					t.Fatalf("%04d-%02d-%02d: %d, want %d", year, month, day, got, want)
				}
			}
		}
	}
	if got := daysSinceEpoch(2026, 3, 1); got != time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Unix()/86400 {
		t.Errorf("2026-03-01: %d", got)
	}
}

package upstream

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// SeaTable's JSON is loosely typed across its four response generations (an
// id may be 1 or "", group_id may be 5 or "5", a colour may be null). The
// loose* types below decode whatever arrives and never return an error, so one
// odd field can never fail a whole workspace list; a value of an unexpected
// type is simply treated as absent.

var jsonNull = []byte("null")

// looseString accepts a JSON string, or a number (kept as its literal text).
type looseString struct {
	Value string
	Set   bool
}

func (s *looseString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch c := b[0]; {
	case c == '"':
		var v string
		if json.Unmarshal(b, &v) == nil {
			s.Value, s.Set = v, true
		}
	case c == '-' || (c >= '0' && c <= '9'):
		s.Value, s.Set = string(b), true
	}
	return nil
}

// id returns a numeric id as its decimal text, "" when absent or not an integer.
func (s looseString) id() string {
	if !s.Set {
		return ""
	}
	v := strings.TrimSpace(s.Value)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if canonicalInt(v) {
			return v // what FormatInt would write, without a new string
		}
		return strconv.FormatInt(n, 10)
	}
	// 5.0 from a sloppy serializer is still workspace 5.
	if f, err := strconv.ParseFloat(v, 64); err == nil && f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	return ""
}

// looseBool accepts true/false, "true"/"false" and 0/1.
type looseBool struct {
	Value bool
	Set   bool
}

func (v *looseBool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(strings.Trim(string(bytes.TrimSpace(b)), `"`)) {
	case "true", "1":
		v.Value, v.Set = true, true
	case "false", "0":
		v.Value, v.Set = false, true
	}
	return nil
}

// canonicalInt reports whether v, which ParseInt accepts, is already
// written as strconv.FormatInt writes it: no sign but a minus, no leading
// zeros, no "-0".
func canonicalInt(v string) bool {
	d := strings.TrimPrefix(v, "-")
	if d == "" || d[0] == '+' || (d[0] == '0' && len(d) > 1) {
		return false
	}
	return !(d == "0" && len(v) > 1)
}

// looseInt accepts an integer or a string holding one.
type looseInt struct {
	Value int64
	Set   bool
}

func (v *looseInt) UnmarshalJSON(b []byte) error {
	var s looseString
	_ = s.UnmarshalJSON(b)
	if id := s.id(); id != "" {
		v.Value, _ = strconv.ParseInt(id, 10, 64)
		v.Set = true
	}
	return nil
}

func (v looseInt) ptr() *int {
	if !v.Set {
		return nil
	}
	n := int(v.Value)
	return &n
}

// looseStrings accepts an array of strings; non-string elements are dropped.
type looseStrings []string

func (l *looseStrings) UnmarshalJSON(b []byte) error {
	var items looseList[looseString]
	_ = items.UnmarshalJSON(b)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if it.Set {
			out = append(out, it.Value)
		}
	}
	*l = out
	return nil
}

// looseList accepts an array; anything else (null, an object, a string)
// decodes as an empty list. Elements that fail to decode as T (a stray string
// in a list of objects, say) are dropped, not fatal.
type looseList[T any] []T

func (l *looseList[T]) UnmarshalJSON(b []byte) error {
	*l = nil
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '[' {
		return nil
	}
	var raw []json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		return nil
	}
	items := make([]T, 0, len(raw))
	for _, r := range raw {
		if bytes.Equal(r, jsonNull) {
			continue
		}
		var it T
		if json.Unmarshal(r, &it) == nil {
			items = append(items, it)
		}
	}
	*l = items
	return nil
}

// timeLayouts are the timestamp forms SeaTable has been seen to emit: RFC 3339
// with any offset, and Django's naive forms on misconfigured servers.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05.999999",
	"2006-01-02 15:04:05.999999",
}

// parseTime returns the instant in UTC truncated to seconds; false for "",
// null or an unparseable value. Naive timestamps are read as UTC.
func parseTime(s looseString) (time.Time, bool) {
	if !s.Set {
		return time.Time{}, false
	}
	v := strings.TrimSpace(s.Value)
	if v == "" {
		return time.Time{}, false
	}
	if t, ok := parseSeconds3339(v); ok {
		return t, true
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Truncate(time.Second), true
		}
	}
	return time.Time{}, false
}

// parseSeconds3339 reads the form every current SeaTable sends,
// "2006-01-02T15:04:05+01:00" or "...Z", as time.Parse(time.RFC3339Nano)
// would, and returns it in UTC; false for anything else, which parseTime
// then hands to time.Parse. Two timestamps per base made time.Parse a
// tenth of decoding. TestParseSeconds3339MatchesTimeParse pins it.
func parseSeconds3339(v string) (time.Time, bool) {
	if len(v) != len("2006-01-02T15:04:05Z") && len(v) != len("2006-01-02T15:04:05-07:00") {
		return time.Time{}, false
	}
	ok := true
	num := func(s string, lo, hi int) int {
		n := 0
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				ok = false
				return lo
			}
			n = n*10 + int(c-'0')
		}
		if n < lo || n > hi {
			ok = false
			return lo
		}
		return n
	}
	year := num(v[0:4], 0, 9999)
	month := num(v[5:7], 1, 12)
	day := num(v[8:10], 1, daysIn(time.Month(month), year))
	hour := num(v[11:13], 0, 23)
	minute := num(v[14:16], 0, 59)
	sec := num(v[17:19], 0, 59)
	if !ok || v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	zone := v[19:]
	if zone == "Z" {
		return t, true
	}
	if len(zone) != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' {
		return time.Time{}, false
	}
	offset := (num(zone[1:3], 0, 23)*60 + num(zone[4:6], 0, 59)) * 60
	if !ok {
		return time.Time{}, false
	}
	if zone[0] == '-' {
		offset = -offset
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

// daysIn is the number of days of month m in year (time's own rule).
func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

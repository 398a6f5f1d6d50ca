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
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Truncate(time.Second), true
		}
	}
	return time.Time{}, false
}

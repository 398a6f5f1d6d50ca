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

// idText is looseString{v, true}.id(), at once for what SeaTable sends:
// decimal digits with no leading zero.
func idText(v string) string {
	if n := len(v); n > 0 && n <= 18 && (v[0] != '0' || n == 1) {
		plain := true
		for i := 0; i < n; i++ {
			if v[i] < '0' || v[i] > '9' {
				plain = false
				break
			}
		}
		if plain {
			return v
		}
	}
	return looseString{Value: v, Set: true}.id()
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
	return parseTimeText(s.Value)
}

// parseTimeText is parseTime of a value that was sent.
func parseTimeText(v string) (time.Time, bool) {
	if t, ok := parseSeconds3339(v); ok {
		return t, true // what current servers send, with no space to trim
	}
	v = strings.TrimSpace(v)
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
	yh, yl := twoDigits(v, 0), twoDigits(v, 2)
	month, day := twoDigits(v, 5), twoDigits(v, 8)
	hour, minute, sec := twoDigits(v, 11), twoDigits(v, 14), twoDigits(v, 17)
	if yh < 0 || yl < 0 || month < 1 || month > 12 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 ||
		v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	year := yh*100 + yl
	if day < 1 || day > daysIn(month, year) {
		return time.Time{}, false
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	zone := v[19:]
	if zone == "Z" {
		return time.Unix(unix, 0).UTC(), true
	}
	if len(zone) != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' {
		return time.Time{}, false
	}
	oh, om := twoDigits(zone, 1), twoDigits(zone, 4)
	if oh < 0 || oh > 23 || om < 0 || om > 59 {
		return time.Time{}, false
	}
	offset := (oh*60 + om) * 60
	if zone[0] == '-' {
		offset = -offset
	}
	return time.Unix(unix-int64(offset), 0).UTC(), true
}

// twoDigits reads the decimal digits v[i] and v[i+1]; -1 if either is
// not one.
func twoDigits(v string, i int) int {
	a, b := int(v[i])-'0', int(v[i+1])-'0'
	if uint(a) > 9 || uint(b) > 9 {
		return -1
	}
	return a*10 + b
}

// daysIn is the number of days of month m (1-12) in year, in the
// proleptic Gregorian calendar time uses; time.Date cost a tenth of
// decoding a list.
func daysIn(m, year int) int {
	if m == 2 && isLeap(year) {
		return 29
	}
	return int(monthDays[m-1])
}

var monthDays = [12]uint8{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// daysSinceEpoch is the day number of year-month-day counted from
// 1970-01-01, for month 1-12 and any year from 0 to 9999. The years
// timestamps are written in are looked up (yearStart); the rest are
// computed (daysFromCivil), the divisions of which were a twentieth of
// decoding a list with two timestamps a base.
func daysSinceEpoch(year, month, day int) int64 {
	if y := uint(year - firstTabledYear); y < uint(len(yearStart)) {
		d := int64(yearStart[y]) + int64(monthStart[month-1]) + int64(day-1)
		if month > 2 && isLeap(year) {
			d++
		}
		return d
	}
	return daysFromCivil(year, month, day)
}

func isLeap(year int) bool {
	return year%4 == 0 && (year%100 != 0 || year%400 == 0)
}

// yearStart[i] is the day number of 1 January of firstTabledYear+i.
const firstTabledYear = 1970

var yearStart = func() (t [200]int32) {
	for i := range t {
		t[i] = int32(daysFromCivil(firstTabledYear+i, 1, 1))
	}
	return t
}()

// monthStart[m] is the days before month m+1 in a year that is not leap.
var monthStart = [12]uint16{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334}

// daysFromCivil is Howard Hinnant's days_from_civil.
func daysFromCivil(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400                               // [0, 399]
	doy := int64((153*((month+9)%12)+2)/5 + day - 1) // [0, 365], from March
	doe := yoe*365 + yoe/4 - yoe/100 + doy           // [0, 146096]
	return era*146097 + doe - 719468
}

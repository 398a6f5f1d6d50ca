package upstream

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"time"
	"unicode/utf8"
	"unsafe"
)

// scanner reads JSON in one pass over the bytes, validating all of it the
// way encoding/json does; the decoder (decode.go) drives it member by
// member and builds the models as it goes, with no intermediate form.
//
// Values are read with the loose types' rules (loose.go): a string value
// is a slice of the body when it has no escapes, so reading one allocates
// nothing and the body is not copied (the decoded list keeps it alive
// instead).
type scanner struct {
	b     []byte
	i     int
	depth int
	// src is b as a string sharing its memory, for the string values.
	src string
}

func newScanner(b []byte) scanner {
	return scanner{b: b, src: unsafe.String(unsafe.SliceData(b), len(b))}
}

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

// syntaxError is raised by panic inside the scanner and recovered where
// decoding starts (decode.go), which keeps the happy path free of error
// plumbing.
type syntaxError struct{ msg string }

func (s *scanner) fail(format string, args ...any) {
	panic(syntaxError{fmt.Sprintf("offset %d: ", s.i) + fmt.Sprintf(format, args...)})
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, failing at the end.
// It is kept under the inliner's budget: it runs a few times per member.
func (s *scanner) peek() byte {
	if s.i >= len(s.b) || s.b[s.i] <= ' ' {
		s.skipSpace()
	}
	return s.b[s.i] // compact JSON: no white space to skip
}

// skipSpace skips white space, failing at the end of the body.
func (s *scanner) skipSpace() {
	s.ws()
	if s.i >= len(s.b) {
		s.fail("unexpected end of JSON input")
	}
}

func (s *scanner) peekAfterSpace() byte {
	s.skipSpace()
	return s.b[s.i]
}

// enterObject consumes '{' and reports whether a member follows.
func (s *scanner) enterObject() bool {
	return s.enter('{', '}')
}

func (s *scanner) enter(open, closing byte) bool {
	if s.peek() != open {
		s.fail("want %q", open)
	}
	s.i++
	if s.depth++; s.depth > maxDepth {
		s.fail("exceeded max depth")
	}
	if s.peek() == closing {
		s.i++
		s.depth--
		return false
	}
	return true
}

// nextMember consumes ',' (another member follows) or the closing bracket.
func (s *scanner) nextMember(closing byte) bool {
	var c byte
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		c = s.b[s.i] // peek, inlined by hand: this runs for every member
	} else {
		c = s.peekAfterSpace()
	}
	switch c {
	case ',':
		s.i++
		return true
	case closing:
		s.i++
		s.depth--
		return false
	default:
		s.fail("want ',' or %q, got %q", closing, c)
	}
	return false
}

// plainKeyByte marks the bytes a member name can hold and still be
// compared as it stands: lower-case ASCII without quotes or escapes.
var plainKeyByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && (c < 'A' || c > 'Z')
	}
	return t
}()

// key reads a member name and its colon. Names match case-insensitively
// as encoding/json matches struct fields. Callers switch on
// string(key), which Go compares without allocating.
func (s *scanner) key() []byte {
	if s.peek() != '"' {
		s.fail("want a member name")
	}
	start := s.i + 1
	j := start
	for j < len(s.b) && plainKeyByte[s.b[j]] {
		j++
	}
	var k []byte
	if j < len(s.b) && s.b[j] == '"' {
		// What SeaTable sends: nothing to unescape or fold.
		k = s.b[start:j]
		s.i = j + 1
	} else {
		plain := s.str()
		k = s.b[start : s.i-1]
		if !plain {
			var v string
			if err := json.Unmarshal(s.b[start-1:s.i], &v); err != nil {
				s.fail("member name: %v", err)
			}
			k = []byte(v)
		}
		k = foldKey(k)
	}
	if s.peek() != ':' {
		s.fail("want ':' after member name")
	}
	s.i++
	return k
}

// knownKey is a member name followed by `":`, as little-endian words to
// compare eight bytes at a time (keyIs).
type knownKey struct {
	word, mask [3]uint64
	n          int // bytes compared; 0: too long to guess
}

func newKnownKey(name string) knownKey {
	full := name + `":`
	var k knownKey
	if len(full) > 8*len(k.word) {
		return k
	}
	k.n = len(full)
	for i := 0; i < len(full); i++ {
		k.word[i/8] |= uint64(full[i]) << (8 * (i % 8))
		k.mask[i/8] |= 0xff << (8 * (i % 8))
	}
	return k
}

// keyIs consumes a member name and its colon when they are exactly k as
// written, in compact JSON (a guess of the next member); otherwise it
// consumes nothing and returns false. The name must be lower-case ASCII
// with no quote or backslash, and s.b[s.i] the opening quote.
func (s *scanner) keyIs(k *knownKey) bool {
	j := s.i + 1
	if k.n == 0 || j+8*len(k.word) > len(s.b) {
		return false // near the end of the body: the slow path
	}
	w := s.b[j : j+8*len(k.word)]
	// Most names with their `":` fit one or two words: compare no more.
	if binary.LittleEndian.Uint64(w)&k.mask[0] != k.word[0] {
		return false
	}
	if k.n > 8 && (binary.LittleEndian.Uint64(w[8:])&k.mask[1] != k.word[1] ||
		k.n > 16 && binary.LittleEndian.Uint64(w[16:])&k.mask[2] != k.word[2]) {
		return false
	}
	s.i = j + k.n
	return true
}

// foldKey returns b case-folded the way encoding/json matches member names
// to fields (bytes.EqualFold), copying only when it has to. Besides ASCII,
// exactly two runes fold to ASCII letters: the Kelvin sign (k) and the long
// s (s); every other rune cannot match one of our all-ASCII names anyway.
func foldKey(b []byte) []byte {
	plain := true
	for _, c := range b {
		if c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r >= 'A' && r <= 'Z':
			out = append(out, byte(r)+'a'-'A')
		case r == '\u212a': // KELVIN SIGN
			out = append(out, 'k')
		case r == '\u017f': // LATIN SMALL LETTER LONG S
			out = append(out, 's')
		default:
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// Eight bytes at a time: each byte of a word x is tested at once with the
// classic bit tricks (a byte is zero, a byte is below n).
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special has the high bit set in the first byte of x that ends a plain
// run of string text: a quote, a backslash, a control character or a
// non-ASCII byte (bytes after it may be flagged spuriously).
func special(x uint64) uint64 {
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return ((q-ones)&^q | (bs-ones)&^bs | (x-ones*0x20)&^x | x) & highs
}

// str consumes a string and reports whether it is plain: no escapes and
// valid UTF-8, so its bytes between the quotes are its value.
func (s *scanner) str() (plain bool) {
	s.i++ // opening quote
	plain = true
	ascii := true
	start := s.i
	b := s.b
	i := s.i
	for {
		for i+8 <= len(b) {
			m := special(binary.LittleEndian.Uint64(b[i:]))
			if m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			if !ascii && !utf8.Valid(b[start:i]) {
				plain = false
			}
			return plain
		case c == '\\':
			plain = false
			i++
			if i >= len(b) {
				s.i = i
				s.fail("unexpected end of JSON input")
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for k := 0; k < 4; k++ {
					if i >= len(b) || !isHex(b[i]) {
						s.i = i
						s.fail("invalid \\u escape")
					}
					i++
				}
			default:
				s.i = i
				s.fail("invalid escape %q", b[i])
			}
		case c < 0x20:
			s.i = i
			s.fail("control character in string")
		default:
			if c >= utf8.RuneSelf {
				ascii = false
			}
			i++
		}
	}
	s.i = i
	s.fail("unexpected end of JSON input")
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (s *scanner) number() {
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.i < len(s.b) && isDigit(s.b[s.i]):
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	default:
		s.fail("invalid number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			s.fail("invalid number")
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.i >= len(s.b) || !isDigit(s.b[s.i]) {
			s.fail("invalid number")
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	// A number runs into the next token only through a delimiter.
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
		default:
			s.fail("invalid character %q after number", s.b[s.i])
		}
	}
}

func (s *scanner) literal(lit string) {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		s.fail("invalid literal")
	}
	s.i += len(lit)
}

// skipValue validates and consumes one value of any type, returning its
// raw text.
func (s *scanner) skipValue() []byte {
	c := s.peek() // skips white space: the value starts after it
	start := s.i
	switch {
	case c == '"':
		s.str()
	case c == '{':
		for more := s.enterObject(); more; more = s.nextMember('}') {
			if s.peek() != '"' {
				s.fail("want a member name")
			}
			s.str()
			if s.peek() != ':' {
				s.fail("want ':' after member name")
			}
			s.i++
			s.skipValue()
		}
	case c == '[':
		for more := s.enter('[', ']'); more; more = s.nextMember(']') {
			s.skipValue()
		}
	case c == 't':
		s.literal("true")
	case c == 'f':
		s.literal("false")
	case c == 'n':
		s.literal("null")
	case c == '-' || isDigit(c):
		s.number()
	default:
		s.fail("invalid character %q looking for a value", c)
	}
	return s.b[start:s.i]
}

// looseString reads one value as looseString.UnmarshalJSON does: a
// string's value or a number's literal text, and false (nothing usable)
// for any other value.
func (s *scanner) looseString() (string, bool) {
	var c byte
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		c = s.b[s.i] // peek, inlined by hand: this runs for most values
	} else {
		c = s.peekAfterSpace()
	}
	start := s.i
	switch {
	case c == '"':
		if s.str() {
			return s.src[start+1 : s.i-1], true
		}
		var v looseString
		_ = v.UnmarshalJSON(s.b[start:s.i])
		return v.Value, v.Set
	case c == '-' || isDigit(c):
		s.number()
		return s.src[start:s.i], true
	}
	s.skipValue()
	return "", false
}

// timestamp consumes a string value that is a timestamp as current
// servers write it (parseSeconds3339), in compact JSON, and returns it;
// otherwise it consumes nothing and returns false, and the value is read
// the general way (looseString, parseTimeText), which gives the same
// answer for these: such a string has no escapes and no byte that needs
// validating, since parseSeconds3339 accepts only digits, '-', ':', 'T',
// '+' and 'Z'. Read this way, a timestamp is looked at once, not
// scanned as a string first.
func (s *scanner) timestamp() (time.Time, bool) {
	i := s.i
	if i+27 > len(s.b) || s.b[i] != '"' {
		return time.Time{}, false
	}
	n := len("2006-01-02T15:04:05-07:00")
	if s.b[i+1+n] != '"' {
		n = len("2006-01-02T15:04:05Z")
		if s.b[i+1+n] != '"' {
			return time.Time{}, false
		}
	}
	t, ok := parseSeconds3339(s.src[i+1 : i+1+n])
	if ok {
		s.i = i + n + 2
	}
	return t, ok
}

// canonicalUUID consumes a string value that is a uuid in its canonical
// form (isCanonicalUUID), in compact JSON, and returns it; otherwise it
// consumes nothing and returns false. Like timestamp, it needs no string
// scan: hex digits and dashes need neither unescaping nor validating.
func (s *scanner) canonicalUUID() (string, bool) {
	i := s.i
	if i+38 > len(s.b) || s.b[i] != '"' || s.b[i+37] != '"' {
		return "", false
	}
	v := s.src[i+1 : i+37]
	if !isCanonicalUUID(v) {
		return "", false
	}
	s.i = i + 38
	return v, true
}

// endsValue reports whether c may follow a literal or a number directly
// in compact JSON.
func endsValue(c byte) bool { return c == ',' || c == '}' || c == ']' }

// plainID consumes an integer written as idText keeps it (no sign, no
// leading zero, at most 18 digits) and followed directly by ',', '}' or
// ']', and returns its text; otherwise it consumes nothing and returns
// false. It reads the digits once where looseString and idText read
// them twice; any other value takes the general way to the same answer.
func (s *scanner) plainID() (string, bool) {
	i := s.i
	if i >= len(s.b) || s.b[i] < '1' || s.b[i] > '9' {
		return "", false
	}
	j := i + 1
	for j < len(s.b) && j-i <= 18 && isDigit(s.b[j]) {
		j++
	}
	if j-i > 18 || j >= len(s.b) || !endsValue(s.b[j]) {
		return "", false
	}
	s.i = j
	return s.src[i:j], true
}

// looseBool reads one value as looseBool.UnmarshalJSON does.
func (s *scanner) looseBool() (value, ok bool) {
	// The literals as SeaTable sends them, in compact JSON: no general
	// value walk (skipValue) for the flags every base has.
	if b := s.b[s.i:]; len(b) >= 6 {
		if string(b[:4]) == "true" && endsValue(b[4]) {
			s.i += 4
			return true, true
		}
		if string(b[:5]) == "false" && endsValue(b[5]) {
			s.i += 5
			return false, true
		}
	}
	raw := s.skipValue()
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	var v looseBool
	_ = v.UnmarshalJSON(raw)
	return v.Value, v.Set
}

// list walks an array, calling elem for each object element. Like
// looseList, it drops null and non-object elements and reports false (an
// empty list) when the value is not an array.
func (s *scanner) list(elem func()) bool {
	if s.peek() != '[' {
		s.skipValue()
		return false
	}
	for more := s.enter('[', ']'); more; more = s.nextMember(']') {
		if s.peek() == '{' {
			elem()
		} else {
			s.skipValue()
		}
	}
	return true
}

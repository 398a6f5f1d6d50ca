package upstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
	"unsafe"
)

// scanner is a single-pass JSON reader specialised to the workspace list: it
// walks the body once, validating all of it the way encoding/json does, and
// fills the wire structs directly. encoding/json needed one pass per nesting
// level here, because every loose list went through json.RawMessage and was
// parsed again element by element; this reads each byte once.
//
// Field semantics are the loose* types' own (loose.go): scalar values are
// handed to their UnmarshalJSON as the raw JSON text, with fast paths for
// the common plain strings and booleans. The golden tests in decode_test.go
// pin that every generation and odd body decodes exactly as encoding/json
// decoded it.
type scanner struct {
	b     []byte
	i     int
	depth int
	// src is b as a string sharing its memory: plain string and number
	// values are slices of it, so decoding a value allocates nothing and
	// the body is not copied (the decoded list keeps it alive instead).
	src string
	// fields are the optional base fields to decode; others are skipped.
	fields Fields
	// bases holds the wire form of the bases of the workspace being read,
	// each of its lists a slice of it; it is reused for the next workspace.
	bases []wireDTable
}

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

// syntaxError is raised by panic inside the scanner and recovered in decode,
// which keeps the happy path free of error plumbing.
type syntaxError struct{ msg string }

func (s *scanner) fail(format string, args ...any) {
	panic(syntaxError{fmt.Sprintf("offset %d: ", s.i) + fmt.Sprintf(format, args...)})
}

// scanWorkspaceList parses a whole body, handing each workspace to lb as
// soon as it is read: the workspace's wire form, and its bases' in the
// scanner's scratch array, are reused for the next one, so the wire form of
// a large list never exists whole. listFound is false when there is no
// workspace_list array (a shape error, not a syntax error).
//
// b is read through a string that shares its memory (src): the caller must
// not change b while the decoded list is in use.
func scanWorkspaceList(b []byte, fields Fields, lb *listBuilder) (starred []wireDTable, listFound bool, err error) {
	s := &scanner{b: b, src: unsafe.String(unsafe.SliceData(b), len(b)), fields: fields}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(syntaxError)
			if !ok {
				panic(r)
			}
			starred, listFound, err = nil, false, errors.New(se.msg)
		}
	}()
	s.ws()
	if s.i >= len(s.b) {
		s.fail("unexpected end of JSON input")
	}
	switch s.b[s.i] {
	case '{':
		for more := s.enterObject(); more; more = s.nextMember('}') {
			switch string(s.key()) {
			case "workspace_list":
				// As with encoding/json, a repeated member replaces the
				// earlier one.
				lb.reset()
				listFound = s.workspaces(lb.add)
			case "starred_dtable_list":
				// Its own copy: the scratch is reused by the workspaces.
				starred = slices.Clone(s.dtables())
				s.bases = s.bases[:0]
			default:
				s.skipValue()
			}
		}
	case 'n':
		s.literal("null")
	default:
		s.fail("want a JSON object, got %q", s.b[s.i])
	}
	s.ws()
	if s.i != len(s.b) {
		s.fail("trailing data after JSON value")
	}
	return starred, listFound, nil
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

func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		s.fail("unexpected end of JSON input")
	}
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
	switch c := s.peek(); c {
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

// key reads a member name and its colon. Names match case-insensitively
// as encoding/json matches struct fields. Callers switch on
// string(key), which Go compares without allocating.
func (s *scanner) key() []byte {
	if s.peek() != '"' {
		s.fail("want a member name")
	}
	start := s.i
	plain := s.str()
	k := s.b[start+1 : s.i-1]
	if !plain {
		var v string
		if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
			s.fail("member name: %v", err)
		}
		k = []byte(v)
	}
	if s.peek() != ':' {
		s.fail("want ':' after member name")
	}
	s.i++
	return foldKey(k)
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

// str consumes a string and reports whether it is plain: no escapes and
// valid UTF-8, so its bytes between the quotes are its value.
func (s *scanner) str() (plain bool) {
	s.i++ // opening quote
	plain = true
	ascii := true
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !ascii && !utf8.Valid(s.b[start:s.i-1]) {
				plain = false
			}
			return plain
		case c == '\\':
			plain = false
			s.i++
			if s.i >= len(s.b) {
				s.fail("unexpected end of JSON input")
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for k := 0; k < 4; k++ {
					if s.i >= len(s.b) || !isHex(s.b[s.i]) {
						s.fail("invalid \\u escape")
					}
					s.i++
				}
			default:
				s.fail("invalid escape %q", s.b[s.i])
			}
		case c < 0x20:
			s.fail("control character in string")
		default:
			if c >= utf8.RuneSelf {
				ascii = false
			}
			s.i++
		}
	}
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

// looseString decodes one value into dst, as looseString.UnmarshalJSON does,
// without a second pass for plain strings.
func (s *scanner) looseString(dst *looseString) {
	c := s.peek()
	start := s.i
	if c == '"' {
		if s.str() {
			dst.Value, dst.Set = s.src[start+1:s.i-1], true
			return
		}
		_ = dst.UnmarshalJSON(s.b[start:s.i])
		return
	}
	raw := s.skipValue()
	if c == '-' || isDigit(c) {
		// A number: UnmarshalJSON keeps its literal text.
		dst.Value, dst.Set = s.src[start:s.i], true
		return
	}
	_ = dst.UnmarshalJSON(raw)
}

func (s *scanner) looseBool(dst *looseBool) {
	raw := s.skipValue()
	switch string(raw) {
	case "true":
		dst.Value, dst.Set = true, true
	case "false":
		dst.Value, dst.Set = false, true
	default:
		_ = dst.UnmarshalJSON(raw)
	}
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

func (s *scanner) workspaces(add func(*wireWorkspace)) bool {
	isList := s.list(func() {
		var w wireWorkspace
		s.workspace(&w)
		add(&w)
		s.bases = s.bases[:0]
	})
	return isList
}

func (s *scanner) dtables() []wireDTable {
	mark := len(s.bases)
	s.list(func() {
		s.bases = append(s.bases, wireDTable{})
		s.dtable(&s.bases[len(s.bases)-1])
	})
	if len(s.bases) == mark {
		return nil
	}
	// Full slice expression: nothing appended to the list can reach the
	// next list's elements.
	return s.bases[mark:len(s.bases):len(s.bases)]
}

func (s *scanner) workspace(w *wireWorkspace) {
	for more := s.enterObject(); more; more = s.nextMember('}') {
		switch string(s.key()) {
		case "id":
			s.looseString(&w.ID)
		case "name":
			s.looseString(&w.Name)
		case "type":
			s.looseString(&w.Type)
		case "owner_type":
			s.looseString(&w.OwnerType)
		case "owner_name":
			s.looseString(&w.OwnerName)
		case "repo_id":
			s.looseString(&w.RepoID)
		case "group_id":
			s.looseString(&w.GroupID)
		case "group_owner":
			s.looseString(&w.GroupOwner)
		case "group_admins":
			_ = w.GroupAdmins.UnmarshalJSON(s.skipValue())
		case "group_member_count":
			_ = w.GroupMemberCount.UnmarshalJSON(s.skipValue())
		case "is_admin":
			s.looseBool(&w.IsAdmin)
		case "department_id":
			s.looseString(&w.DepartmentID)
		case "table_list":
			w.TableList = s.dtables()
		case "shared_table_list":
			w.SharedTableList = s.dtables()
		case "group_shared_dtables":
			w.GroupSharedDTabs = s.dtables()
		case "group_shared_views":
			w.GroupSharedViews = s.dtables()
		case "shared_view_list":
			w.SharedViewList = nil
			s.list(func() {
				w.SharedViewList = append(w.SharedViewList, wireSharedView{})
				s.sharedView(&w.SharedViewList[len(w.SharedViewList)-1])
			})
		case "folders":
			w.Folders = nil
			s.list(func() {
				w.Folders = append(w.Folders, wireFolder{})
				s.folder(&w.Folders[len(w.Folders)-1])
			})
		case "share_folders":
			w.ShareFolders = nil
			s.list(func() {
				w.ShareFolders = append(w.ShareFolders, wireShareFolder{})
				f := &w.ShareFolders[len(w.ShareFolders)-1]
				for more := s.enterObject(); more; more = s.nextMember('}') {
					switch string(s.key()) {
					case "id":
						s.looseString(&f.ID)
					case "name":
						s.looseString(&f.Name)
					case "username":
						s.looseString(&f.Username)
					default:
						s.skipValue()
					}
				}
			})
		default:
			s.skipValue()
		}
	}
}

func (s *scanner) dtable(d *wireDTable) {
	for more := s.enterObject(); more; more = s.nextMember('}') {
		var dst *looseString
		var need Fields // an optional field, decoded only when asked for
		switch string(s.key()) {
		case "id":
			dst = &d.ID
		case "workspace_id":
			dst = &d.WorkspaceID
		case "uuid":
			dst = &d.UUID
		case "name":
			dst = &d.Name
		case "creator":
			need = FieldCreator
			dst = &d.Creator
		case "modifier":
			need = FieldModifier
			dst = &d.Modifier
		case "created_at":
			need = FieldCreatedAt
			dst = &d.CreatedAt
		case "updated_at":
			need = FieldUpdatedAt
			dst = &d.UpdatedAt
		case "color":
			need = FieldColor
			dst = &d.Color
		case "text_color":
			need = FieldTextColor
			dst = &d.TextColor
		case "icon":
			need = FieldIcon
			dst = &d.Icon
		case "permission":
			need = FieldShare
			dst = &d.Permission
		case "from_user":
			need = FieldShare
			dst = &d.FromUser
		case "from_user_name":
			need = FieldShare
			dst = &d.FromUserName
		case "from_user_avatar":
			need = FieldShare
			dst = &d.FromUserAvatar
		case "from_group_id":
			need = FieldShare
			dst = &d.FromGroupID
		case "from_group_name":
			need = FieldShare
			dst = &d.FromGroupName
		case "share_id":
			need = FieldShare
			dst = &d.ShareID
		case "share_type":
			need = FieldShare
			dst = &d.ShareType
		case "dtable_share_id":
			need = FieldShare
			dst = &d.DTableShareID
		case "view_share_id":
			need = FieldShare
			dst = &d.ViewShareID
		case "shared_name":
			need = FieldShare
			dst = &d.SharedName
		case "starred":
			s.looseBool(&d.Starred)
			continue
		case "is_encrypted":
			if s.fields&FieldIsEncrypted == 0 {
				s.skipValue()
				continue
			}
			s.looseBool(&d.IsEncrypted)
			continue
		case "in_storage":
			if s.fields&FieldInStorage == 0 {
				s.skipValue()
				continue
			}
			s.looseBool(&d.InStorage)
			continue
		default:
			s.skipValue()
			continue
		}
		if need != 0 && s.fields&need == 0 {
			s.skipValue()
			continue
		}
		s.looseString(dst)
	}
}

func (s *scanner) sharedView(v *wireSharedView) {
	for more := s.enterObject(); more; more = s.nextMember('}') {
		var dst *looseString
		switch string(s.key()) {
		case "id":
			dst = &v.ID
		case "dtable_name":
			dst = &v.DTableName
		case "workspace_id":
			dst = &v.WorkspaceID
		case "from_user":
			dst = &v.FromUser
		case "from_user_name":
			dst = &v.FromUserName
		case "from_user_avatar":
			dst = &v.FromUserAvatar
		case "to_user":
			dst = &v.ToUser
		case "to_user_name":
			dst = &v.ToUserName
		case "permission":
			dst = &v.Permission
		case "table_id":
			dst = &v.TableID
		case "view_id":
			dst = &v.ViewID
		case "shared_name":
			dst = &v.SharedName
		case "color":
			dst = &v.Color
		case "text_color":
			dst = &v.TextColor
		case "icon":
			dst = &v.Icon
		case "share_id":
			dst = &v.ShareID
		case "share_type":
			dst = &v.ShareType
		default:
			s.skipValue()
			continue
		}
		s.looseString(dst)
	}
}

func (s *scanner) folder(f *wireFolder) {
	for more := s.enterObject(); more; more = s.nextMember('}') {
		switch string(s.key()) {
		case "id":
			s.looseString(&f.ID)
		case "name":
			s.looseString(&f.Name)
		case "workspace_id":
			s.looseString(&f.WorkspaceID)
		case "items":
			f.Items = nil
			s.list(func() {
				f.Items = append(f.Items, wireFolderItem{})
				it := &f.Items[len(f.Items)-1]
				for more := s.enterObject(); more; more = s.nextMember('}') {
					switch string(s.key()) {
					case "folder_id":
						s.looseString(&it.FolderID)
					case "item_type":
						s.looseString(&it.ItemType)
					case "item_id":
						s.looseString(&it.ItemID)
					default:
						s.skipValue()
					}
				}
			})
		default:
			s.skipValue()
		}
	}
}

package upstream

import "time"

// Fields says which optional fields of the bases in a workspace list a
// read needs. A query that shows names and update times has no use for
// colours, icons, share details or creation times; not decoding them
// saves most of the time parsing and the arena slots of a list. The
// identity of a base (id, uuid, name, workspace_id) and its star are
// always decoded, as is every workspace field.
//
// A read names the fields it can do without (Read.Omit). A list decoded
// with fewer than AllFields is for the request that asked for it only: the
// response cache asks for full lists, and coalescing keys calls by Omit.
type Fields uint32

// The optional base fields.
const (
	FieldCreatedAt Fields = 1 << iota
	FieldUpdatedAt
	FieldCreator
	FieldModifier
	FieldColor
	FieldTextColor
	FieldIcon
	FieldIsEncrypted
	FieldInStorage
	// FieldShare is every share detail: permission, from_*, share and view
	// share ids, shared_name.
	FieldShare

	AllFields = FieldShare<<1 - 1
)

// baseFields is every member of a base object in SeaTable's JSON that the
// decoder reads, and into which DTable field: adding an optional base
// field is one line here (with the model's field, and a Fields bit when
// reads may leave it out). Members not listed are validated and skipped.
// Names match case-insensitively, as encoding/json matched them; a
// repeated member's last usable value wins.
var baseFields = [...]baseField{
	{"id", 0, intText(func(d *DTable) *string { return &d.ID })},
	{"uuid", 0, decodeUUID},
	{"name", 0, text(func(d *DTable) *string { return &d.Name })},
	{"workspace_id", 0, intText(func(d *DTable) *string { return &d.WorkspaceID })},
	{"starred", 0, boolean(func(d *DTable) *bool { return &d.Starred })},
	{"created_at", FieldCreatedAt, optTime(func(d *DTable) **time.Time { return &d.CreatedAt })},
	{"updated_at", FieldUpdatedAt, optTime(func(d *DTable) **time.Time { return &d.UpdatedAt })},
	{"creator", FieldCreator, optText(func(d *DTable) **string { return &d.Creator })},
	{"modifier", FieldModifier, optText(func(d *DTable) **string { return &d.Modifier })},
	{"color", FieldColor, optText(func(d *DTable) **string { return &d.Color })},
	{"text_color", FieldTextColor, optText(func(d *DTable) **string { return &d.TextColor })},
	{"icon", FieldIcon, optText(func(d *DTable) **string { return &d.Icon })},
	{"is_encrypted", FieldIsEncrypted, optBool(func(d *DTable) **bool { return &d.IsEncrypted })},
	{"in_storage", FieldInStorage, optBool(func(d *DTable) **bool { return &d.InStorage })},
	{"permission", FieldShare, optText(func(d *DTable) **string { return &d.Permission })},
	{"from_user", FieldShare, optText(func(d *DTable) **string { return &d.FromUser })},
	{"from_user_name", FieldShare, optText(func(d *DTable) **string { return &d.FromUserName })},
	{"from_user_avatar", FieldShare, optText(func(d *DTable) **string { return &d.FromUserAvatar })},
	{"from_group_id", FieldShare, optText(func(d *DTable) **string { return &d.FromGroupID })},
	{"from_group_name", FieldShare, optText(func(d *DTable) **string { return &d.FromGroupName })},
	{"share_id", FieldShare, optText(func(d *DTable) **string { return &d.ShareID })},
	{"share_type", FieldShare, optText(func(d *DTable) **string { return &d.ShareType })},
	{"view_share_id", FieldShare, optText(func(d *DTable) **string { return &d.ViewShareID })},
	{"shared_name", FieldShare, optText(func(d *DTable) **string { return &d.SharedName })},
	// Older servers' name for share_id, used where share_id is absent.
	{"dtable_share_id", FieldShare, func(s *scanner, b *baseDecode) { b.altShareID, b.hasAltShareID = s.looseString() }},
}

// DTable is a base as listed in a workspace. Each field is read by its line
// in baseFields, above: a new field is added to both, here. An optional
// field's tag names the Fields bit a read must ask for to get it (the
// decoder tests check the decoder against the tags).
type DTable struct {
	ID string // numeric base id as decimal text
	// UUID is always 36 characters, lower case, with dashes.
	UUID        string
	Name        string
	WorkspaceID string
	CreatedAt   *time.Time `fields:"FieldCreatedAt"` // UTC, seconds precision
	UpdatedAt   *time.Time `fields:"FieldUpdatedAt"`
	Creator     *string    `fields:"FieldCreator"` // seed to typed generations only
	Modifier    *string    `fields:"FieldModifier"`
	Color       *string    `fields:"FieldColor"`
	TextColor   *string    `fields:"FieldTextColor"`
	Icon        *string    `fields:"FieldIcon"`
	// Starred is true if any sign in the response says so: the base's own
	// flag, the starred pseudo-workspace, or starred_dtable_list.
	Starred     bool
	IsEncrypted *bool `fields:"FieldIsEncrypted"`
	InStorage   *bool `fields:"FieldInStorage"`

	// Share details, set on bases shared to the caller.
	Permission     *string `fields:"FieldShare"`
	FromUser       *string `fields:"FieldShare"`
	FromUserName   *string `fields:"FieldShare"`
	FromUserAvatar *string `fields:"FieldShare"`
	FromGroupID    *string `fields:"FieldShare"`
	FromGroupName  *string `fields:"FieldShare"`
	ShareID        *string `fields:"FieldShare"`
	ShareType      *string `fields:"FieldShare"`
	ViewShareID    *string `fields:"FieldShare"`
	SharedName     *string `fields:"FieldShare"`
}

// CopyShare sets d's share details (the fields SeaTable adds to a base
// shared with the caller, except a view share's own) to src's: one base
// listed several times takes them from the list that shares it.
func (d *DTable) CopyShare(src *DTable) {
	d.Permission, d.FromUser, d.FromUserName, d.FromUserAvatar = src.Permission, src.FromUser, src.FromUserName, src.FromUserAvatar
	d.FromGroupID, d.FromGroupName, d.ShareID, d.ShareType = src.FromGroupID, src.FromGroupName, src.ShareID, src.ShareType
}

// baseField is one member of a base object: its name in SeaTable's JSON,
// the Fields bit a read must ask for (0: always decoded), and how its
// value is read into the base being decoded.
type baseField struct {
	name   string
	need   Fields
	decode func(*scanner, *baseDecode)
}

// baseDecode is the base being decoded and what its members leave for
// the end of the object.
type baseDecode struct {
	d             *DTable
	a             *arena
	altShareID    string
	hasAltShareID bool
}

// baseFieldIndex finds a member name in baseFields.
var baseFieldIndex = func() memberIndex {
	names := make([]string, len(baseFields))
	for i, f := range baseFields {
		names[i] = f.name
	}
	return newMemberIndex(names)
}()

// baseKeys are baseFields' names as the scanner guesses them (keyIs).
var baseKeys = func() (k [len(baseFields)]knownKey) {
	for i, f := range baseFields {
		k[i] = newKnownKey(f.name)
	}
	return k
}()

// The ways a base member is read; each skips a value of another type
// (loose.go's rules), leaving the field as it was.

// text reads a string (or a number's literal text).
func text(field func(*DTable) *string) func(*scanner, *baseDecode) {
	return func(s *scanner, b *baseDecode) {
		if v, ok := s.looseString(); ok {
			*field(b.d) = v
		}
	}
}

// intText reads an integer id as its decimal text ("" when not one).
func intText(field func(*DTable) *string) func(*scanner, *baseDecode) {
	return func(s *scanner, b *baseDecode) {
		if v, ok := s.plainID(); ok {
			*field(b.d) = v
			return
		}
		if v, ok := s.looseString(); ok {
			*field(b.d) = idText(v)
		}
	}
}

func boolean(field func(*DTable) *bool) func(*scanner, *baseDecode) {
	return func(s *scanner, b *baseDecode) {
		if v, ok := s.looseBool(); ok {
			*field(b.d) = v
		}
	}
}

// optText reads an optional string: nil unless sent.
func optText(field func(*DTable) **string) func(*scanner, *baseDecode) {
	return func(s *scanner, b *baseDecode) {
		if v, ok := s.looseString(); ok {
			if p := field(b.d); *p != nil {
				**p = v // a repeated member: its slot is still private
			} else {
				*p = b.a.str(v)
			}
		}
	}
}

func optBool(field func(*DTable) **bool) func(*scanner, *baseDecode) {
	return func(s *scanner, b *baseDecode) {
		if v, ok := s.looseBool(); ok {
			if p := field(b.d); *p != nil {
				**p = v
			} else {
				*p = b.a.bool(v)
			}
		}
	}
}

// optTime reads a timestamp (parseTime); one that cannot be read is nil.
func optTime(field func(*DTable) **time.Time) func(*scanner, *baseDecode) {
	return func(s *scanner, b *baseDecode) {
		p := field(b.d)
		t, ok := s.timestamp()
		if ok {
			if *p != nil {
				**p = t
			} else {
				*p = b.a.time(t)
			}
			return
		}
		v, ok := s.looseString()
		if !ok {
			return
		}
		t, ok = parseTimeText(v)
		switch {
		case !ok:
			*p = nil
		case *p != nil:
			**p = t
		default:
			*p = b.a.time(t)
		}
	}
}

// decodeUUID reads the uuid, normalised; "" (the entry is no base) when
// it is not one.
func decodeUUID(s *scanner, b *baseDecode) {
	if v, ok := s.canonicalUUID(); ok {
		b.d.UUID = v
		return
	}
	if v, ok := s.looseString(); ok {
		b.d.UUID = NormalizeUUID(v)
	}
}

// memberIndex finds member names in a fixed list: an open-addressed table
// hashed on the name's length and outer bytes, so a lookup is a hash and
// usually one comparison.
type memberIndex struct {
	slot  [128]uint8 // index+1 into names; 0 is empty
	names []string
}

func newMemberIndex(names []string) memberIndex {
	m := memberIndex{names: names}
	for i, n := range names {
		h := memberHash(n)
		for m.slot[h] != 0 {
			h = (h + 1) % uint8(len(m.slot))
		}
		m.slot[h] = uint8(i + 1)
	}
	return m
}

func memberHash[T string | []byte](k T) uint8 {
	if len(k) == 0 {
		return 0
	}
	return uint8(len(k)*13+int(k[0])*3+int(k[len(k)-1])*7) % 128
}

// find returns k's index in names, or -1.
func (m *memberIndex) find(k []byte) int {
	for h := memberHash(k); ; h = (h + 1) % uint8(len(m.slot)) {
		e := m.slot[h]
		if e == 0 {
			return -1
		}
		if m.names[e-1] == string(k) {
			return int(e - 1)
		}
	}
}

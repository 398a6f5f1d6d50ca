package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// errUnknownShape means the body is JSON but not the shape of any known
// generation of the workspace list.
var errUnknownShape = errors.New("not a SeaTable workspace list")

// DecodeWorkspaceListBytes decodes a GET /api/v2.1/workspaces/ body of any
// known generation. It fails only when the body is not JSON or has no
// workspace_list array; odd fields and odd entries are tolerated. The
// list's strings share body's memory (decoding copies no text), so body
// must not be changed afterwards.
func DecodeWorkspaceListBytes(body []byte) (*WorkspaceList, error) {
	return decodeWorkspaceList(body, AllFields)
}

// decodeWorkspaceList decodes body, leaving out the optional base fields
// not in fields.
//
// It reads the body once, validating it as encoding/json would and
// building the models as it goes (listDecoder); the members of SeaTable's
// four response generations are read with the loose types' rules
// (loose.go). The tests hold it to the encoding/json decoder it replaced
// (oracle_test.go) on every fixture and under fuzzing.
func decodeWorkspaceList(body []byte, fields Fields) (list *WorkspaceList, err error) {
	d := newListDecoder(body, fields)
	d.out = &WorkspaceList{Fields: fields}
	// A base takes about 250 bytes of the body (less with fewer fields):
	// room for them all at once.
	d.listed = make([]listedBase, 0, len(body)/200)
	d.a.expect(len(body)/250, fields)
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(syntaxError)
			if !ok {
				panic(r)
			}
			list, err = nil, fmt.Errorf("decode workspace list: %s", se.msg)
		}
	}()
	if !d.document() {
		return nil, fmt.Errorf("decode workspace list: workspace_list missing or not an array: %w", errUnknownShape)
	}
	d.finish()
	d.out.BodyBytes = len(body)
	return d.out, nil
}

// sizeHint returns how many bytes r will yield when it can tell, else 0.
func sizeHint(r io.Reader) int64 {
	switch h := r.(type) {
	case interface{ SizeHint() int64 }: // the client's response body
		return h.SizeHint()
	case interface{ Len() int }: // bytes.Reader, strings.Reader, bytes.Buffer
		return int64(h.Len())
	}
	return 0
}

// readBody reads r to the end into one buffer of the body's size. With
// the length known (sizeHint > 0: SeaTable's Content-Length) the buffer is
// allocated once and read into directly. Without it (a gzipped answer,
// which Go's transport unzips) the body is read into pooled chunks and
// copied once into a buffer of its exact size: growing one buffer by
// doubling allocated about twice the body and copied it as often.
//
// The buffer itself cannot be pooled: the decoded list's strings point
// into it (decodeWorkspaceList copies no text), and the list outlives the
// call in coalescing and the cache.
func readBody(r io.Reader, sizeHint int64) ([]byte, error) {
	const maxHint = 256 << 20
	if sizeHint > 0 && sizeHint <= maxHint {
		// MinRead spare bytes let the read see EOF without growing.
		buf := bytes.NewBuffer(make([]byte, 0, sizeHint+bytes.MinRead))
		if _, err := buf.ReadFrom(r); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	var chunks []*[]byte
	defer func() {
		for _, c := range chunks {
			bodyChunks.Put(c)
		}
	}()
	size := 0
	for {
		c := bodyChunks.Get().(*[]byte)
		chunks = append(chunks, c)
		n, err := io.ReadFull(r, *c)
		size += n
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	body := make([]byte, 0, size)
	for _, c := range chunks {
		body = append(body, (*c)[:min(len(*c), size-len(body))]...)
	}
	return body, nil
}

// bodyChunk is the size of the pieces a body of unknown length is read
// in; bodyChunks keeps them between calls (a cache, holding no data once
// readBody returns).
const bodyChunk = 64 << 10

var bodyChunks = sync.Pool{New: func() any { c := make([]byte, bodyChunk); return &c }}

// listDecoder builds a WorkspaceList from the scanner's walk.
type listDecoder struct {
	scanner
	fields Fields
	a      arena
	out    *WorkspaceList
	// bases collects the bases of the list being read; each list is then
	// copied into the arena at its exact length.
	bases []*DTable
	// base is the base being read (dtable), kept here so that handing it
	// to baseFields' decoders does not move it to the heap.
	base baseDecode
	// follows[e] is the index in baseFields of the member that followed
	// member e in the last base read (-1: none known yet); see dtable.
	follows [len(baseFields) + 2]int8
	// starred are the uuids starred anywhere: a base's own flag, the
	// starred pseudo-workspace; starredTop is the 2020 starred_dtable_list.
	starred    []string
	starredTop []string
	// listed are the bases of the workspaces' lists with a word of their
	// uuid, for finish to look through without visiting every base.
	listed []listedBase
}

type listedBase struct {
	key  uint64 // uuidKey(d.UUID)
	base *DTable
}

// uuidKey is the first eight characters of a normalised uuid as a word.
func uuidKey(u string) uint64 {
	_ = u[7]
	return uint64(u[0]) | uint64(u[1])<<8 | uint64(u[2])<<16 | uint64(u[3])<<24 |
		uint64(u[4])<<32 | uint64(u[5])<<40 | uint64(u[6])<<48 | uint64(u[7])<<56
}

// States of listDecoder.follows beside the indexes of baseFields.
const (
	startOfBase      = len(baseFields)
	unknownBaseField = len(baseFields) + 1
)

func newListDecoder(body []byte, fields Fields) *listDecoder {
	d := &listDecoder{scanner: newScanner(body), fields: fields}
	for i := range d.follows {
		d.follows[i] = -1
	}
	return d
}

// document reads the whole body; false when it has no workspace_list
// array (a shape error, not a syntax error).
func (d *listDecoder) document() (listFound bool) {
	d.ws()
	if d.i >= len(d.b) {
		d.fail("unexpected end of JSON input")
	}
	switch d.b[d.i] {
	case '{':
		for more := d.enterObject(); more; more = d.nextMember('}') {
			switch string(d.key()) {
			case "workspace_list":
				// As with encoding/json, a repeated member replaces the
				// earlier one.
				d.out.Workspaces, d.starred, d.listed = nil, d.starred[:0], d.listed[:0]
				listFound = d.list(d.workspace)
			case "starred_dtable_list":
				d.starredTop = d.starredTop[:0]
				d.list(d.starredEntry)
			default:
				d.skipValue()
			}
		}
	case 'n':
		d.literal("null")
	default:
		d.fail("want a JSON object, got %q", d.b[d.i])
	}
	d.ws()
	if d.i != len(d.b) {
		d.fail("trailing data after JSON value")
	}
	return listFound
}

// starredEntry reads one entry of starred_dtable_list: only its uuid counts.
func (d *listDecoder) starredEntry() {
	uuid := ""
	for more := d.enterObject(); more; more = d.nextMember('}') {
		if string(d.key()) != "uuid" {
			d.skipValue()
			continue
		}
		if v, ok := d.looseString(); ok {
			uuid = v
		}
	}
	if u := NormalizeUUID(uuid); u != "" {
		d.starredTop = append(d.starredTop, u)
	}
}

// workspaceMembers are a workspace's scalar members, kept until the
// object ends: its type decides which list holds its bases and whether
// they belong to it, and its name may come from owner_name.
type workspaceMembers struct {
	id, name, typ, ownerType, ownerName, repoID looseString
	groupID, groupOwner, departmentID           looseString
	groupAdmins                                 looseStrings
	groupMemberCount                            looseInt
	isAdmin                                     looseBool

	tables, sharedTables []*DTable
}

// workspace reads one entry of workspace_list.
func (d *listDecoder) workspace() {
	var m workspaceMembers
	ws := &Workspace{GroupSharedTables: []*DTable{}, GroupSharedViews: []*DTable{}}
	for more := d.enterObject(); more; more = d.nextMember('}') {
		switch string(d.key()) {
		case "id":
			d.member(&m.id)
		case "name":
			d.member(&m.name)
		case "type":
			d.member(&m.typ)
		case "owner_type":
			d.member(&m.ownerType)
		case "owner_name":
			d.member(&m.ownerName)
		case "repo_id":
			d.member(&m.repoID)
		case "group_id":
			d.member(&m.groupID)
		case "group_owner":
			d.member(&m.groupOwner)
		case "group_admins":
			_ = m.groupAdmins.UnmarshalJSON(d.skipValue())
		case "group_member_count":
			_ = m.groupMemberCount.UnmarshalJSON(d.skipValue())
		case "is_admin":
			if v, ok := d.looseBool(); ok {
				m.isAdmin = looseBool{Value: v, Set: true}
			}
		case "department_id":
			d.member(&m.departmentID)
		case "table_list":
			m.tables = d.dtables()
		case "shared_table_list":
			m.sharedTables = d.dtables()
		case "group_shared_dtables":
			ws.GroupSharedTables = d.dtables()
		case "group_shared_views":
			ws.GroupSharedViews = d.dtables()
		case "shared_view_list":
			ws.SharedViews = nil
			d.list(func() { ws.SharedViews = append(ws.SharedViews, d.sharedView()) })
		case "folders":
			ws.Folders = nil
			d.list(func() { ws.Folders = append(ws.Folders, d.folder()) })
		case "share_folders":
			ws.ShareFolders = nil
			d.list(func() { ws.ShareFolders = append(ws.ShareFolders, d.shareFolder()) })
		default:
			d.skipValue()
		}
	}
	d.addWorkspace(ws, &m)
}

// member reads a loose string member; a value of another type leaves dst
// as it was, as looseString.UnmarshalJSON does.
func (d *listDecoder) member(dst *looseString) {
	if v, ok := d.looseString(); ok {
		*dst = looseString{Value: v, Set: true}
	}
}

// addWorkspace completes ws from its members and appends it.
func (d *listDecoder) addWorkspace(ws *Workspace, m *workspaceMembers) {
	ws.ID = m.id.id()
	ws.Type = workspaceType(m.typ, m.ownerType)
	ws.OwnerName = d.optStr(m.ownerName)
	ws.RepoID = d.optStr(m.repoID)
	ws.GroupOwner = d.optStr(m.groupOwner)
	ws.GroupAdmins = []string(m.groupAdmins)
	ws.GroupMemberCount = m.groupMemberCount.ptr()
	if m.isAdmin.Set {
		ws.IsAdmin = d.a.bool(m.isAdmin.Value)
	}
	if g := m.groupID.id(); g != "" {
		ws.GroupID = d.a.str(g)
	}
	if dep := m.departmentID.id(); dep != "" {
		ws.DepartmentID = d.a.str(dep)
	}
	switch {
	case m.name.Set && m.name.Value != "":
		ws.Name = m.name.Value
	case m.ownerName.Set:
		ws.Name = m.ownerName.Value
	}
	pseudo := ws.Type == WorkspaceStarred || ws.Type == WorkspaceShared
	if ws.ID == "" && pseudo {
		ws.ID = string(ws.Type)
	}
	ws.Tables = m.tables
	if ws.Type == WorkspaceShared {
		ws.Tables = m.sharedTables
	}
	if ws.Tables == nil {
		ws.Tables = []*DTable{}
	}
	// Bases without their own workspace_id belong to the entry listing
	// them, unless that entry is a pseudo-workspace with no real id.
	for _, t := range ws.Tables {
		if t.WorkspaceID == "" && !pseudo {
			t.WorkspaceID = ws.ID
		}
		if t.Starred || ws.Type == WorkspaceStarred {
			d.starred = append(d.starred, t.UUID)
		}
		d.listed = append(d.listed, listedBase{uuidKey(t.UUID), t})
	}
	for _, t := range ws.GroupSharedTables {
		if t.Starred {
			d.starred = append(d.starred, t.UUID)
		}
		d.listed = append(d.listed, listedBase{uuidKey(t.UUID), t})
	}
	for _, t := range ws.GroupSharedViews {
		d.listed = append(d.listed, listedBase{uuidKey(t.UUID), t})
	}
	d.out.Workspaces = append(d.out.Workspaces, ws)
}

func (d *listDecoder) optStr(s looseString) *string {
	if !s.Set {
		return nil
	}
	return d.a.str(s.Value)
}

func workspaceType(typ, ownerType looseString) WorkspaceType {
	t := strings.ToLower(strings.TrimSpace(typ.Value))
	if t == "" {
		// 2020 servers said owner_type "Personal" / "Group" instead.
		t = strings.ToLower(strings.TrimSpace(ownerType.Value))
	}
	switch WorkspaceType(t) {
	case WorkspacePersonal, WorkspaceGroup, WorkspaceStarred, WorkspaceShared:
		return WorkspaceType(t)
	}
	return ""
}

// dtables reads a list of bases; entries that are no base (no usable
// uuid) take no slot. Not an array: an empty list.
func (d *listDecoder) dtables() []*DTable {
	mark := len(d.bases)
	d.list(func() {
		if t := d.dtable(); t != nil {
			d.bases = append(d.bases, t)
		}
	})
	list := d.a.dtables(d.bases[mark:])
	d.bases = d.bases[:mark]
	return list
}

// dtable reads one base object through baseFields, or returns nil when
// it has no usable uuid: without one a base can be neither identified nor
// looked up.
func (d *listDecoder) dtable() *DTable {
	d.base = baseDecode{d: d.a.dtable(), a: &d.a}
	prev := startOfBase
	for more := d.enterObject(); more; more = d.nextMember('}') {
		if d.peek() != '"' {
			d.fail("want a member name")
		}
		// A server sends the members of its bases in one order: guess
		// that the member after prev is the one that followed it last
		// time, which saves reading the name and looking it up.
		e := int(d.follows[prev])
		if e < 0 || !d.keyIs(&baseKeys[e]) {
			e = baseFieldIndex.find(d.key())
			if e < 0 {
				d.follows[prev] = -1
				prev = unknownBaseField
				d.skipValue()
				continue
			}
			d.follows[prev] = int8(e)
		}
		prev = e
		f := &baseFields[e]
		if f.need != 0 && d.fields&f.need == 0 {
			d.skipValue()
			continue
		}
		f.decode(&d.scanner, &d.base)
	}
	return d.base.finish()
}

// decodeBase reads one base object from raw (a write's answer) with every
// field; nil when raw is not an object holding a base. A base with no
// workspace_id of its own belongs to home.
func decodeBase(raw []byte, home string) (base *DTable) {
	d := newListDecoder(raw, AllFields)
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(syntaxError); !ok {
				panic(r)
			}
			base = nil
		}
	}()
	if d.peek() != '{' {
		return nil
	}
	base = d.dtable()
	if d.ws(); d.i != len(d.b) {
		return nil
	}
	if base != nil && base.WorkspaceID == "" {
		base.WorkspaceID = home
	}
	return base
}

// finish applies what the base's members left for the end of the object.
func (b *baseDecode) finish() *DTable {
	if b.d.UUID == "" {
		b.a.unget(b.d)
		return nil
	}
	if b.d.ShareID == nil && b.hasAltShareID {
		b.d.ShareID = b.a.str(b.altShareID)
	}
	return b.d
}

func (d *listDecoder) sharedView() *SharedView {
	v := &SharedView{}
	for more := d.enterObject(); more; more = d.nextMember('}') {
		var dst **string
		switch string(d.key()) {
		case "id":
			if s, ok := d.looseString(); ok {
				v.ID = idText(s)
			}
			continue
		case "dtable_name":
			if s, ok := d.looseString(); ok {
				v.DTableName = s
			}
			continue
		case "workspace_id":
			if s, ok := d.looseString(); ok {
				v.WorkspaceID = nil
				if id := idText(s); id != "" {
					v.WorkspaceID = d.a.str(id)
				}
			}
			continue
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
			d.skipValue()
			continue
		}
		if s, ok := d.looseString(); ok {
			*dst = d.a.str(s)
		}
	}
	return v
}

func (d *listDecoder) folder() *Folder {
	f := &Folder{}
	for more := d.enterObject(); more; more = d.nextMember('}') {
		switch string(d.key()) {
		case "id":
			if s, ok := d.looseString(); ok {
				f.ID = idText(s)
			}
		case "name":
			if s, ok := d.looseString(); ok {
				f.Name = s
			}
		case "workspace_id":
			if s, ok := d.looseString(); ok {
				f.WorkspaceID = nil
				if id := idText(s); id != "" {
					f.WorkspaceID = d.a.str(id)
				}
			}
		case "items":
			f.Items = nil
			d.list(func() { f.Items = append(f.Items, d.folderItem()) })
		default:
			d.skipValue()
		}
	}
	return f
}

func (d *listDecoder) folderItem() FolderItem {
	var it FolderItem
	for more := d.enterObject(); more; more = d.nextMember('}') {
		var dst *string
		switch string(d.key()) {
		case "item_type":
			dst = &it.ItemType
		case "item_id":
			dst = &it.ItemID
		default:
			d.skipValue()
			continue
		}
		if s, ok := d.looseString(); ok {
			*dst = s
		}
	}
	if u := NormalizeUUID(it.ItemID); u != "" {
		it.ItemID = u
	}
	return it
}

func (d *listDecoder) shareFolder() *ShareFolder {
	f := &ShareFolder{}
	for more := d.enterObject(); more; more = d.nextMember('}') {
		switch string(d.key()) {
		case "id":
			if s, ok := d.looseString(); ok {
				f.ID = idText(s)
			}
		case "name":
			if s, ok := d.looseString(); ok {
				f.Name = s
			}
		case "username":
			if s, ok := d.looseString(); ok {
				f.Username = d.a.str(s)
			}
		default:
			d.skipValue()
		}
	}
	return f
}

// finish marks the bases starred anywhere (including the 2020 top-level
// starred_dtable_list) as starred everywhere they are listed.
func (d *listDecoder) finish() {
	if d.out.Workspaces == nil {
		d.out.Workspaces = []*Workspace{}
	}
	starred := append(d.starred, d.starredTop...)
	if len(starred) == 0 {
		return
	}
	if len(starred) > 8 {
		set := make(map[string]bool, len(starred))
		for _, u := range starred {
			set[u] = true
		}
		for _, l := range d.listed {
			if !l.base.Starred && set[l.base.UUID] {
				l.base.Starred = true
			}
		}
		return
	}
	// Few bases are starred: comparing a word with each is cheaper than
	// hashing every uuid of a large list.
	var keys [8]uint64
	for i, u := range starred {
		keys[i] = uuidKey(u)
	}
	for _, l := range d.listed {
		for i, k := range keys[:len(starred)] {
			if l.key == k && !l.base.Starred && l.base.UUID == starred[i] {
				l.base.Starred = true
			}
		}
	}
}

// NormalizeUUID returns u as 36 lower-case characters with dashes, accepting
// the 32-hex form older servers and JWTs use. It returns "" when u is not a
// UUID in either form.
func NormalizeUUID(u string) string {
	if isCanonicalUUID(u) {
		// What current servers send: no work, no allocation.
		return u
	}
	u = strings.ToLower(strings.TrimSpace(u))
	u = strings.TrimSuffix(strings.TrimPrefix(u, "{"), "}")
	hex := strings.ReplaceAll(u, "-", "")
	if len(hex) != 32 || (len(u) != 32 && len(u) != 36) {
		return ""
	}
	for _, c := range hex {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return ""
		}
	}
	if len(u) == 36 && (u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-') {
		return ""
	}
	return hex[0:8] + "-" + hex[8:12] + "-" + hex[12:16] + "-" + hex[16:20] + "-" + hex[20:32]
}

// isCanonicalUUID reports whether u is already 36 lower-case characters with
// dashes in place.
func isCanonicalUUID(u string) bool {
	if len(u) != 36 || u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' {
		return false
	}
	// One table lookup per character and no branch until the end.
	hex := lowerHex[u[0]] & lowerHex[u[1]] & lowerHex[u[2]] & lowerHex[u[3]] &
		lowerHex[u[4]] & lowerHex[u[5]] & lowerHex[u[6]] & lowerHex[u[7]] &
		lowerHex[u[9]] & lowerHex[u[10]] & lowerHex[u[11]] & lowerHex[u[12]] &
		lowerHex[u[14]] & lowerHex[u[15]] & lowerHex[u[16]] & lowerHex[u[17]] &
		lowerHex[u[19]] & lowerHex[u[20]] & lowerHex[u[21]] & lowerHex[u[22]]
	for i := 24; i < 36; i++ {
		hex &= lowerHex[u[i]]
	}
	return hex == 1
}

// lowerHex is 1 for the bytes 0-9 and a-f.
var lowerHex = func() (t [256]uint8) {
	for _, c := range "0123456789abcdef" {
		t[c] = 1
	}
	return t
}()

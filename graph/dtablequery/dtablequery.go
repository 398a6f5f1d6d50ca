// Package dtablequery filters, orders and pages lists of bases for the
// GraphQL layer: SeaTable returns every base at once, so search, sort and
// Relay-style cursors are the facade's job. It works on in-memory lists only
// and never calls SeaTable.
package dtablequery

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/cases"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Limits of a page.
const (
	// DefaultPageSize is the page size when neither first nor last is given.
	DefaultPageSize = 100
	// MaxPageSize is the largest first or last accepted.
	MaxPageSize = 1000
)

// Fold returns s in a form for case-insensitive, normalisation-insensitive
// comparison: NFC, then Unicode full case folding (so "Straße" and "STRASSE"
// fold alike, and a decomposed "A\u0308" equals "Ä"), then NFC again because
// folding can leave a string unnormalised.
func Fold(s string) string {
	if isASCII(s) {
		// For ASCII, lower-casing is case folding and NFC is the identity.
		return strings.ToLower(s)
	}
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(s)))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Filter holds the conditions on bases; nil fields are not checked.
type Filter struct {
	NameContains  *string
	WorkspaceID   *string
	WorkspaceType upstream.WorkspaceType // "" = any
	Starred       *bool
	CreatedAfter  *time.Time // inclusive
	CreatedBefore *time.Time // exclusive
	UpdatedAfter  *time.Time // inclusive
	UpdatedBefore *time.Time // exclusive
	Color         *string
}

// ListedIn reports the workspaces that list a base (its own, the starred
// list, the shared list, a group it is shared into).
type ListedIn func(uuid string) []*upstream.Workspace

// Apply returns the bases in ds that match f, in their order.
func (f *Filter) Apply(ds []*upstream.DTable, listed ListedIn) []*upstream.DTable {
	if f == nil {
		return ds
	}
	var needle string
	if f.NameContains != nil {
		needle = Fold(*f.NameContains)
	}
	out := make([]*upstream.DTable, 0, len(ds))
	for _, d := range ds {
		if f.NameContains != nil && !strings.Contains(Fold(d.Name), needle) {
			continue
		}
		if f.Starred != nil && d.Starred != *f.Starred {
			continue
		}
		if f.Color != nil && (d.Color == nil || !strings.EqualFold(*d.Color, *f.Color)) {
			continue
		}
		if !inRange(d.CreatedAt, f.CreatedAfter, f.CreatedBefore) || !inRange(d.UpdatedAt, f.UpdatedAfter, f.UpdatedBefore) {
			continue
		}
		if (f.WorkspaceID != nil || f.WorkspaceType != "") && !f.matchesWorkspace(d, listed) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func (f *Filter) matchesWorkspace(d *upstream.DTable, listed ListedIn) bool {
	idOK := f.WorkspaceID == nil || d.WorkspaceID == *f.WorkspaceID
	typeOK := f.WorkspaceType == ""
	if idOK && typeOK {
		return true
	}
	for _, ws := range listed(d.UUID) {
		if (f.WorkspaceID == nil || ws.ID == *f.WorkspaceID) && (f.WorkspaceType == "" || ws.Type == f.WorkspaceType) {
			return true
		}
	}
	return false
}

func inRange(t, after, before *time.Time) bool {
	if after == nil && before == nil {
		return true
	}
	if t == nil {
		return false
	}
	return (after == nil || !t.Before(*after)) && (before == nil || t.Before(*before))
}

// Field is what bases are ordered by.
type Field string

// The orderable fields.
const (
	ByName      Field = "NAME"
	ByCreatedAt Field = "CREATED_AT"
	ByUpdatedAt Field = "UPDATED_AT"
)

// Order is a total order on bases: the field, then the uuid, ascending or
// descending; bases without the field's value come last either way. Names
// are compared by the Unicode Collation Algorithm with the root locale, so
// letters decide first and accents and case only break ties ("Ärger" sorts
// among the A's, "apple" before "Banana"), then by their bytes.
type Order struct {
	Field Field
	Desc  bool
}

// nameCollator holds a collator and a key buffer: neither is safe for
// concurrent use, so each Paginate or Sort call makes its own.
type nameCollator struct {
	c   *collate.Collator
	buf collate.Buffer
}

func collator() *nameCollator { return &nameCollator{c: collate.New(language.Und)} }

// key returns s's collation key. The buffer is reused (it is several KB);
// the key is copied out of it.
func (n *nameCollator) key(s string) string {
	k := string(n.c.KeyFromString(&n.buf, s))
	n.buf.Reset()
	return k
}

func (o Order) String() string {
	if o.Desc {
		return string(o.Field) + ":DESC"
	}
	return string(o.Field) + ":ASC"
}

// key is a base's position in an order; cursors carry it, so a cursor stays
// meaningful after the base it came from was renamed or deleted.
type key struct {
	null bool
	name string // raw name, for NAME
	coll string // collation key of name, for NAME
	unix int64  // for dates
	uuid string
}

func (o Order) keyOf(d *upstream.DTable, c *nameCollator) key {
	k := key{uuid: d.UUID}
	switch o.Field {
	case ByCreatedAt, ByUpdatedAt:
		t := d.CreatedAt
		if o.Field == ByUpdatedAt {
			t = d.UpdatedAt
		}
		if t == nil {
			k.null = true
		} else {
			k.unix = t.Unix()
		}
	default:
		k.name, k.coll = d.Name, c.key(d.Name)
	}
	return k
}

func (o Order) compare(a, b key) int {
	if a.null != b.null {
		if a.null {
			return 1
		}
		return -1
	}
	c := 0
	if !a.null {
		switch o.Field {
		case ByCreatedAt, ByUpdatedAt:
			c = cmpInt(a.unix, b.unix)
		default:
			if c = strings.Compare(a.coll, b.coll); c == 0 {
				c = strings.Compare(a.name, b.name)
			}
		}
	}
	if c == 0 {
		c = strings.Compare(a.uuid, b.uuid)
	}
	if o.Desc {
		c = -c
	}
	return c
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type keyed struct {
	d *upstream.DTable
	k key
}

func (o Order) sorted(ds []*upstream.DTable, c *nameCollator) []*keyed {
	// Sorting pointers moves 8 bytes per swap instead of the whole key.
	store := make([]keyed, len(ds))
	items := make([]*keyed, len(ds))
	for i, d := range ds {
		store[i] = keyed{d: d, k: o.keyOf(d, c)}
		items[i] = &store[i]
	}
	// The order is total (the uuid breaks ties), so an unstable sort gives
	// the same result as a stable one, faster.
	slices.SortFunc(items, func(a, b *keyed) int { return o.compare(a.k, b.k) })
	return items
}

// Sort returns ds ordered by o (a new slice).
func Sort(ds []*upstream.DTable, o Order) []*upstream.DTable {
	items := o.sorted(ds, collator())
	out := make([]*upstream.DTable, len(items))
	for i, it := range items {
		out[i] = it.d
	}
	return out
}

// Args are the Relay paging arguments.
type Args struct {
	First, Last   *int
	After, Before *string
}

// Page is one page of an ordered list.
type Page struct {
	Nodes           []*upstream.DTable
	Cursors         []string
	HasNextPage     bool
	HasPreviousPage bool
	TotalCount      int
}

// Paginate orders ds by o and cuts the page args ask for. hasNextPage and
// hasPreviousPage say whether anything in ds lies after or before the page,
// whichever direction the client pages in.
func Paginate(ds []*upstream.DTable, o Order, args Args) (*Page, error) {
	first, last := args.First, args.Last
	for _, n := range []struct {
		name string
		v    *int
	}{{"first", first}, {"last", last}} {
		if n.v != nil && (*n.v < 0 || *n.v > MaxPageSize) {
			return nil, apperr.New(apperr.BadUserInput, fmt.Sprintf("%s must be between 0 and %d", n.name, MaxPageSize))
		}
	}
	if first == nil && last == nil {
		n := DefaultPageSize
		first = &n
	}
	// An empty cursor is no cursor, as graphql-relay-js reads it: Go
	// clients such as genqlient send unset optional strings as "".
	if args.After != nil && *args.After == "" {
		args.After = nil
	}
	if args.Before != nil && *args.Before == "" {
		args.Before = nil
	}
	c := collator()
	items := o.sorted(ds, c)
	start, end := 0, len(items)
	if args.After != nil {
		k, err := decodeCursor(*args.After, o, c, "after")
		if err != nil {
			return nil, err
		}
		start, _ = slices.BinarySearchFunc(items, k, func(it *keyed, k key) int {
			// Position of the first item strictly after k.
			if o.compare(it.k, k) <= 0 {
				return -1
			}
			return 1
		})
	}
	if args.Before != nil {
		k, err := decodeCursor(*args.Before, o, c, "before")
		if err != nil {
			return nil, err
		}
		end, _ = slices.BinarySearchFunc(items, k, func(it *keyed, k key) int {
			if o.compare(it.k, k) < 0 {
				return -1
			}
			return 1
		})
	}
	end = max(end, start)
	if first != nil && end-start > *first {
		end = start + *first
	}
	if last != nil && end-start > *last {
		start = end - *last
	}
	p := &Page{
		Nodes:           make([]*upstream.DTable, 0, end-start),
		Cursors:         make([]string, 0, end-start),
		HasPreviousPage: start > 0,
		HasNextPage:     end < len(items),
		TotalCount:      len(items),
	}
	for _, it := range items[start:end] {
		p.Nodes = append(p.Nodes, it.d)
		p.Cursors = append(p.Cursors, encodeCursor(it.k, o))
	}
	return p, nil
}

// cursorVersion is bumped when the payload changes; older cursors are then
// rejected as malformed rather than misread.
const cursorVersion = 1

// cursor is the payload behind the opaque string: the order it belongs to
// and the key of the base it marks.
type cursor struct {
	V     int     `json:"v"`
	Order string  `json:"o"`
	Name  *string `json:"n,omitempty"`
	Time  *int64  `json:"t,omitempty"`
	UUID  string  `json:"u"`
}

// CursorOf is d's cursor in order o: what Paginate gives d's edge, for a
// base that is not on any page yet (a mutation's new base).
func CursorOf(d *upstream.DTable, o Order) string {
	return encodeCursor(o.keyOf(d, collator()), o)
}

func encodeCursor(k key, o Order) string {
	c := cursor{V: cursorVersion, Order: o.String(), UUID: k.uuid}
	switch {
	case o.Field == ByName:
		c.Name = &k.name
	case !k.null:
		c.Time = &k.unix
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, o Order, coll *nameCollator, arg string) (key, error) {
	bad := apperr.New(apperr.BadUserInput, fmt.Sprintf("%s is not a valid cursor", arg))
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return key{}, bad
	}
	var c cursor
	if json.Unmarshal(b, &c) != nil || c.V != cursorVersion || upstream.NormalizeUUID(c.UUID) != c.UUID {
		return key{}, bad
	}
	if c.Order != o.String() {
		return key{}, apperr.New(apperr.BadUserInput, fmt.Sprintf("%s cursor belongs to orderBy %s, not %s", arg, c.Order, o))
	}
	k := key{uuid: c.UUID}
	switch {
	case o.Field == ByName:
		if c.Name == nil {
			return key{}, bad
		}
		k.name, k.coll = *c.Name, coll.key(*c.Name)
	case c.Time == nil:
		k.null = true
	default:
		k.unix = *c.Time
	}
	return k, nil
}

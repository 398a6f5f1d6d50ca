package upstream

import "context"

// Fields says which optional fields of the bases in a workspace list a
// read needs. A query that shows names and update times has no use for
// colours, icons, share details or creation times; not decoding them
// saves most of the time parsing and the arena slots of a list. The
// identity of a base (id, uuid, name, workspace_id) and its star are
// always decoded, as is every workspace field.
//
// A list decoded with fewer than AllFields is for the request that asked
// for it only: the response cache strips the mask and stores full lists,
// and coalescing keys calls by it.
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

type fieldsKey struct{}

// WithFields returns ctx asking reads made with it to decode only f.
func WithFields(ctx context.Context, f Fields) context.Context {
	return context.WithValue(ctx, fieldsKey{}, f|0)
}

// FieldsFrom returns the fields reads made with ctx decode: AllFields
// unless WithFields said otherwise.
func FieldsFrom(ctx context.Context) Fields {
	if f, ok := ctx.Value(fieldsKey{}).(Fields); ok {
		return f
	}
	return AllFields
}

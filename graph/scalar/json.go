package scalar

import (
	"encoding/json"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// MarshalRawJSON writes the JSON scalar: SeaTable's bytes verbatim, with no
// decoding and re-encoding of every cell (upstream decoded them once and
// keeps them as valid JSON). Empty is null.
func MarshalRawJSON(v json.RawMessage) graphql.Marshaler {
	if len(v) == 0 {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) { _, _ = w.Write(v) })
}

// UnmarshalRawJSON accepts any input value as JSON. The schema takes no
// JSON input today; this keeps the scalar complete.
func UnmarshalRawJSON(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, apperr.New(apperr.BadUserInput, "JSON: not a JSON value")
	}
	return b, nil
}

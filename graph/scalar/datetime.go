// Package scalar holds the schema's custom scalars.
package scalar

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// DateTimeLayout is the one output form: UTC, seconds precision.
const DateTimeLayout = "2006-01-02T15:04:05Z"

// MarshalDateTime writes t in UTC with seconds precision; a zero time is null.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(DateTimeLayout)))
	})
}

// UnmarshalDateTime accepts RFC 3339 with any offset (and fractional seconds).
// Anything else is the client's mistake (BAD_USER_INPUT), never INTERNAL: it
// must not be logged as a server error, and its message quotes at most the
// start of the value, however long the value is.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.New(apperr.BadUserInput, fmt.Sprintf("DateTime must be an RFC 3339 string, got %T", v))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, apperr.New(apperr.BadUserInput, "DateTime must be RFC 3339, e.g. 2024-01-02T03:04:05Z, got "+apperr.Echo(s))
	}
	return t.UTC(), nil
}

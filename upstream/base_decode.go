package upstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Decoders of the base server's answers (contract section 7.2). Like the
// list decoder they expect unknown members and loose types: a member of an
// unexpected type is treated as absent rather than failing the answer, and
// cell values are passed on byte for byte, never re-encoded (a number such
// as 0.1 or 12345678901234567890 must reach the client as SeaTable wrote it).

// wireMetadata is GET .../metadata/: {"metadata": {"tables": [...], "version": n}}.
type wireMetadata struct {
	Metadata *struct {
		Tables  looseList[wireTable] `json:"tables"`
		Version looseInt             `json:"version"`
	} `json:"metadata"`
}

type wireTable struct {
	ID      looseString           `json:"_id"`
	Name    looseString           `json:"name"`
	Columns looseList[wireColumn] `json:"columns"`
	Views   looseList[wireView]   `json:"views"`
}

type wireColumn struct {
	Key  looseString     `json:"key"`
	Name looseString     `json:"name"`
	Type looseString     `json:"type"`
	Data json.RawMessage `json:"data"`
}

type wireView struct {
	ID   looseString `json:"_id"`
	Name looseString `json:"name"`
	Type looseString `json:"type"`
}

var errNoMetadata = errors.New(`answer has no "metadata" object`)

// decodeMetadata reads a metadata answer. Tables without a name and columns
// without a key or name are dropped: nothing could address them.
func decodeMetadata(body []byte) (*BaseMetadata, error) {
	var w wireMetadata
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if w.Metadata == nil {
		return nil, errNoMetadata
	}
	md := &BaseMetadata{Tables: make([]Table, 0, len(w.Metadata.Tables)), Version: w.Metadata.Version.Value}
	for _, wt := range w.Metadata.Tables {
		if wt.Name.Value == "" {
			continue
		}
		t := Table{ID: wt.ID.Value, Name: wt.Name.Value,
			Columns: make([]Column, 0, len(wt.Columns)), Views: make([]View, 0, len(wt.Views))}
		for _, wc := range wt.Columns {
			if wc.Key.Value == "" || wc.Name.Value == "" {
				continue
			}
			c := Column{Key: wc.Key.Value, Name: wc.Name.Value, Type: wc.Type.Value}
			if d := bytes.TrimSpace(wc.Data); len(d) > 0 && !bytes.Equal(d, jsonNull) {
				c.Data = append(json.RawMessage(nil), d...)
			}
			t.Columns = append(t.Columns, c)
		}
		for _, wv := range wt.Views {
			if wv.Name.Value == "" {
				continue
			}
			t.Views = append(t.Views, View{ID: wv.ID.Value, Name: wv.Name.Value, Type: wv.Type.Value})
		}
		md.Tables = append(md.Tables, t)
	}
	return md, nil
}

// systemMembers are the members SeaTable adds to every row; they are not
// cells and are kept out of Row.Values. A column a user names like one of
// these could not be told apart from it, and SeaTable reserves them.
var systemMembers = map[string]bool{
	"_id": true, "_ctime": true, "_mtime": true, "_creator": true, "_last_modifier": true,
	"_locked": true, "_locked_by": true, "_archived": true, "_participants": true, "_seq": true,
}

var errNoRows = errors.New(`answer has no "rows" list`)

// decodeRows reads GET .../rows/: {"rows": [row, ...]}. Rows without an
// _id are dropped: nothing could address them.
func decodeRows(body []byte) ([]Row, error) {
	var w struct {
		Rows *[]json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("rows: %w", err)
	}
	if w.Rows == nil {
		return nil, errNoRows
	}
	rows := make([]Row, 0, len(*w.Rows))
	var keys []string
	for _, raw := range *w.Rows {
		r, ok, err := decodeRowInto(raw, &keys)
		if err != nil {
			return nil, err
		}
		if ok {
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// decodeOneRow reads GET .../rows/{id}/: the row object itself (current
// gateway), or {"row": {...}} as some servers wrap it. ok is false when the
// answer holds no row (an empty object), which callers treat as not found.
func decodeOneRow(body []byte) (r Row, ok bool, err error) {
	if r, ok, err = decodeRow(body); err != nil || ok {
		return r, ok, err
	}
	var w struct {
		Row json.RawMessage `json:"row"`
	}
	if json.Unmarshal(body, &w) != nil || len(w.Row) == 0 {
		return Row{}, false, nil
	}
	return decodeRow(w.Row)
}

// decodeRow reads one row object, keeping its cells' bytes and their order.
// ok is false for a JSON value that is not an object with an _id.
func decodeRow(raw []byte) (r Row, ok bool, err error) {
	if !json.Valid(raw) {
		return Row{}, false, errors.New("row: not valid JSON")
	}
	var keys []string
	return decodeRowInto(raw, &keys)
}

// decodeRowInto is decodeRow with a slice for the keys seen, reused across
// the rows of a page. raw must be valid JSON (the caller's json.Unmarshal
// checked it); members are then found by scanning, which is several times
// cheaper than a json.Decoder per row.
func decodeRowInto(raw []byte, seen *[]string) (r Row, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return Row{}, false, nil
	}
	*seen = (*seen)[:0]
	values := make([]byte, 0, len(raw))
	values = append(values, '{')
	i := 1
	for {
		i = skipSpace(raw, i)
		if raw[i] == '}' {
			break
		}
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
		keyStart := i
		i = stringEnd(raw, i)
		rawKey := raw[keyStart:i]
		i = skipSpace(raw, i)
		i = skipSpace(raw, i+1) // ':'
		valStart := i
		i = valueEnd(raw, i)
		v := raw[valStart:i]
		key := string(rawKey[1 : len(rawKey)-1])
		if bytes.IndexByte(rawKey, '\\') >= 0 {
			if json.Unmarshal(rawKey, &key) != nil {
				return Row{}, false, errors.New("row: bad member name")
			}
		}
		switch {
		case key == "_id":
			var s looseString
			_ = s.UnmarshalJSON(v)
			r.ID = s.Value
		case key == "_ctime":
			r.Created = rowTime(v)
		case key == "_mtime":
			r.Modified = rowTime(v)
		case systemMembers[key] || bytes.Equal(v, jsonNull) || contains(*seen, key):
			// Not cells; empty cells stay absent; a repeated member is
			// kept once (its first value, so Values stays an object).
		default:
			*seen = append(*seen, key)
			if len(values) > 1 {
				values = append(values, ',')
			}
			values = append(values, rawKey...)
			values = append(values, ':')
			if bytes.ContainsAny(v, " \t\r\n") {
				var buf bytes.Buffer
				if err := json.Compact(&buf, v); err != nil {
					return Row{}, false, fmt.Errorf("row: %w", err)
				}
				v = buf.Bytes()
			}
			values = append(values, v...)
		}
	}
	if r.ID == "" {
		return Row{}, false, nil
	}
	values = append(values, '}')
	r.Values = json.RawMessage(values)
	return r, true, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] ('"').
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the value starting at b[i], which
// is valid JSON.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// rowTime reads _ctime/_mtime ("2021-03-10T16:19:31.761+00:00"), keeping
// milliseconds; nil when absent or unparseable.
func rowTime(v []byte) *time.Time {
	var s looseString
	if len(v) > 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v, '\\') < 0 {
		s.Value, s.Set = string(v[1:len(v)-1]), true // the usual case, without a decoder
	} else {
		_ = s.UnmarshalJSON(v)
	}
	if s.Value == "" {
		return nil
	}
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s.Value)); err == nil {
		t = t.UTC()
		return &t
	}
	if t, ok := parseTime(s); ok {
		return &t
	}
	return nil
}

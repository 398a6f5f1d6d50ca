package upstream

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// referenceRow is the straightforward decoder of a row's cells (a
// json.Decoder walking the members) that the scanner in decodeRowInto must
// agree with byte for byte: the same id and the same Values.
func referenceRow(raw []byte) (id string, values []byte, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", nil, false
	}
	var out bytes.Buffer
	out.WriteByte('{')
	var seen []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", nil, false
		}
		key := t.(string)
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return "", nil, false
		}
		switch {
		case key == "_id":
			var s looseString
			_ = s.UnmarshalJSON(v)
			id = s.Value
		case key == "_ctime" || key == "_mtime" || systemMembers[key] || bytes.Equal(v, jsonNull) || contains(seen, key):
		default:
			seen = append(seen, key)
			if out.Len() > 1 {
				out.WriteByte(',')
			}
			var kc bytes.Buffer
			enc := json.NewEncoder(&kc)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(key)
			out.Write(bytes.TrimSuffix(kc.Bytes(), []byte("\n")))
			out.WriteByte(':')
			_ = json.Compact(&out, v)
		}
	}
	out.WriteByte('}')
	return id, out.Bytes(), id != ""
}

// FuzzDecodeBase: whatever a base server sends as metadata or rows, the
// decoders return a result or an error, never panic, and what they return
// holds what the resolvers rely on: named tables and columns, rows with an
// id whose Values is one valid JSON object without system members. Seeds:
// the golden inputs in testdata plus testdata/fuzz/FuzzDecodeBase.
func FuzzDecodeBase(f *testing.F) {
	for _, name := range []string{"base-metadata-current.json", "base-rows-current.json", "base-row-current.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if md, err := decodeMetadata(body); err == nil {
			if md == nil {
				t.Fatal("metadata: success without a result")
			}
			for _, tb := range md.Tables {
				if tb.Name == "" {
					t.Fatal("table without a name")
				}
				for _, c := range tb.Columns {
					if c.Key == "" || c.Name == "" || (c.Data != nil && !json.Valid(c.Data)) {
						t.Fatalf("column %+v", c)
					}
				}
			}
		} else if md != nil {
			t.Fatal("metadata: error with a result")
		}
		rows, err := decodeRows(body)
		if err != nil && rows != nil {
			t.Fatal("rows: error with rows")
		}
		if err == nil {
			var w struct{ Rows []json.RawMessage }
			_ = json.Unmarshal(body, &w)
			var want []Row
			for _, raw := range w.Rows {
				if id, values, ok := referenceRow(raw); ok {
					want = append(want, Row{ID: id, Values: values})
				}
			}
			if len(want) != len(rows) {
				t.Fatalf("%d rows, the reference reads %d", len(rows), len(want))
			}
			for i := range rows {
				// The reference re-encodes member names, which gives the
				// same bytes unless they hold escapes, invalid UTF-8 or
				// U+2028/9 (which encoding/json escapes).
				same := !bytes.Contains(body, []byte(`\\`)) && utf8.Valid(body) && !bytes.ContainsAny(body, "\u2028\u2029")
				if rows[i].ID != want[i].ID || (same && !bytes.Equal(rows[i].Values, want[i].Values)) {
					t.Fatalf("row %d: got %s %s, reference %s %s", i, rows[i].ID, rows[i].Values, want[i].ID, want[i].Values)
				}
			}
		}
		one, ok, err := decodeOneRow(body)
		if ok && err == nil {
			rows = append(rows, one)
		}
		for _, r := range rows {
			var m map[string]json.RawMessage
			if r.ID == "" || json.Unmarshal(r.Values, &m) != nil && !json.Valid(r.Values) {
				t.Fatalf("row %q with values %s", r.ID, r.Values)
			}
			if len(r.Values) == 0 || r.Values[0] != '{' {
				t.Fatalf("values are not an object: %s", r.Values)
			}
			for k := range m {
				if systemMembers[k] {
					t.Fatalf("system member %q in values", k)
				}
			}
		}
	})
}

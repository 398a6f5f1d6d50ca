package upstream

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

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

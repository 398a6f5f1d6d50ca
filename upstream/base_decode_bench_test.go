package upstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// benchRows is a page of 1000 rows of ten cells of the usual types.
func benchRows() []byte {
	var b bytes.Buffer
	b.WriteString(`{"rows":[`)
	for i := range 1000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"_id":"row%019d","_ctime":"2026-01-02T03:04:05.678+00:00","_mtime":"2026-01-02T03:04:05.678+00:00",`+
			`"_creator":"a@auth.local","_last_modifier":"a@auth.local","_locked":null,"Name":"Project %d","Budget":%d.5,`+
			`"Done":true,"Due":"2026-02-01","Tags":["a","b"],"Owner":["x@auth.local"],`+
			`"Tasks":[{"row_id":"Xy7fQ2pLr9SdEw0TzAbCdE","display_value":"Task 1"}],"Notes":"some text that is a bit longer than a name"}`, i, i, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkDecodeRows is the rows decoder (cells kept verbatim and in
// order); BenchmarkDecodeRowsMaps is the plain encoding/json decode into
// maps of raw cells it replaces, for a ratio on a noisy machine.
func BenchmarkDecodeRows(b *testing.B) {
	body := benchRows()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := decodeRows(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRowsMaps(b *testing.B) {
	body := benchRows()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var w struct{ Rows []map[string]json.RawMessage }
		if err := json.Unmarshal(body, &w); err != nil {
			b.Fatal(err)
		}
	}
}

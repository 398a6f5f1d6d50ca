package upstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// referenceDecode is the encoding/json decoder the scanner replaced, kept
// here as the oracle: the same wire types, decoded through their
// UnmarshalJSON methods, one json.RawMessage pass per nesting level.
func referenceDecode(body []byte) (*WorkspaceList, error) {
	var wire wireWorkspaceList
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&wire); err != nil {
		return nil, fmt.Errorf("decode workspace list: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("decode workspace list: trailing data after JSON value")
	}
	raw := bytes.TrimSpace(wire.WorkspaceList)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, fmt.Errorf("decode workspace list: %w", errUnknownShape)
	}
	var entries looseList[wireWorkspace]
	if err := entries.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	return normalize(entries, wire.Starred), nil
}

// sameDecoding reports how the scanner and the oracle disagree on body, or "".
func sameDecoding(body []byte) string {
	want, wantErr := referenceDecode(body)
	got, gotErr := DecodeWorkspaceListBytes(body)
	switch {
	case (wantErr == nil) != (gotErr == nil):
		return fmt.Sprintf("encoding/json err %v, scanner err %v", wantErr, gotErr)
	case wantErr != nil:
		if errors.Is(wantErr, errUnknownShape) != errors.Is(gotErr, errUnknownShape) {
			return fmt.Sprintf("shape errors differ: %v vs %v", wantErr, gotErr)
		}
		return ""
	}
	got.BodyBytes = 0
	if !reflect.DeepEqual(want, got) {
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		return fmt.Sprintf("decoded differently:\nencoding/json %s\nscanner       %s", w, g)
	}
	return ""
}

func TestScannerMatchesEncodingJSON(t *testing.T) {
	for _, name := range []string{fakeseatable.Seed, fakeseatable.Era2020, fakeseatable.Typed,
		fakeseatable.Current, fakeseatable.CurrentNoDetail, fakeseatable.Demo} {
		if d := sameDecoding(fakeseatable.Fixture(name)); d != "" {
			t.Errorf("%s: %s", name, d)
		}
	}
	for _, body := range [][]byte{fakeseatable.Generate(20, 10), []byte(`{"workspace_list":[{"i\u017f_admin":true,"\u212aey":1,"id":1}]}`),
		[]byte(`{"workspace_list":[{"iſ_admin":true,"id":1,"nameſ":2}]}`), []byte("{\"workspace_list\":[{\"id\":1,\"na\u212ae\":\"K\"}]}")} {
		if d := sameDecoding(body); d != "" {
			t.Errorf("%.60s: %s", body, d)
		}
	}
}

// FuzzScannerMatchesEncodingJSON checks the scanner against the
// encoding/json decoder it replaced on arbitrary input: both fail, or both
// produce the same list.
func FuzzScannerMatchesEncodingJSON(f *testing.F) {
	for _, name := range []string{fakeseatable.Seed, fakeseatable.Era2020, fakeseatable.Typed,
		fakeseatable.Current, fakeseatable.CurrentNoDetail, fakeseatable.Demo} {
		f.Add(fakeseatable.Fixture(name))
	}
	f.Add([]byte(`{"workspace_list":[{"id":"5","ID":6,"table_list":[null,"x",{"uuid":"ABCDEF0123454789ABCDEF0123456789","starred":"1"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if d := sameDecoding(body); d != "" {
			t.Fatal(d)
		}
	})
}

// The scanner reads canonical uuids, current servers' timestamps, plain
// integer ids and the literals true and false without the general value
// walk (canonicalUUID, timestamp, plainID, looseBool); each value that
// looks almost like one must fall back to the general reading and decode
// as the oracle decodes it.
func TestFastValuesMatchEncodingJSON(t *testing.T) {
	const u = "000f4240-03e8-4000-83e8-0000000f4240"
	values := []string{
		`"2025-01-01T09:00:00+01:00"`, `"2025-01-01T09:00:00Z"`, `"2025-01-01T09:00:00-00:30"`,
		`"2025-01-01T09:00:00z"`, `"2025-01-01t09:00:00Z"`, `"2024-02-29T12:00:00Z"`, `"2023-02-29T12:00:00Z"`,
		`"2025-01-01T09:00:00+01:0"`, `"2025-01-01T09:00:00+01:000"`, `"2025-01-01 09:00:00+01:00"`,
		`" 2025-01-01T09:00:00Z"`, `"2025-01-01T09:00:00Z "`, `"\u0032025-01-01T09:00:00Z"`, `"2025-01-01T09:00:00\u005a"`,
		`"2025-01-01T09:00:00.5Z"`, `"2025-13-01T09:00:00Z"`, `"1969-12-31T23:59:59Z"`, `"2170-01-01T00:00:00Z"`,
		`"0000-01-01T00:00:00Z"`, `"9999-12-31T23:59:59+23:59"`, `20250101`, `null`, `"2025-01-01T09:00:00Z\"`,
	}
	uuids := []string{
		`"` + u + `"`, `"` + strings.ToUpper(u) + `"`, `"` + strings.ReplaceAll(u, "-", "") + `"`, `"{` + u + `}"`,
		`"` + u + `0"`, `"` + u[:35] + `"`, `"` + u[:35] + `g"`, `"` + u[:8] + "_" + u[9:] + `"`, `"\u0030` + u[1:] + `"`,
		`"` + u + ` "`, `null`, `1`,
	}
	var bodies []string
	for _, v := range values {
		for _, member := range []string{"created_at", "updated_at", "Updated_At"} {
			base := `{"uuid":"` + u + `","` + member + `":` + v + `}`
			bodies = append(bodies,
				`{"workspace_list":[{"id":1,"table_list":[`+base+`]}]}`,
				`{"workspace_list":[{"id":1,"table_list":[{"uuid":"`+u+`","`+member+`": `+v+`}]}]}`,
				// The value at the end of the body: no bytes to read past it.
				`{"workspace_list":[{"id":1,"table_list":[{"uuid":"`+u+`","`+member+`":`+v)
		}
	}
	for _, v := range uuids {
		bodies = append(bodies,
			`{"workspace_list":[{"id":1,"table_list":[{"uuid":`+v+`,"name":"x"}]}]}`,
			`{"workspace_list":[{"id":1,"table_list":[{"name":"x","uuid":`+v+`}]}]}`,
			`{"workspace_list":[{"id":1,"table_list":[{"uuid":`+v)
	}
	ids := []string{`1`, `1000000`, `0`, `01`, `-1`, `-0`, `1e5`, `1E5`, `1.5`, `1.0`, `123456789012345678`, `1234567890123456789`,
		`12345678901234567890123`, `1 `, `"7"`, `true`, `null`, `1x`}
	for _, v := range ids {
		for _, member := range []string{"id", "workspace_id"} {
			bodies = append(bodies,
				`{"workspace_list":[{"id":1,"table_list":[{"uuid":"`+u+`","`+member+`":`+v+`}]}]}`,
				`{"workspace_list":[{"id":1,"table_list":[{"`+member+`":`+v+`,"uuid":"`+u+`"}]}]}`,
				`{"workspace_list":[{"id":1,"table_list":[{"uuid":"`+u+`","`+member+`":`+v)
		}
	}
	flags := []string{`true`, `false`, `true `, `false `, `truex`, `TRUE`, `True`, `1`, `0`, `"true"`, `"1"`, `null`, `tru`, `fals`}
	for _, v := range flags {
		for _, member := range []string{"starred", "in_storage", "is_encrypted"} {
			bodies = append(bodies,
				`{"workspace_list":[{"id":1,"table_list":[{"uuid":"`+u+`","`+member+`":`+v+`}]}]}`,
				`{"workspace_list":[{"id":1,"table_list":[{"`+member+`":`+v+`,"uuid":"`+u+`"}]}]}`,
				`{"workspace_list":[{"id":1,"table_list":[{"`+member+`":`+v+`]}]}`,
				`{"workspace_list":[{"id":1,"table_list":[{"uuid":"`+u+`","`+member+`":`+v)
		}
	}
	for _, body := range bodies {
		if d := sameDecoding([]byte(body)); d != "" {
			t.Errorf("%s: %s", body, d)
		}
	}
}

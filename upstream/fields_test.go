package upstream

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// fieldBits are the Fields bits by the names DTable's tags use.
var fieldBits = map[string]Fields{
	"FieldCreatedAt": FieldCreatedAt, "FieldUpdatedAt": FieldUpdatedAt, "FieldCreator": FieldCreator,
	"FieldModifier": FieldModifier, "FieldColor": FieldColor, "FieldTextColor": FieldTextColor,
	"FieldIcon": FieldIcon, "FieldIsEncrypted": FieldIsEncrypted, "FieldInStorage": FieldInStorage,
	"FieldShare": FieldShare,
}

// clearUnasked clears in d the optional fields not in f, as DTable's tags
// assign them to bits: what a decode with f must leave out, and all it may
// leave out.
func clearUnasked(d *DTable, f Fields) {
	v := reflect.ValueOf(d).Elem()
	for i := range v.NumField() {
		if bit := fieldBits[v.Type().Field(i).Tag.Get("fields")]; bit != 0 && f&bit == 0 {
			v.Field(i).SetZero()
		}
	}
}

// TestEveryOptionalBaseFieldNamesItsBit: a DTable field a read may leave
// out (a pointer) says which Fields bit brings it, so that the decoder
// tests below know what each read must decode.
func TestEveryOptionalBaseFieldNamesItsBit(t *testing.T) {
	typ := reflect.TypeFor[DTable]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag, tagged := f.Tag.Lookup("fields")
		switch {
		case f.Type.Kind() == reflect.Pointer && fieldBits[tag] == 0:
			t.Errorf("DTable.%s: an optional field needs a fields:\"Field…\" tag naming its bit (got %q)", f.Name, tag)
		case f.Type.Kind() != reflect.Pointer && tagged:
			t.Errorf("DTable.%s: always decoded, but tagged %q", f.Name, tag)
		}
	}
}

// TestDecodeWithFieldsLeavesOutOnlyWhatWasNotAsked decodes every fixture
// with each single field, with none and with all, and compares with the
// full decode with the unasked fields cleared.
func TestDecodeWithFieldsLeavesOutOnlyWhatWasNotAsked(t *testing.T) {
	bodies := map[string][]byte{"generated": fakeseatable.Generate(3, 2)}
	for _, name := range []string{fakeseatable.Seed, fakeseatable.Era2020, fakeseatable.Typed, fakeseatable.Current, fakeseatable.CurrentNoDetail, fakeseatable.Demo} {
		bodies[name] = fakeseatable.Fixture(name)
	}
	masks := []Fields{0, AllFields}
	for bit := Fields(1); bit <= FieldShare; bit <<= 1 {
		masks = append(masks, bit, AllFields&^bit)
	}
	for name, body := range bodies {
		for _, f := range masks {
			want, err := DecodeWorkspaceListBytes(append([]byte(nil), body...))
			if err != nil {
				t.Fatal(err)
			}
			for _, ws := range want.Workspaces {
				for _, list := range [][]*DTable{ws.Tables, ws.GroupSharedTables, ws.GroupSharedViews} {
					for _, d := range list {
						clearUnasked(d, f)
					}
				}
			}
			got, err := decodeWorkspaceList(append([]byte(nil), body...), f)
			if err != nil {
				t.Fatal(err)
			}
			if got.Fields != f {
				t.Errorf("%s: list says fields %b, decoded with %b", name, got.Fields, f)
			}
			w, _ := json.Marshal(want)
			g, _ := json.Marshal(got)
			if string(w) != string(g) {
				t.Errorf("%s with fields %b:\nwant %s\ngot  %s", name, f, w, g)
			}
		}
	}
}

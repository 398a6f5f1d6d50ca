package upstream

import (
	"encoding/json"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// clearUnasked clears in d the optional fields not in f: what a decode
// with f must leave out, and all it may leave out.
func clearUnasked(d *DTable, f Fields) {
	clearIf := func(bit Fields, clear func()) {
		if f&bit == 0 {
			clear()
		}
	}
	clearIf(FieldCreatedAt, func() { d.CreatedAt = nil })
	clearIf(FieldUpdatedAt, func() { d.UpdatedAt = nil })
	clearIf(FieldCreator, func() { d.Creator = nil })
	clearIf(FieldModifier, func() { d.Modifier = nil })
	clearIf(FieldColor, func() { d.Color = nil })
	clearIf(FieldTextColor, func() { d.TextColor = nil })
	clearIf(FieldIcon, func() { d.Icon = nil })
	clearIf(FieldIsEncrypted, func() { d.IsEncrypted = nil })
	clearIf(FieldInStorage, func() { d.InStorage = nil })
	clearIf(FieldShare, func() {
		d.Permission, d.FromUser, d.FromUserName, d.FromUserAvatar = nil, nil, nil, nil
		d.FromGroupID, d.FromGroupName, d.ShareID, d.ShareType, d.ViewShareID, d.SharedName = nil, nil, nil, nil, nil, nil
	})
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

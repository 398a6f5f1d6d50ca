package upstream_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/upstream"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current decoder")

// oddBodies are responses that stress the decoder's tolerance. Their decoded
// form is pinned in testdata/odd.golden.json, written by the original
// encoding/json-based decoder, so that any faster decoder must read every
// one of them exactly the same way.
var oddBodies = []struct{ name, body string }{
	{"empty list", `{"workspace_list":[]}`},
	{"null list", `{"workspace_list":null}`},
	{"missing list", `{"other":1}`},
	{"list is object", `{"workspace_list":{"id":1}}`},
	{"list is string", `{"workspace_list":"x"}`},
	{"top-level array", `[{"id":1}]`},
	{"top-level null", `null`},
	{"top-level string", `"workspace_list"`},
	{"top-level number", `42`},
	{"empty body", ``},
	{"whitespace body", " \n\t "},
	{"truncated", `{"workspace_list": [`},
	{"trailing object", `{"workspace_list":[]} {"x":1}`},
	{"trailing garbage", `{"workspace_list":[]}x`},
	{"trailing whitespace", "{\"workspace_list\":[]}\n\r\t "},
	{"bad literal", `{"workspace_list":[{"id":tru}]}`},
	{"bad number", `{"workspace_list":[{"id":01}]}`},
	{"bad number in ignored field", `{"workspace_list":[],"x":-}`},
	{"bad escape", `{"workspace_list":[{"name":"a\qb"}]}`},
	{"control char in string", "{\"workspace_list\":[{\"name\":\"a\x01b\"}]}"},
	{"missing comma", `{"workspace_list":[{"id":1 "name":"x"}]}`},
	{"trailing comma", `{"workspace_list":[{"id":1},]}`},
	{"unquoted key", `{"workspace_list":[{id:1}]}`},
	{"BOM", "\ufeff{\"workspace_list\":[]}"},
	{"stray entries", `{"workspace_list":[null,"x",1,true,[],{"id":3,"name":"ok"},{}]}`},
	{"ids of every type", `{"workspace_list":[{"id":5},{"id":"6"},{"id":7.0},{"id":7.5},{"id":"x"},{"id":null},{"id":true},{"id":{}},{"id":[]},{"id":-3},{"id":1e2},{"id":" 8 "},{"id":99999999999999999999}]}`},
	{"names", `{"workspace_list":[{"id":1,"name":"caf\u00e9 \"q\" \\ \/ \ud83d\ude00 \n"},{"id":2,"owner_name":"Ow"},{"id":3,"name":"","owner_name":"Fallback"},{"id":4,"name":null,"owner_name":5},{"id":5,"name":"Ünïcødé ✓ 漢字"},{"id":6,"name":"bad \udc00 surrogate"}]}`},
	{"invalid utf8", "{\"workspace_list\":[{\"id\":1,\"name\":\"a\xff\xfeb\"}]}"},
	{"types", `{"workspace_list":[{"id":1,"type":"PERSONAL"},{"id":2,"type":" group "},{"id":3,"owner_type":"Group"},{"id":4,"type":"weird","owner_type":"Personal"},{"id":"","type":"starred"},{"id":"","type":"shared","shared_table_list":[{"uuid":"11111111222243338444555555555555","workspace_id":9,"name":"S"}],"table_list":[{"uuid":"21111111222243338444555555555555","name":"ignored"}]}]}`},
	{"group fields", `{"workspace_list":[{"id":1,"type":"group","group_id":"5","group_owner":"o@x","group_admins":["a",1,null,{},"b"],"group_member_count":"12","is_admin":"true","department_id":3},{"id":2,"group_id":5.0,"group_admins":"x","group_member_count":12.5,"is_admin":1,"department_id":"x"},{"id":3,"group_admins":null,"group_member_count":"x","is_admin":"no"},{"id":4,"group_admins":[],"is_admin":"FALSE","group_member_count":-2}]}`},
	{"bools", `{"workspace_list":[{"id":1,"table_list":[{"uuid":"11111111-2222-4333-8444-000000000001","starred":"1","is_encrypted":0,"in_storage":"True"},{"uuid":"11111111-2222-4333-8444-000000000002","starred":"yes","is_encrypted":null,"in_storage":[]},{"uuid":"11111111-2222-4333-8444-000000000003","starred":" true ","is_encrypted":"\u0074rue"}]}]}`},
	{"uuids", `{"workspace_list":[{"id":1,"table_list":[{"uuid":"ABCDEF01-2345-4789-8BCD-EF0123456789","name":"upper"},{"uuid":"abcdef0123454789abcdef0123456789","name":"32"},{"uuid":"{abcdef01-2345-4789-8bcd-ef0123456789}","name":"braces"},{"uuid":"not-a-uuid","name":"dropped"},{"uuid":"","name":"dropped"},{"name":"no uuid"},{"uuid":12345,"name":"numeric"},{"uuid":" abcdef01-2345-4789-8bcd-ef012345678a ","name":"spaces"},{"uuid":"abcdef012-345-4789-8bcd-ef0123456789","name":"dash misplaced"}]}]}`},
	{"timestamps", `{"workspace_list":[{"id":1,"table_list":[
		{"uuid":"11111111-2222-4333-8444-000000000001","created_at":"2020-05-12T09:15:02+08:00","updated_at":"2026-03-06T10:25:09.123456+01:00"},
		{"uuid":"11111111-2222-4333-8444-000000000002","created_at":"2020-05-12T09:15:02","updated_at":"2020-05-12 09:15:02"},
		{"uuid":"11111111-2222-4333-8444-000000000003","created_at":"2020-05-12 09:15:02+02:00","updated_at":"2020-05-12T09:15:02.5"},
		{"uuid":"11111111-2222-4333-8444-000000000004","created_at":"","updated_at":null},
		{"uuid":"11111111-2222-4333-8444-000000000005","created_at":"yesterday","updated_at":1589246102},
		{"uuid":"11111111-2222-4333-8444-000000000006","created_at":"2020-05-12T09:15:02Z","updated_at":" 2020-05-12T09:15:02Z "}]}]}`},
	{"lists of every shape", `{"workspace_list":[{"id":1,"table_list":null,"folders":"x","shared_view_list":{},"group_shared_dtables":[null,"s",{"uuid":"11111111-2222-4333-8444-000000000009","name":"gs","starred":true,"dtable_share_id":4}],"group_shared_views":[{"uuid":"11111111-2222-4333-8444-00000000000a","view_share_id":3,"shared_name":"v"}],"share_folders":[{"id":2,"name":"sf","username":"u"},7]}]}`},
	{"folders and views", `{"workspace_list":[{"id":1,"folders":[{"id":3,"name":"F","workspace_id":1,"items":[{"folder_id":3,"item_type":"dtable","item_id":"ABCDEF0123454789ABCDEF0123456789"},{"item_type":"view","item_id":"xyz"},null,"x"]},{"id":"4","items":null}],"shared_view_list":[{"id":3,"dtable_name":"Roadmap","workspace_id":17,"from_user":"a","to_user":"b","permission":"r","table_id":"0000","view_id":"Xy12","shared_name":"Q3","color":null,"icon":"i","share_id":9,"share_type":"view-share"},{"id":"","workspace_id":""}]}]}`},
	{"starred everywhere", `{"starred_dtable_list":[{"uuid":"11111111222243338444000000000002"},"x",null],"workspace_list":[{"id":"","type":"starred","table_list":[{"uuid":"11111111-2222-4333-8444-000000000001","workspace_id":1}]},{"id":1,"type":"personal","table_list":[{"uuid":"11111111-2222-4333-8444-000000000001"},{"uuid":"11111111-2222-4333-8444-000000000002"},{"uuid":"11111111-2222-4333-8444-000000000003","starred":true}],"group_shared_views":[{"uuid":"11111111-2222-4333-8444-000000000003"}]}]}`},
	{"starred list not an array", `{"starred_dtable_list":{"uuid":"x"},"workspace_list":[{"id":1}]}`},
	{"unknown fields deep", `{"meta":{"a":[1,{"b":[true,false,null,"\u0041"]}],"c":-0.5e+10},"workspace_list":[{"id":1,"extra":{"x":[[[]]]},"table_list":[{"uuid":"11111111-2222-4333-8444-000000000001","nested":{"uuid":"11111111-2222-4333-8444-000000000002"},"name":"n"}]}],"z":[]}`},
	{"duplicate keys", `{"workspace_list":[{"id":1},{"id":2}],"workspace_list":[{"id":3,"name":"a","name":"b","name":{},"table_list":[{"uuid":"11111111-2222-4333-8444-000000000001"}],"table_list":[]}]}`},
	{"key case", `{"WORKSPACE_LIST":[{"ID":4,"Name":"upper keys","Table_List":[{"UUID":"11111111-2222-4333-8444-000000000001","NAME":"n"}]}]}`},
	{"escaped keys", `{"workspace\u005flist":[{"\u0069d":4,"n\u0061me":"escaped keys"}]}`},
	{"share fields", `{"workspace_list":[{"id":"","type":"shared","shared_table_list":[{"uuid":"11111111-2222-4333-8444-000000000001","share_id":null,"dtable_share_id":8,"from_user":"u","from_user_name":"U","from_user_avatar":"a","from_group_id":3,"from_group_name":"G","permission":"rw","share_type":"dtable-share","creator":"c","modifier":"m","color":"#fff","text_color":"#000","icon":"i","id":"77","view_share_id":2,"shared_name":"sn"}]}]}`},
	{"numbers as strings", `{"workspace_list":[{"id":1,"name":12,"owner_name":-1.5e3,"repo_id":0,"group_owner":1E5}]}`},
	{"deep nesting in ignored field", `{"x":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `,"workspace_list":[]}`},
	{"whitespace everywhere", " { \"workspace_list\" : [ { \"id\" : 1 , \"name\" : \"w\" , \"table_list\" : [ { \"uuid\" : \"11111111-2222-4333-8444-000000000001\" } ] } ] } "},
}

type goldenResult struct {
	Error        bool                    `json:"error,omitempty"`
	UnknownShape bool                    `json:"unknownShape,omitempty"`
	List         *upstream.WorkspaceList `json:"list,omitempty"`
}

func decodeForGolden(body []byte) goldenResult {
	list, err := upstream.DecodeWorkspaceListBytes(body)
	if err != nil {
		return goldenResult{Error: true, UnknownShape: errors.Is(err, upstream.ErrUnknownShape)}
	}
	if list.BodyBytes != len(body) {
		panic(fmt.Sprintf("BodyBytes = %d, want %d", list.BodyBytes, len(body)))
	}
	return goldenResult{List: list}
}

func checkGolden(t *testing.T, name string, got any) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./upstream -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s: decoded form differs from %s:\n%s", name, path, firstDiff(string(want), string(b)))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d: want %s\n         got  %s", i+1, w, g)
		}
	}
	return ""
}

// TestDecodeFixtures pins the decoded form of each response generation.
func TestDecodeFixtures(t *testing.T) {
	for _, name := range []string{fakeseatable.Seed, fakeseatable.Era2020, fakeseatable.Typed,
		fakeseatable.Current, fakeseatable.CurrentNoDetail, fakeseatable.Demo} {
		t.Run(name, func(t *testing.T) {
			r := decodeForGolden(fakeseatable.Fixture(name))
			if r.Error {
				t.Fatalf("fixture %s failed to decode", name)
			}
			checkGolden(t, "fixture-"+name, r)
		})
	}
	t.Run("generated", func(t *testing.T) {
		checkGolden(t, "generated-3x2", decodeForGolden(fakeseatable.Generate(3, 2)))
	})
}

// TestDecodeOddBodies pins how every odd body decodes (or fails).
func TestDecodeOddBodies(t *testing.T) {
	got := map[string]goldenResult{}
	for _, c := range oddBodies {
		if _, dup := got[c.name]; dup {
			t.Fatalf("duplicate case %q", c.name)
		}
		got[c.name] = decodeForGolden([]byte(c.body))
	}
	checkGolden(t, "odd", got)
}

// TestDecodeLargeDataset checks that the large generated dataset
// decodes completely: every workspace and base arrives.
func TestDecodeLargeDataset(t *testing.T) {
	list, err := upstream.DecodeWorkspaceListBytes(fakeseatable.Generate(500, 50))
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Workspaces) != 502 {
		t.Fatalf("%d workspaces, want 502", len(list.Workspaces))
	}
	bases := 0
	for _, ws := range list.Workspaces {
		bases += len(ws.Tables)
	}
	if bases != 500*50+1 {
		t.Fatalf("%d bases, want %d", bases, 500*50+1)
	}
}
